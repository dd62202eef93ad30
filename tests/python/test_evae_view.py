"""The live view of `evoae evae --view` (viewer/evae.py): a frame's pixels and labels on
hand-worked cases, the window under SDL's dummy driver (q stops the run), and a run watched
giving the same report as one not watched."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # as test_viewer.py: no display needed

from evoae import data  # noqa: E402
from evoae.cli.main import main  # noqa: E402
from evoae.run import Every, Progress  # noqa: E402
from evoae.systems.evae import METHODS, EvaeRun  # noqa: E402
from evoae.viewer.draw import BACKGROUND, INK  # noqa: E402
from evoae.viewer.evae import (CELL, COLUMNS, HEADER, KL_STEPS, LABEL, EvaeViewer,  # noqa: E402
                               evae_frame, method_numbers,
                               row_labels)

TINY = dict(steps=12, hidden=8, latent=2, population=3, evolve_every=4, batch=8)


@pytest.fixture(scope="module")
def digits():
    return data.ten_digits().astype(np.float32) / 255.0


def test_frame_hand_worked():
    samples = np.zeros((6, COLUMNS, 28, 28), np.float32)
    samples[2, 3] = 1.0  # a white image: row 2, column 3
    samples[5, 7, 0, 0] = 0.5  # one grey pixel, scaled to 2x2
    labels = [(m, "beta 1 KL 2") for m in METHODS]
    frame = evae_frame(samples, labels, "title")
    assert frame.shape == (HEADER + 6 * CELL, LABEL + COLUMNS * CELL, 3)
    pad = (CELL - 56) // 2
    y, x = HEADER + 2 * CELL + pad, LABEL + 3 * CELL + pad
    assert (frame[y:y + 56, x:x + 56] == 255).all()
    assert (frame[y - 1, x:x + 56] == BACKGROUND).all()  # the padding around it
    y, x = HEADER + 5 * CELL + pad, LABEL + 7 * CELL + pad
    assert (frame[y:y + 2, x:x + 2] == 128).all()  # round(0.5 x 255)
    assert (frame[y + 2:y + 56, x:x + 56] == 0).sum() == 54 * 56 * 3
    for r in range(6):  # each row's method name in ink in the label column
        row = frame[HEADER + r * CELL: HEADER + (r + 1) * CELL, :LABEL]
        assert (row == INK).all(axis=2).any()
    with pytest.raises(ValueError, match="one label per row"):
        evae_frame(samples, labels[:5], "title")
    with pytest.raises(ValueError, match=f"rows, {COLUMNS}"):
        evae_frame(np.zeros((6, COLUMNS, 31, 28), np.float32), labels, "title")


def test_method_numbers_hand_worked(digits):
    run = EvaeRun(digits, **dict(TINY, evolve_every=2, population=5))
    assert all(math.isnan(kl) for _, kl in method_numbers(run).values())
    run.run(generations=9)
    numbers = method_numbers(run)
    assert list(numbers) == list(METHODS)
    kl = np.array(run.kl_history, dtype=np.float64)
    assert len(kl) == 9 < KL_STEPS  # all the steps so far
    assert numbers["vae"] == (1.0, pytest.approx(kl[:, 0].mean(), rel=1e-12))  # lane 0
    assert numbers["beta-vae"] == (4.0, pytest.approx(kl[:, 1].mean(), rel=1e-12))
    leaders = run.offset + np.array(run.leader_history)
    assert len(set(leaders)) > 1  # the KL follows the leader of each step
    assert numbers["evae"] == (pytest.approx(10.0 ** run.log_betas[run.leader]),
                               pytest.approx(kl[np.arange(9), leaders].mean(), rel=1e-12))
    assert numbers["control"][0] == run.controller.beta
    beta, mean = numbers["annealing"]
    assert dict(row_labels(run))["annealing"] == f"beta {beta:.3g} KL {mean:.1f}"


def test_live_view_draws_and_q_stops(digits):
    viewer = EvaeViewer(TINY["latent"])
    if viewer.window is None:
        pytest.skip("no SDL library")
    try:
        run = EvaeRun(digits, **TINY)
        run.run(generations=3)
        draw = viewer.callback(run, 0)
        progress = Progress(3, 1.0, 0.5, 0.0, 0.0, "KL")
        assert draw(progress) is False
        viewer.window.push_key("q")
        assert draw(progress) is True and viewer.closed
    finally:
        viewer.close()


def test_watched_run_same_as_unwatched(digits):
    viewer = EvaeViewer(TINY["latent"])
    if viewer.window is None:
        pytest.skip("no SDL library")
    runs = [EvaeRun(digits, **TINY) for _ in range(2)]
    frames = []

    def watch(progress):  # a frame after every step
        frames.append(progress.generation)
        return draw(progress)
    try:
        draw = viewer.callback(runs[1], 0)
        runs[0].run()
        runs[1].run(callback=watch, every=[Every(1, lambda: None)])
    finally:
        viewer.close()
    assert frames == list(range(1, TINY["steps"] + 1))
    np.testing.assert_array_equal(runs[0]._pop.genomes(), runs[1]._pop.genomes())
    np.testing.assert_array_equal(runs[0].kl_history, runs[1].kl_history)


def test_quit_in_the_window_stops_the_command(tmp_path, monkeypatch):
    opened = EvaeViewer.__init__

    def open_and_press_q(self, latent):
        opened(self, latent)
        if self.window is None:
            pytest.skip("no SDL library")
        self.window.push_key("q")

    monkeypatch.setattr(EvaeViewer, "__init__", open_and_press_q)
    out = tmp_path / "out"
    args = ["evae", "--out", str(out), "--quiet", "--view", "--seeds", "2"]
    for name, value in TINY.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    assert main(args) == 130  # as after Ctrl-C: the second seed never starts
    assert json.loads((out / "report.json").read_text())["seeds"] == [0]
