"""Bad input and faults (issue 10): shapes that overflow, stop conditions that never hold,
settings beyond what the core can hold or allocate, output folders that cannot be written,
a missing scikit-learn. Each is refused at once with a ValueError (or a one-line CLI error,
exit status 2) that names the problem: never a crash, a hang or work that is then lost."""
import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import evoae
from test_cli import check_error, evoae_cli


# -- item 1: shapes that overflow int or leave nothing ----------------------------------------
def test_thirty_unpools_are_refused_by_the_builder():
    net = evoae.Network(28, 28)
    with pytest.raises(ValueError, match=r"^unpool\(\): the output would be \d+x\d+x1, more "
                                         r"than 16777216 values"):
        for _ in range(30):
            net.unpool()
    assert all(size > 0 for size in net.output_shape)  # the refused call added nothing


def test_channels_that_wrap_to_zero_are_refused():
    with pytest.raises(ValueError, match=r"conv\(1, 1, 65536\): the output would be "
                                         r"1x1x4294967296"):
        evoae.Network(1, 1).conv(1, 1, 65536).conv(1, 1, 65536)
    with pytest.raises(ValueError, match=r"conv\(1, 1, 65536\)"):
        evoae.Network(28, 28).conv(1, 1, 65536).conv(1, 1, 65536)


@pytest.mark.parametrize("build, call", [
    (lambda: evoae.Network(2, 1).conv_transpose(2**31 - 1, 1, 1), "conv_transpose"),
    (lambda: evoae.Network(4, 4).reshape(2**21, 2**21, 2**22), "reshape"),
    (lambda: evoae.Network(4096, 4096).dense(256), "dense"),  # a genome of 2^32 weights
    (lambda: evoae.Network(28, 28).dense(2**40), "dense"),  # beyond int: still a ValueError
    (lambda: evoae.Network(2**64, 1), "Network"),
], ids=["height-overflow", "reshape-wraps", "genome", "units-beyond-int", "input-beyond-int"])
def test_sizes_beyond_the_limits_are_value_errors(build, call):
    with pytest.raises(ValueError, match=f"^{call}"):
        build()


def test_checkpoint_with_an_overflowing_network_fails_at_load(tmp_path):
    # A checkpoint (with a valid checksum) written by a build that accepted 30 unpools: its
    # network no longer builds, so loading refuses it instead of segfaulting on step().
    from evoae.io.archive import read_archive, write_archive
    from evoae.io.checkpoint import KIND

    images = evoae.data.scale(evoae.data.ten_digits()[:1])
    net = evoae.Network(28, 28).dense(4).dense(784).reshape(28, 28, 1)
    path = tmp_path / "checkpoint.npz"
    evoae.Evolution(net, images, population=2).save(path)
    meta, arrays = read_archive(path, KIND)
    calls = json.loads(meta["network"])
    meta["network"] = json.dumps(calls[:1] + [["unpool"]] * 30 + calls[1:])
    write_archive(path, KIND, meta, arrays)
    with pytest.raises(ValueError, match=r"unpool\(\): the output would be"):
        evoae.Evolution.load(path)


# -- item 2: stop conditions that can never hold ----------------------------------------------
def run_with_deadline(evo, deadline: float = 10.0, **kwargs):
    """evo.run(**kwargs), stopped by a stop event after `deadline` seconds if it still runs:
    returns (the exception it raised or None, seconds it took)."""
    stop = threading.Event()
    timer = threading.Timer(deadline, stop.set)
    timer.start()
    started = time.perf_counter()
    try:
        evo.run(stop_event=stop, **kwargs)
        error = None
    except ValueError as e:
        error = e
    finally:
        timer.cancel()
    return error, time.perf_counter() - started


@pytest.mark.parametrize("kwargs, message", [
    (dict(seconds=float("nan")), "seconds must be >= 0, got nan"),
    (dict(target=float("nan")), "target must be >= 0, got nan"),
    (dict(generations=2.5), "generations must be an integer"),
    (dict(generations=10**20), "generations must be <= "),
    (dict(patience=2**70), "patience must be <= "),
], ids=["nan-seconds", "nan-target", "float-generations", "huge-generations",
        "huge-patience"])
def test_stop_conditions_that_never_hold_are_refused_at_once(net, images, kwargs, message):
    evo = evoae.Evolution(net, images, population=2)
    error, seconds = run_with_deadline(evo, **kwargs)
    assert error is not None and message in str(error), error
    assert seconds < 5 and evo.generation == 0


def test_infinite_seconds_alone_is_refused_not_run_forever():
    # In a child process: before the fix this ran until killed.
    script = ("import evoae\n"
              "evo = evoae.Evolution(evoae.varadi_network(), "
              "evoae.data.scale(evoae.data.ten_digits()[:2]), population=2)\n"
              "evo.run(seconds=float('inf'))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and "ValueError" in done.stderr
    assert "or it never stops" in done.stderr


def test_infinite_seconds_is_no_limit(net, images):
    evo = evoae.Evolution(net, images, population=2)
    evo.run(generations=3, seconds=float("inf"))
    assert evo.generation == 3 and evo.stop_reason == "generations"


# -- items 3 and 14: settings beyond what the core holds or can allocate ----------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(seed=2**64), "seed must be >= 0 and <= 9223372036854775807, got 18446744073709551616"),
    (dict(seed=2**63), "seed must be >= 0 and <= 9223372036854775807"),
    (dict(population=10**10), "population must be >= 1 and <= 10000000, got 10000000000"),
    (dict(population=10**7), "population 10000000 x 1397 parameters"),
    (dict(mutations=10**8), "mutations must be >= 0 and <= 10000000, got 100000000"),
    (dict(mutations=13971), "mutations must be <= 10 x the network's 1397 parameters"),
    (dict(elites=2**40), "elites must be >= 0 and <= 10000000"),
    (dict(batch=3_000_000_000), "batch must be >= 1 and <= 2147483647, got 3000000000"),
    (dict(threads=5000), "threads must be >= 1 and <= 1024, got 5000"),
    (dict(sigma=10**400), "sigma must be finite"),
    (dict(schedule_generations=2**80, step_control="schedule"),
     "schedule_generations must be >= 1 and <= 2147483647"),
], ids=lambda v: next(iter(v)) if isinstance(v, dict) else None)
def test_huge_settings_are_value_errors(net, images, kwargs, message):
    started = time.perf_counter()
    with pytest.raises(ValueError) as info:
        evoae.Evolution(net, images, **kwargs)
    assert message in str(info.value)
    assert len(str(info.value)) < 300  # one line, no array in it
    assert time.perf_counter() - started < 5  # refused, not attempted


def test_memory_error_names_population_and_parameters(net, images):
    with pytest.raises(ValueError, match=r"population 2000000 x 1397 parameters on \d+ threads "
                                         r"needs [\d.]+ GiB .* more than the limit of 8.0 GiB"):
        evoae.Evolution(net, images, population=2_000_000)
    evoae.Evolution(net, images, population=1000, mutations=13970)  # within every limit


@pytest.mark.parametrize("option, value, bound", [
    ("--seed", str(2**64), "from 0 to 9223372036854775807"),
    ("--population", str(10**10), "from 1 to 10000000"),
    ("--elites", str(10**11), "from 0 to 10000000"),
    ("--batch", "3000000000", "from 1 to 2147483647"),
    ("--generations", "1e20", "from 0 to 4611686018427387904"),
    ("--generations", str(10**20), "from 0 to 4611686018427387904"),
    ("--mutations", "100000000", "from 0 to 10000000"),
    ("--threads", "100000", "from 1 to 1024"),
])
def test_cli_huge_numbers_are_one_line_errors(tmp_path, option, value, bound):
    done = evoae_cli("run", option, value, "--generations", "1", "--out", tmp_path / "o") \
        if option != "--generations" else evoae_cli("run", option, value, "--out", tmp_path / "o")
    line = check_error(done, option, value, bound)
    assert len(line) < 200


@pytest.mark.parametrize("args, words", [
    (["--population", "3000000"], ["population 3000000 x 1397 parameters", "8.0 GiB"]),
    (["--mutations", "20000"], ["mutations must be <= 10 x the network's 1397 parameters",
                                "20000"]),
])
def test_cli_resource_limits_are_one_line_errors(tmp_path, args, words):
    check_error(evoae_cli("run", *args, "--generations", "1", "--out", tmp_path), *words)
    assert not (tmp_path / "result.npz").exists()


# -- item 9: an output folder that cannot be written ------------------------------------------
def test_out_not_creatable_is_refused_before_any_work(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    started = time.perf_counter()
    done = evoae_cli("run", "--generations", "100000000", "--out", blocker / "out", timeout=60)
    check_error(done, "--out", str(blocker / "out"), "cannot write there")
    assert time.perf_counter() - started < 30


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_out_existing_but_unwritable_is_refused_before_any_work(tmp_path):
    # /proc/self exists and refuses new files even to root: a read-only --out that is there.
    done = evoae_cli("run", "--generations", "100000000", "--out", "/proc/self", timeout=60)
    check_error(done, "--out /proc/self", "cannot write there")


def test_out_read_only_folder_is_refused(tmp_path):
    import os

    out = tmp_path / "read-only"
    out.mkdir()
    out.chmod(0o500)
    try:
        if os.access(out, os.W_OK):
            pytest.skip("this user may write anywhere (root)")
        done = evoae_cli("run", "--generations", "100000000", "--out", out, timeout=60)
        check_error(done, "--out", "cannot write there")
    finally:
        out.chmod(0o700)


def test_record_folder_not_creatable_is_refused(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    done = evoae_cli("run", "--generations", "100000000", "--out", tmp_path / "out",
                     "--record", blocker / "frames", timeout=60)
    check_error(done, "--record", "cannot write there")


# -- item 10: `evoae tied` without scikit-learn ----------------------------------------------
def test_tied_without_scikit_learn_fails_before_training(tmp_path, monkeypatch, capsys):
    from evoae import cli
    from evoae.cli import tied as tied_cli

    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # `import sklearn` raises ImportError

    def never(*args, **kwargs):
        raise AssertionError("training started without scikit-learn")

    monkeypatch.setattr(tied_cli, "train_layerwise", never)
    missing = tmp_path / "no-such-images.gz"
    code = cli.main(["tied", "--quick", "--data", str(missing), "--labels", str(missing),
                     "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "scikit-learn" in lines[0] and "pip install" in lines[0], err
