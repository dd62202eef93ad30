"""Evaluations per second with and without the live window, in one run:

    python -m evoae.viewer.measure --seconds 5 --rounds 3

One Evolution (the paper's network on the ten digits) runs alternately without the viewer
(Evolution.run) and with it (evoae.viewer.watch, window open and drawing), for the same
number of seconds each time, the order swapped every round; the evaluation cost does not
change as evolution goes on, so the rates compare directly. The median of the rounds'
ratios resists other load on the machine; evaluations per CPU second of the process (the
window's drawing included) measure the window's cost even on a busy machine. Needs a
display (or SDL_VIDEODRIVER=dummy, or Xvfb).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import evoae

from .live import watch


def measure(seconds: float, rounds: int, population: int, mutations: int,
            threads: int | None, software: bool) -> dict:
    images = evoae.data.scale(evoae.data.ten_digits())
    evo = evoae.Evolution(evoae.varadi_network(), images, population=population,
                          mutations=mutations, seed=0, threads=threads)
    evo.run(seconds=min(1.0, seconds))  # warm up: threads started, caches filled
    plain, viewed, drawn, cpu, window = [], [], [], [], []
    per_cpu_plain, per_cpu_viewed = [], []  # evaluations per CPU second of the process

    def without() -> None:
        cpu0, evals0 = time.process_time(), evo.evaluations
        plain.append(evo.run(seconds=seconds).evals_per_second)
        per_cpu_plain.append((evo.evaluations - evals0) / (time.process_time() - cpu0))

    def with_window() -> None:
        frames = []
        began = time.thread_time()

        def on_step(v) -> None:
            frames[:] = [v.frames_drawn]
            window[:] = [v.window.description]

        cpu0, evals0 = time.process_time(), evo.evaluations
        p = watch(evo, seconds=seconds, software=software, on_step=on_step)
        per_cpu_viewed.append((evo.evaluations - evals0) / (time.process_time() - cpu0))
        if not frames:
            raise SystemExit("no window could be opened: nothing to compare")
        cpu.append((time.thread_time() - began) / p.elapsed)
        viewed.append(p.evals_per_second)
        drawn.append(frames[0] / p.elapsed)

    for r in range(rounds):  # alternate the order, so that a drift in load cancels out
        for phase in ((without, with_window) if r % 2 == 0 else (with_window, without)):
            phase()
    ratios = [b / a for a, b in zip(plain, viewed)]
    cpu_ratios = [b / a for a, b in zip(per_cpu_plain, per_cpu_viewed)]
    return {"seconds_per_phase": seconds, "rounds": rounds, "population": population,
            "mutations": mutations, "generations_done": evo.generation,
            "window": window[0] if window else None,
            "evals_per_second_without_window": plain, "evals_per_second_with_window": viewed,
            "frames_drawn_per_second": drawn, "window_thread_cpu_share": cpu,
            "median_without": statistics.median(plain),
            "median_with": statistics.median(viewed),
            "median_ratio": statistics.median(ratios),
            "evals_per_cpu_second_without_window": per_cpu_plain,
            "evals_per_cpu_second_with_window": per_cpu_viewed,
            "median_cpu_ratio": statistics.median(cpu_ratios)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evoae.viewer.measure",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per phase")
    parser.add_argument("--rounds", type=int, default=3, help="pairs of phases")
    parser.add_argument("--population", type=int, default=20)
    parser.add_argument("--mutations", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--software", action="store_true", help="SDL's software renderer")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)
    r = measure(args.seconds, args.rounds, args.population, args.mutations, args.threads,
                args.software)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        for i, (a, b, f, c) in enumerate(zip(r["evals_per_second_without_window"],
                                             r["evals_per_second_with_window"],
                                             r["frames_drawn_per_second"],
                                             r["window_thread_cpu_share"])):
            print(f"round {i + 1:>2}: without window {a:10,.0f} evals/s   with window "
                  f"{b:10,.0f} evals/s   ratio {b / a:.3f}   ({f:.1f} frames/s drawn, "
                  f"window thread {100 * c:.1f}% of a core)")
        print(f"window: {r['window']}")
        print(f"median:   without window {r['median_without']:10,.0f} evals/s   with window "
              f"{r['median_with']:10,.0f} evals/s   ratio {r['median_ratio']:.3f} "
              "(median of the rounds' ratios)")
        print(f"per CPU second of the process: without window "
              f"{statistics.median(r['evals_per_cpu_second_without_window']):10,.0f} evals   "
              f"with window {statistics.median(r['evals_per_cpu_second_with_window']):10,.0f}"
              f" evals   ratio {r['median_cpu_ratio']:.3f} (what the window costs, whatever "
              "else the machine runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
