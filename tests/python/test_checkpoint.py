"""Checkpoints: a run saved at generation 70 and continued to 120 is bit for bit the run
straight to 120 (from Python and from the CLI), damaged files and other networks are refused
with a clear ValueError, images are checked, and a crash while writing keeps the old file."""
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import evoae
from evoae.io import checkpoint as ckpt


@pytest.fixture(scope="module")
def net():
    return evoae.varadi_network()


@pytest.fixture(scope="module")
def images():
    return evoae.data.scale(evoae.data.ten_digits()[:5])


def assert_same_run(a, b):
    assert a.generation == b.generation
    np.testing.assert_array_equal(a.history, b.history)
    np.testing.assert_array_equal(a.population, b.population)
    np.testing.assert_array_equal(a.errors, b.errors)
    np.testing.assert_array_equal(a.sigmas, b.sigmas)
    assert a.sigma == b.sigma
    assert a.evaluations == b.evaluations
    assert a.settings == b.settings


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(mutation="gaussian", step_control="self-adaptive", selection="truncation", elites=2),
    dict(mutation="gaussian", step_control="one-fifth", selection="tournament",
         crossover="uniform"),
    dict(step_control="schedule", sigma_end=0.05, mutations_end=1, schedule_generations=100,
         fitness="rmse", batch=3),
], ids=["original", "self-adaptive-truncation", "one-fifth-tournament", "schedule-batch"])
def test_resume_at_70_to_120_is_bit_identical(net, images, tmp_path, kwargs):
    straight = evoae.Evolution(net, images, population=8, seed=5, **kwargs)
    straight.run(generations=120)
    first = evoae.Evolution(net, images, population=8, seed=5, **kwargs)
    first.run(generations=70)
    path = tmp_path / "run.ckpt"
    first.save(path)
    resumed = evoae.Evolution.load(path, threads=1)
    assert resumed.generation == 70
    assert_same_run(resumed, first)
    resumed.run(generations=50)
    assert_same_run(resumed, straight)
    np.testing.assert_array_equal(resumed.images, images)
    assert evoae.network_spec(resumed.network) == evoae.network_spec(net)


def test_run_saves_every_n_generations(net, images, tmp_path):
    path = tmp_path / "every.npz"
    evo = evoae.Evolution(net, images, population=5, seed=1)
    saved = []
    original_save = evo.save
    evo.save = lambda p, extra=None: (saved.append(evo.generation), original_save(p, extra))
    evo.run(generations=47, checkpoint=path, checkpoint_every=10, interval=0.001)
    assert saved == [10, 20, 30, 40]
    assert evoae.Evolution.load(path).generation == 40
    with pytest.raises(ValueError, match="together"):
        evo.run(generations=1, checkpoint=path)


def test_extra_is_kept(net, images, tmp_path):
    evo = evoae.Evolution(net, images, population=3)
    evo.save(tmp_path / "c.npz", extra={"note": "hello", "n": 3})
    saved = ckpt.read_checkpoint(tmp_path / "c.npz")
    assert saved.extra == {"note": "hello", "n": 3} and saved.images_stored
    assert saved.state["generation"] == 0 and saved.settings == evo.settings


def test_different_network_refused(images, tmp_path):
    small = evoae.Network(28, 28).conv(5, 5, 1).maxpool().dense(2).dense(784).reshape(28, 28, 1)
    evo = evoae.Evolution(small, images, population=3)
    path = tmp_path / "small.npz"
    evo.save(path)
    with pytest.raises(ValueError, match="different network"):
        evoae.Evolution.load(path, network=evoae.varadi_network())
    loaded = evoae.Evolution.load(path)  # with its own network it loads
    assert loaded.network.num_params == small.num_params
    # and the CLI, which runs the paper's network, refuses it too
    done = subprocess.run([sys.executable, "-m", "evoae.cli", "run", "--resume", path,
                           "--generations", "1", "--out", tmp_path / "o"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "different network" in done.stderr
    assert "Traceback" not in done.stderr


def damaged_copies(path, tmp_path):
    raw = path.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(raw[: len(raw) // 2])
    flipped = tmp_path / "flipped.npz"
    middle = bytearray(raw)
    middle[len(raw) // 2] ^= 0xFF
    flipped.write_bytes(bytes(middle))
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a checkpoint at all" * 10)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    return [truncated, flipped, garbage, empty]


def test_damaged_checkpoint_refused(net, images, tmp_path):
    evo = evoae.Evolution(net, images, population=4)
    evo.run(generations=5)
    path = tmp_path / "good.npz"
    evo.save(path)
    for bad in damaged_copies(path, tmp_path):
        with pytest.raises(ValueError, match="damaged") as e:
            evoae.Evolution.load(bad)
        assert bad.name in str(e.value)
    with pytest.raises(ValueError, match="no such"):
        evoae.Evolution.load(tmp_path / "missing.npz")


def test_tampered_contents_refused_by_checksum(net, images, tmp_path):
    evo = evoae.Evolution(net, images, population=4)
    path = tmp_path / "good.npz"
    evo.save(path)
    # rewrite one array inside a well-formed zip: only the checksum can tell
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["genomes"] = arrays["genomes"].copy()
    arrays["genomes"][0, 0] += 1
    with open(tmp_path / "tampered.npz", "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(ValueError, match="checksum"):
        evoae.Evolution.load(tmp_path / "tampered.npz")


def test_result_file_is_not_a_checkpoint(net, images, tmp_path):
    evo = evoae.Evolution(net, images, population=3)
    evoae.save_result(tmp_path / "result.npz", evo, {})
    with pytest.raises(ValueError, match="result.npz: is an evoae result, not a checkpoint"):
        evoae.Evolution.load(tmp_path / "result.npz")


def test_cli_refuses_damaged_checkpoint(net, images, tmp_path):
    evo = evoae.Evolution(net, images, population=3)
    path = tmp_path / "good.npz"
    evo.save(path)
    bad = damaged_copies(path, tmp_path)[0]
    done = subprocess.run([sys.executable, "-m", "evoae.cli", "run", "--resume", bad,
                           "--generations", "1", "--out", tmp_path / "o"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "damaged" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o" / "result.npz").exists()


def test_images_fingerprint_for_large_data(net, images, tmp_path, monkeypatch):
    monkeypatch.setattr(ckpt, "STORE_IMAGES_MAX_BYTES", 0)  # as if the images were large
    evo = evoae.Evolution(net, images, population=4, seed=2)
    evo.run(generations=10)
    path = tmp_path / "large.npz"
    evo.save(path)
    with np.load(path) as f:
        assert "images" not in f.files
    with pytest.raises(ValueError, match="fingerprint"):
        evoae.Evolution.load(path)
    other = images.copy()
    other[0, 0, 0] += 0.01
    with pytest.raises(ValueError, match="images differ"):
        evoae.Evolution.load(path, images=other)
    with pytest.raises(ValueError, match="images differ"):
        evoae.Evolution.load(path, images=images[:4])
    resumed = evoae.Evolution.load(path, images=images)
    evo.run(generations=5)
    resumed.run(generations=5)
    assert_same_run(resumed, evo)


def test_crash_while_writing_keeps_the_previous_checkpoint(net, images, tmp_path, monkeypatch):
    path = tmp_path / "state.npz"
    evo = evoae.Evolution(net, images, population=4, seed=3)
    evo.run(generations=10)
    evo.save(path)
    before = path.read_bytes()
    evo.run(generations=10)

    def crashing_savez(file, **arrays):  # writes half a file, then the machine "dies"
        file.write(before[: len(before) // 3])
        raise OSError("disk full")

    monkeypatch.setattr(ckpt.np, "savez_compressed", crashing_savez)
    with pytest.raises(OSError, match="disk full"):
        evo.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before  # the old checkpoint is untouched
    assert evoae.Evolution.load(path).generation == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.npz"]  # no temp file left
    # a KeyboardInterrupt in the middle is no different
    monkeypatch.setattr(ckpt.np, "savez_compressed",
                        lambda file, **a: (_ for _ in ()).throw(KeyboardInterrupt("in savez")))
    with pytest.raises(KeyboardInterrupt, match="in savez"):
        evo.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.npz"]


def test_written_by_rename_in_the_same_folder(net, images, tmp_path, monkeypatch):
    path = tmp_path / "renamed.npz"
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((str(src), str(dst)))
        assert zipfile.is_zipfile(src)  # complete before it takes the name
        real_replace(src, dst)

    monkeypatch.setattr(ckpt.os, "replace", spy)
    evoae.Evolution(net, images, population=3).save(path)
    assert len(calls) == 1
    src, dst = calls[0]
    assert dst == str(path) and os.path.dirname(src) == str(tmp_path) and src != dst


def test_cli_resume_equals_one_long_run(tmp_path):
    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "evoae.cli", "run", *map(str, args),
                               "--quiet"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done

    start = ("--seed", "4", "--population", "6", "--mutation", "per-agent")
    cli(*start, "--generations", "70", "--out", tmp_path / "a")
    cli("--resume", tmp_path / "a" / "checkpoint.npz", "--generations", "50",
        "--out", tmp_path / "b")
    cli(*start, "--generations", "120", "--out", tmp_path / "c")
    b = evoae.load_result(tmp_path / "b" / "result.npz")
    c = evoae.load_result(tmp_path / "c" / "result.npz")
    np.testing.assert_array_equal(b.genome, c.genome)
    np.testing.assert_array_equal(b.history, c.history)
    sb = json.loads((tmp_path / "b" / "settings.json").read_text())
    assert sb["generations_done"] == 120 and sb["resumed_from"].endswith("checkpoint.npz")
    assert sb["operators"]["mutation"] == "per-agent"
    ca = evoae.Evolution.load(tmp_path / "b" / "checkpoint.npz")
    cc = evoae.Evolution.load(tmp_path / "c" / "checkpoint.npz")
    assert_same_run(ca, cc)
    # settings on the command line cannot change a resumed run
    done = subprocess.run([sys.executable, "-m", "evoae.cli", "run", "--resume",
                           tmp_path / "a" / "checkpoint.npz", "--population", "9",
                           "--out", tmp_path / "d"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--population" in done.stderr
