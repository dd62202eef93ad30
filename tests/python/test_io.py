"""The one file format (evoae.io.archive): each kind round-trips, every kind of bad file is
refused with a ValueError naming the file and the problem, a crash while writing keeps the
previous file, and evoae.io does not import evoae.evo."""
import ast
import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import evoae
from evoae.cli.main import main
from evoae.io import archive, checkpoint, results
from evoae.systems import tied


@pytest.fixture
def saved(net, images, tmp_path):
    """A checkpoint and a result of a short run, and the run."""
    evo = evoae.Evolution(net, images, population=4, seed=1)
    evo.run(generations=5)
    evo.save(tmp_path / "checkpoint.npz", extra={"note": "x"})
    evoae.save_result(tmp_path / "result.npz", evo, {"seed": 1})
    return evo, tmp_path / "checkpoint.npz", tmp_path / "result.npz"


def small_tied_model() -> tied.TiedAutoencoder:
    sizes, rng = (4, 3, 2), np.random.default_rng(0)
    stages = [tied.StageResult(a, b, rng.uniform(-1, 1, a * b + b + a).astype(np.float32),
                               np.array([0.5, 0.4]), 1, 0.4, 0.0, 1, {})
              for a, b in zip(sizes[:-1], sizes[1:])]
    return tied.TiedAutoencoder(sizes, "relu", "identity", (0.5, 0.5), stages, (2, 2))


# -- round trips -----------------------------------------------------------------------------

def test_archive_round_trip(tmp_path):
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, 2], np.int64),
              "empty": np.zeros((0, 4), np.float64)}
    meta = {"x": 0.1, "nested": {"list": [1, "two", None]}}
    archive.write_archive(tmp_path / "f.npz", "thing", meta, arrays)
    got_meta, got = archive.read_archive(tmp_path / "f.npz", "thing")
    assert got_meta == meta and got.keys() == arrays.keys()
    for name, a in arrays.items():
        assert got[name].dtype == a.dtype
        np.testing.assert_array_equal(got[name], a)
    with np.load(tmp_path / "f.npz") as f:
        stored = json.loads(str(f["meta"]))
    assert (stored["format"], stored["version"], stored["kind"]) == ("evoae", 1, "thing")
    assert stored["evoae"] == evoae.__version__


def test_archive_takes_the_exact_name(tmp_path):
    archive.write_archive(tmp_path / "run.ckpt", "thing", {}, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.ckpt"]  # no ".npz" appended


def test_archive_refuses_what_it_cannot_write(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        archive.write_archive(tmp_path / "f.npz", "thing", {}, {"meta": np.zeros(1)})
    with pytest.raises(ValueError, match="pickle"):
        archive.write_archive(tmp_path / "f.npz", "thing", {}, {"o": np.array([{}, 1])})
    assert list(tmp_path.iterdir()) == []


def test_checkpoint_round_trip(saved):
    evo, path, _ = saved
    data = checkpoint.read_checkpoint(path)
    assert evoae.network_spec(data.network) == evoae.network_spec(evo.network)
    np.testing.assert_array_equal(data.images, evo.images)
    assert data.settings == evo.settings and data.extra == {"note": "x"} and data.images_stored
    state = evo.state()
    assert data.state.keys() == state.keys()
    for key in state:
        np.testing.assert_array_equal(data.state[key], state[key])
    again = evoae.Evolution.restore(data.network, data.images, data.settings, data.state)
    again.run(generations=3)
    evo.run(generations=3)
    np.testing.assert_array_equal(again.population, evo.population)


def test_result_round_trip(saved):
    evo, _, path = saved
    result = evoae.load_result(path)
    assert evoae.network_spec(result.network) == evoae.network_spec(evo.network)
    np.testing.assert_array_equal(result.genome, evo.best_genome)
    np.testing.assert_array_equal(result.images, evo.images)
    np.testing.assert_array_equal(result.history, evo.history)
    assert result.settings == {"seed": 1}
    np.testing.assert_array_equal(result.reconstructions(), evo.reconstructions())


def test_result_of_any_system(tmp_path):
    # a result made without an Evolution, e.g. by the tied autoencoder
    model = small_tied_model()
    images = np.random.default_rng(1).uniform(0, 1, (3, 2, 2)).astype(np.float32)
    made = results.Result(model.network(), model.genome(), images, np.array([0.3, 0.2]),
                          {"system": "tied"})
    made.save(tmp_path / "r.npz")
    back = evoae.load_result(tmp_path / "r.npz")
    np.testing.assert_array_equal(back.genome, made.genome)
    np.testing.assert_array_equal(back.reconstructions(), model.reconstruct(images))
    assert back.settings == {"system": "tied"}


def test_tied_model_round_trip(tmp_path):
    model = small_tied_model()
    tied.save_model(tmp_path / "m.npz", model, {"sizes": [4, 3, 2]})
    net, genome, settings = tied.load_model(tmp_path / "m.npz")
    assert evoae.network_spec(net) == evoae.network_spec(model.network())
    np.testing.assert_array_equal(genome, model.genome())
    assert settings == {"sizes": [4, 3, 2]}
    meta, arrays = archive.read_archive(tmp_path / "m.npz", "tied-model")
    assert meta["sizes"] == [4, 3, 2]
    assert sorted(arrays) == ["genome", "history_1", "history_2"]


def test_cli_run_writes_the_format(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "--generations", "3", "--population", "3", "--samples", "2",
                 "--quiet", "--out", str(out)]) == 0
    result = evoae.load_result(out / "result.npz")
    assert len(result.history) == 4 and result.settings["generations_done"] == 3
    assert evoae.Evolution.load(out / "checkpoint.npz").generation == 3
    with pytest.raises(ValueError, match="result.npz: is an evoae result, not a checkpoint"):
        evoae.Evolution.load(out / "result.npz")
    with pytest.raises(ValueError, match="checkpoint.npz: is an evoae checkpoint, not a result"):
        evoae.load_result(out / "checkpoint.npz")


# -- refusals --------------------------------------------------------------------------------

def test_missing_file(tmp_path):
    for load in (evoae.load_result, evoae.Evolution.load, tied.load_model):
        with pytest.raises(ValueError, match="missing.npz: no such file"):
            load(tmp_path / "missing.npz")


def test_damaged_files(saved, tmp_path):
    _, _, path = saved
    raw = path.read_bytes()
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 0xFF
    np.save(tmp_path / "array.npy", np.zeros(3))
    cases = {"truncated.npz": raw[: len(raw) // 2], "flipped.npz": bytes(flipped),
             "garbage.npz": b"not an npz at all" * 10, "empty.npz": b"",
             "array.npz": (tmp_path / "array.npy").read_bytes()}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=f"{name}: damaged or not an .npz file"):
            evoae.load_result(tmp_path / name)


def test_checksum_mismatch(saved, tmp_path):
    _, _, path = saved
    with np.load(path) as f:  # a well-formed zip with one value changed: only the sum can tell
        arrays = {k: f[k] for k in f.files}
    arrays["genome"] = arrays["genome"].copy()
    arrays["genome"][0] += 1
    np.savez(tmp_path / "tampered.npz", **arrays)
    with pytest.raises(ValueError, match="tampered.npz: damaged: the checksum does not match"):
        evoae.load_result(tmp_path / "tampered.npz")
    arrays = {k: v for k, v in arrays.items() if k != "genome"}  # an array taken out
    np.savez(tmp_path / "short.npz", **arrays)
    with pytest.raises(ValueError, match="short.npz: damaged: the checksum"):
        evoae.load_result(tmp_path / "short.npz")


def test_not_an_evoae_file(tmp_path):
    np.savez(tmp_path / "plain.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="plain.npz: not an evoae file"):
        evoae.load_result(tmp_path / "plain.npz")
    np.savez(tmp_path / "other.npz", meta=np.array('{"format": "other"}'),
             checksum=np.array(""))
    with pytest.raises(ValueError, match="other.npz: not an evoae file \\(format 'other'\\)"):
        evoae.load_result(tmp_path / "other.npz")


def test_another_kind(saved, tmp_path):
    _, ckpt, result = saved
    tied.save_model(tmp_path / "model.npz", small_tied_model(), {})
    with pytest.raises(ValueError, match="result.npz: is an evoae result, not a checkpoint"):
        evoae.Evolution.load(result)
    with pytest.raises(ValueError, match="is an evoae result, not a tied-model"):
        tied.load_model(result)
    with pytest.raises(ValueError, match="is an evoae tied-model, not a result"):
        evoae.load_result(tmp_path / "model.npz")
    with pytest.raises(ValueError, match="is an evoae checkpoint, not a result"):
        evoae.load_result(ckpt)


def test_newer_version(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "VERSION", 2)
    archive.write_archive(tmp_path / "new.npz", "result", {}, {})
    monkeypatch.undo()
    with pytest.raises(ValueError, match="new.npz: written by a newer evoae .*format version 2"
                                         ".* reads version 1: upgrade"):
        evoae.load_result(tmp_path / "new.npz")


def test_old_layouts(net, images, tmp_path):
    genome = np.zeros(net.num_params, np.float32)
    spec = np.array(evoae.network_spec(net))
    np.savez_compressed(tmp_path / "old-result.npz", genome=genome, network=spec,
                        images=images, history=np.zeros(2), settings=np.array("{}"))
    with pytest.raises(ValueError, match="old-result.npz: a result written by an older evoae"):
        evoae.load_result(tmp_path / "old-result.npz")
    np.savez_compressed(tmp_path / "old-model.npz", genome=genome, network=spec,
                        sizes=np.array([4, 2]), settings=np.array("{}"))
    with pytest.raises(ValueError, match="old-model.npz: a tied model written by an older"):
        tied.load_model(tmp_path / "old-model.npz")
    np.savez_compressed(tmp_path / "old-ckpt.npz", genomes=genome[None],
                        meta=np.array('{"format": "evoae-checkpoint", "version": 1}'),
                        checksum=np.array("0" * 64))
    with pytest.raises(ValueError, match="old-ckpt.npz: a checkpoint written by an older evoae"):
        evoae.Evolution.load(tmp_path / "old-ckpt.npz")


# -- atomic writing --------------------------------------------------------------------------

def test_crash_while_writing_keeps_the_previous_file(saved, monkeypatch):
    evo, _, path = saved
    before = path.read_bytes()
    evo.run(generations=5)

    def crashing_savez(file, **arrays):  # half a file, then the disk fills up
        file.write(before[: len(before) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", crashing_savez)
    with pytest.raises(OSError, match="disk full"):
        evoae.save_result(path, evo, {"seed": 1})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert evoae.load_result(path).settings == {"seed": 1}
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_killed_while_writing_keeps_the_previous_file(saved):
    # A process killed (SIGKILL) in the middle of writing: nothing can clean up, but the file
    # under the name is still the previous, whole one.
    _, _, path = saved
    before = path.read_bytes()
    script = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        import evoae

        result = evoae.load_result({str(path)!r})
        def stalled_savez(file, **arrays):
            file.write(b"PK" + bytes(1000))
            file.flush()
            print("writing", flush=True)
            time.sleep(60)
        np.savez_compressed = stalled_savez
        result.save({str(path)!r})
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    assert path.read_bytes() == before
    evoae.load_result(path)
    left = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert len(left) == 1 and left[0].startswith(".result.npz.")  # hidden, beside it


# -- no import cycle -------------------------------------------------------------------------

def test_io_does_not_import_evo():
    folder = pathlib.Path(archive.__file__).parent
    for source in folder.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom):  # `from .. import evo` too
                base = "." * node.level + (f"{node.module}." if node.module else "")
                names = [base.rstrip(".")] + [base + a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith(("..evo", "evoae.evo")), f"{source.name}: {name}"


def test_every_output_file_is_written_atomically(tmp_path, monkeypatch):
    """A failure while writing any output (a PNG, a JSON, a GIF) keeps the previous file and
    leaves no temporary: each goes through io.atomic."""
    from evoae import pictures
    from evoae.io import atomic
    from evoae.viewer import record

    png, text = tmp_path / "curve.png", tmp_path / "settings.json"
    pictures.save_error_curve(png, np.array([0.2, 0.1]))
    atomic.write_text_atomically(text, "old")
    before = png.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        pictures.save_error_curve(png, np.array([0.3, 0.05]))
    with pytest.raises(OSError, match="disk full"):
        atomic.write_text_atomically(text, "new")
    with pytest.raises(OSError, match="disk full"):
        record.save_png(tmp_path / "frame.png", np.zeros((4, 4, 3), np.uint8))
    assert png.read_bytes() == before and text.read_text() == "old"
    assert not (tmp_path / "frame.png").exists()
    assert not list(tmp_path.glob(".*.tmp"))
