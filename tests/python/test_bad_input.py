"""Bad input and faults (issue 10, items 4-8, 11, 13, 15-19, 22): each is refused with a clear
message, warned about, or no longer loses work. The tests are named after the items."""
import gzip
import os
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import evoae
from evoae.cli.main import main
from evoae.data import IdxError, load_idx, scale
from evoae.io import archive, checkpoint
from idx_files import idx_bytes, mnist_like, write_idx

README = Path(__file__).parents[2] / "README.md"


@pytest.fixture(scope="module")
def net():
    return evoae.varadi_network()


@pytest.fixture(scope="module")
def images():
    return scale(evoae.data.ten_digits()[:3])


def saved_run(net, images, path, **kwargs):
    evo = evoae.Evolution(net, images, population=4, seed=1, **kwargs)
    evo.run(generations=3)
    evo.save(path)
    return evo


def cli(capsys, *args) -> tuple:
    """main(args) in this process: (exit status, stderr lines)."""
    status = main([str(a) for a in args])
    return status, [line for line in capsys.readouterr().err.splitlines() if line]


# -- 4: NaN and inf pixels -----------------------------------------------------------------------

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_item4_nan_or_inf_pixels_refused_by_evolution(net, images, bad):
    spoiled = images.copy()
    spoiled[1, 3, 4] = bad
    spoiled[2, 0, 0] = bad
    with pytest.raises(ValueError, match=r"images: 2 NaN or infinite values, the first at "
                                         r"index \(1, 3, 4\)"):
        evoae.Evolution(net, spoiled)


def test_item4_pixels_beyond_float32_refused(net, images):
    # float64 values too large for float32 would become inf in the core
    big = images.astype(np.float64)
    big[0, 5, 5] = 1e300
    with pytest.raises(ValueError, match=r"1 NaN or infinite value, the first at index "
                                         r"\(0, 5, 5\)"):
        evoae.Evolution(net, big)


def test_item4_nan_pixels_refused_by_forward(net, images):
    spoiled = images.copy()
    spoiled[0, 1, 2] = np.nan
    with pytest.raises(ValueError, match=r"images: 1 NaN or infinite value"):
        net.forward(np.zeros(net.num_params, np.float32), spoiled)


def test_item4_nan_in_a_float_idx_file_refused(tmp_path):
    values = np.full((2, 28, 28), 0.5, np.float32)
    values[1, 27, 0] = np.nan
    path = write_idx(tmp_path / "nan-images-idx3-float.gz", values, 0x0D)
    with pytest.raises(IdxError, match=re.escape(f"{path}: 1 NaN or infinite value, the first "
                                                 f"at index (1, 27, 0)")):
        load_idx(path)


def test_item4_cli_refuses_a_nan_idx_file_in_one_line(tmp_path, capsys):
    values = np.full((3, 28, 28), 0.5, np.float32)
    values[2, 2, 2] = np.inf
    path = write_idx(tmp_path / "inf-images", values, 0x0D)
    status, lines = cli(capsys, "run", "--data", path, "--generations", "1",
                        "--out", tmp_path / "out")
    assert status == 2 and len(lines) == 1, lines
    assert str(path) in lines[0] and "NaN or infinite" in lines[0]
    assert not (tmp_path / "out").exists()


# -- 5: pixels that are not uint8 ------------------------------------------------------------------

def test_item5_float_idx_in_0_1_is_scaled_like_the_uint8_one(tmp_path, capsys):
    digits = evoae.data.ten_digits()[:4]
    path = write_idx(tmp_path / "digits-idx3-float", digits / np.float32(255), 0x0D)
    status, lines = cli(capsys, "run", "--data", path, "--generations", "1", "--population",
                        "2", "--quiet", "--out", tmp_path / "out")
    assert status == 0, lines
    trained = evoae.load_result(tmp_path / "out" / "result.npz").images
    np.testing.assert_allclose(trained, scale(digits), atol=1e-6)
    assert 0.1 <= trained.min() and trained.max() <= 0.9 + 1e-6
    assert trained.max() > 0.85  # not the near-blank images of x/255 applied twice


def test_item5_integer_idx_of_other_types_scaled_or_refused(tmp_path, capsys):
    digits = evoae.data.ten_digits()[:2]
    shorts = write_idx(tmp_path / "digits-idx3-short", digits, 0x0B)
    status, lines = cli(capsys, "run", "--data", shorts, "--generations", "1", "--population",
                        "2", "--quiet", "--out", tmp_path / "out")
    assert status == 0, lines
    np.testing.assert_array_equal(evoae.load_result(tmp_path / "out" / "result.npz").images,
                                  scale(digits))
    wide = write_idx(tmp_path / "wide-idx3-short", digits.astype(np.int16) * 4, 0x0B)
    status, lines = cli(capsys, "run", "--data", wide, "--generations", "1", "--out",
                        tmp_path / "out2")
    assert status == 2 and len(lines) == 1, lines
    assert str(wide) in lines[0] and "0..255" in lines[0] and "1020" in lines[0]


def test_item5_float_idx_outside_0_1_refused_with_its_name(tmp_path, capsys):
    path = write_idx(tmp_path / "raw-floats", evoae.data.ten_digits()[:2], 0x0D)  # 0..255
    status, lines = cli(capsys, "run", "--data", path, "--generations", "1", "--out",
                        tmp_path / "out")
    assert status == 2 and len(lines) == 1, lines
    assert str(path) in lines[0] and "0..1" in lines[0] and "255" in lines[0]


def test_item5_scale_float_intensities_and_refusals():
    digits = evoae.data.ten_digits()
    np.testing.assert_allclose(scale(digits / 255.0), scale(digits), atol=1e-6)
    with pytest.raises(ValueError, match=r"0\.\.1.*from 0 to 255.*integers"):
        scale(digits.astype(np.float32))
    with pytest.raises(ValueError, match=r"0\.\.255, got values from -1 to 3"):
        scale(np.array([-1, 3], np.int64))
    with pytest.raises(ValueError, match=r"1 NaN or infinite value"):
        scale(np.array([0.5, np.nan]))
    with pytest.raises(TypeError, match="complex"):
        scale(np.ones(3, complex))


def test_item5_float_images_0_255_refused_by_evolution(net):
    raw = evoae.data.ten_digits()[:2].astype(np.float32)
    with pytest.raises(ValueError, match=r"from 0 to 255.*\(sigmoid\) lies in \[0, 1\].*"
                                         r"evoae\.data\.scale\(images\)"):
        evoae.Evolution(net, raw)


def test_item5_unbounded_outputs_accept_any_range():
    # an identity output can reach any value: codes of a tied autoencoder's inner stage
    codes = np.random.default_rng(0).normal(0, 3, (4, 1, 6)).astype(np.float32)
    net = evoae.Network(1, 6).dense(3, "relu").dense(6, "identity").reshape(1, 6, 1)
    evoae.Evolution(net, codes, population=2)


# -- 6: the caller's arrays ----------------------------------------------------------------------

def test_item6_changing_the_callers_images_changes_nothing(net, images, tmp_path):
    mine = images.copy()
    changed = evoae.Evolution(net, mine, population=4, mutations=10, seed=2)
    mine[:] = 0.5  # after construction, in place
    changed.run(generations=4)
    changed.save(tmp_path / "a.npz")
    evoae.save_result(tmp_path / "a-result.npz", changed, {})
    np.testing.assert_array_equal(changed.images, images)
    np.testing.assert_array_equal(evoae.load_result(tmp_path / "a-result.npz").images, images)
    resumed = evoae.Evolution.load(tmp_path / "a.npz")
    np.testing.assert_array_equal(resumed.images, images)
    resumed.run(generations=4)
    straight = evoae.Evolution(net, images, population=4, mutations=10, seed=2)
    straight.run(generations=8)
    np.testing.assert_array_equal(resumed.population, straight.population)
    np.testing.assert_array_equal(resumed.history, straight.history)


# -- 7: NaN weights -------------------------------------------------------------------------------

def test_item7_nan_genome_refused_by_forward(net, images):
    genome = np.zeros(net.num_params, np.float32)
    genome[7] = np.nan
    with pytest.raises(ValueError, match=r"genome: 1 NaN or infinite value, the first at "
                                         r"index 7"):
        net.forward(genome, images)
    with pytest.raises(ValueError, match="NaN or infinite"):
        net.forward(np.full(net.num_params, np.inf, np.float32), images)


def test_item7_nan_genome_refused_by_forward_population(net, images):
    genomes = np.zeros((3, net.num_params), np.float32)
    genomes[2, 100] = -np.inf
    with pytest.raises(ValueError, match=r"genomes: 1 NaN or infinite value, the first at "
                                         r"index \(2, 100\)"):
        net.forward_population(genomes, images)


def test_item7_checkpoint_with_nan_genomes_refused(net, images, tmp_path):
    path = tmp_path / "c.npz"
    saved_run(net, images, path)
    meta, arrays = archive.read_archive(path, checkpoint.KIND)
    arrays["genomes"][1, 3] = np.nan
    archive.write_archive(path, checkpoint.KIND, meta, arrays)  # a valid checksum
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}: damaged checkpoint \(its "
                                         rf"genomes: 1 NaN or infinite value"):
        evoae.Evolution.load(path)


def test_item7_restored_state_with_nan_genomes_refused(net, images):
    evo = evoae.Evolution(net, images, population=4, seed=1)
    state = evo.state()
    state["genomes"][0, 0] = np.nan
    with pytest.raises(ValueError, match="the state's genomes: 1 NaN"):
        evoae.Evolution.restore(net, images, evo.settings, state)


def test_item7_result_with_a_nan_genome_refused(net, images, tmp_path):
    evo = evoae.Evolution(net, images, population=4, seed=1)
    path = tmp_path / "r.npz"
    evoae.save_result(path, evo, {})
    meta, arrays = archive.read_archive(path, "result")
    arrays["genome"][-1] = np.nan
    archive.write_archive(path, "result", meta, arrays)
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}: damaged evoae file: its "
                                         rf"genome: 1 NaN"):
        evoae.load_result(path)


# -- 8: nothing can change ----------------------------------------------------------------------------

def test_item8_population_1_warns(net, images):
    with pytest.warns(UserWarning, match="population 1: there are no children, so nothing "
                                         "can change"):
        evoae.Evolution(net, images, population=1)


@pytest.mark.parametrize("kwargs", [dict(), dict(mutation="gaussian"),
                                    dict(step_control="schedule", mutations_end=0,
                                         schedule_generations=100)])
def test_item8_mutations_0_warns(net, images, kwargs):
    with pytest.warns(UserWarning, match="mutations 0 and no crossover: .*nothing can change"):
        evoae.Evolution(net, images, population=4, mutations=0, **kwargs)


@pytest.mark.parametrize("kwargs", [
    dict(mutation="gaussian-all"),  # changes every weight whatever `mutations` says
    dict(selection="truncation", crossover="uniform"),  # children mix two parents
    dict(step_control="schedule", mutations_end=5, schedule_generations=100),  # mutates later
])
def test_item8_mutations_0_that_can_change_does_not_warn(net, images, kwargs):
    evoae.Evolution(net, images, population=4, mutations=0, **kwargs)  # warnings are errors


def test_item8_cli_says_it_in_one_line(tmp_path, capsys):
    status, lines = cli(capsys, "run", "--population", "1", "--generations", "2", "--quiet",
                        "--out", tmp_path)
    assert status == 0
    warned = [line for line in lines if "warning" in line]
    assert warned == ["evoae: warning: population 1: there are no children, so nothing can "
                      "change: the run keeps its first random genome"], lines


# -- 11: --data in checkpoints ------------------------------------------------------------------------

def test_item11_resume_from_another_folder_finds_the_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(checkpoint, "STORE_IMAGES_MAX_BYTES", 0)  # keep only the fingerprint
    first, second = tmp_path / "first", tmp_path / "elsewhere"
    first.mkdir(), second.mkdir()
    write_idx(first / "digits-idx3-ubyte.gz", mnist_like(12)[0])
    monkeypatch.chdir(first)
    status, lines = cli(capsys, "run", "--data", "digits-idx3-ubyte.gz", "--generations", "2",
                        "--population", "2", "--quiet", "--out", "out")
    assert status == 0, lines
    saved = checkpoint.read_checkpoint(first / "out" / "checkpoint.npz",
                                       images=scale(mnist_like(12)[0]))
    assert saved.extra["cli"]["data"] == str(first / "digits-idx3-ubyte.gz")
    assert not saved.images_stored
    monkeypatch.chdir(second)
    status, lines = cli(capsys, "run", "--resume", first / "out" / "checkpoint.npz",
                        "--generations", "2", "--quiet", "--out", "more")
    assert status == 0, lines
    assert evoae.load_result(second / "more" / "result.npz").history.size == 5


# -- 13: stale temporaries ----------------------------------------------------------------------------

def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid  # reaped: no process has this pid until it is reused


def test_item13_stale_temporaries_removed_on_the_next_write(tmp_path):
    target = tmp_path / "checkpoint.npz"
    killed = tmp_path / f".checkpoint.npz.{dead_pid()}.0badc0de.tmp"  # its writer is gone
    old = tmp_path / f".checkpoint.npz.{os.getppid()}.00000001.tmp"  # alive, but long ago
    live = tmp_path / f".checkpoint.npz.{os.getppid()}.00000002.tmp"  # a writer at work
    other = tmp_path / f".other.npz.{dead_pid()}.00000003.tmp"  # another file's
    for path in (killed, old, live, other):
        path.write_bytes(b"partial")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    archive.write_archive(target, "test", {}, {"a": np.zeros(3)})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, live.name, other.name])


def test_item13_a_failed_write_removes_nothing_but_its_own(tmp_path, monkeypatch):
    killed = tmp_path / f".x.npz.{dead_pid()}.0badc0de.tmp"
    killed.write_bytes(b"partial")
    monkeypatch.setattr(archive.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("full")))
    with pytest.raises(OSError, match="full"):
        archive.write_archive(tmp_path / "x.npz", "test", {}, {"a": np.zeros(3)})
    assert [p.name for p in tmp_path.iterdir()] == [killed.name]


# -- 15: threads ----------------------------------------------------------------------------------

def test_item15_threads_above_the_cores_warn(net, images):
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with pytest.warns(UserWarning, match=rf"threads {cores + 1} is more than the {cores} cores"):
        evoae.Evolution(net, images, population=2, threads=cores + 1)
    evoae.Evolution(net, images, population=2, threads=cores)  # no warning


def test_item15_negative_threads_refused_with_the_cli_rule(net, images, tmp_path, capsys):
    with pytest.raises(ValueError, match=r"threads must be >= 1 and <= 1024, got -1"):
        evoae.Evolution(net, images, threads=-1)
    with pytest.raises(SystemExit):
        main(["run", "--threads", "-1", "--out", str(tmp_path)])
    assert "--threads: must be an integer from 1 to 1024, got '-1'" in capsys.readouterr().err


# -- 16: evoae view on a damaged result -------------------------------------------------------------

@pytest.mark.parametrize("content", [b"PK\x03\x04 not really a zip", b"\x93NUMPY pickled",
                                     b""])
def test_item16_view_of_a_damaged_result_is_one_line(tmp_path, content):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(content)
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", PYTHONWARNINGS="ignore")
    done = subprocess.run([sys.executable, "-m", "evoae.cli", "view", str(bad), "--no-window",
                           "--save", str(tmp_path / "v.png")], capture_output=True, text=True,
                          timeout=60, env=env)
    lines = [line for line in done.stderr.splitlines()
             if line and not line.startswith("Matplotlib")]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith(f"evoae: error: {bad}: damaged or not an .npz file")


# -- 17: IDX messages -----------------------------------------------------------------------------

def idx_header(type_code: int, *dims: int) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)


def test_item17_overflowing_header_dims(tmp_path):
    # 2**64 values: a product in int64 wraps to 0 and "fits" a header-only file
    path = tmp_path / "overflow"
    path.write_bytes(idx_header(0x08, 0x10000, 0x10000, 0x10000, 0x10000))
    with pytest.raises(IdxError, match=re.escape(
            f"{path}: truncated: the header says dimensions (65536, 65536, 65536, 65536) of "
            f"uint8, 18,446,744,073,709,551,636 bytes with the header; the data has 20 bytes")):
        load_idx(path)


def test_item17_huge_image_count(tmp_path):
    path = tmp_path / "count.gz"
    path.write_bytes(gzip.compress(idx_header(0x0D, 0xFFFFFFFF, 28, 28) + bytes(4 * 784)))
    expected = 16 + 0xFFFFFFFF * 784 * 4
    with pytest.raises(IdxError, match=re.escape(f"(4294967295, 28, 28) of float32, "
                                                 f"{expected:,} bytes with the header; the "
                                                 f"data has 3,152 bytes")):
        load_idx(path)


def test_item17_zero_images(tmp_path, capsys):
    path = tmp_path / "empty-idx3-ubyte"
    path.write_bytes(idx_header(0x08, 0, 28, 28))
    with pytest.raises(IdxError, match=re.escape(f"{path}: holds no data: the header says "
                                                 f"dimensions (0, 28, 28)")):
        load_idx(path)
    status, lines = cli(capsys, "run", "--data", path, "--out", tmp_path / "out")
    assert status == 2 and lines == [f"evoae: error: {path}: holds no data: the header says "
                                     f"dimensions (0, 28, 28)"]


def test_item17_shapes_reported_as_given(net, tmp_path, capsys):
    flat = np.full((10, 784), 0.5, np.float32)
    with pytest.raises(ValueError, match=re.escape("images must have shape (28, 28) (one "
                                                   "image) or (S, 28, 28), got (10, 784)")):
        evoae.Evolution(net, flat)
    with pytest.raises(ValueError, match=re.escape("images: none given (shape (0, 28, 28))")):
        evoae.Evolution(net, np.zeros((0, 28, 28), np.float32))
    path = write_idx(tmp_path / "flat-idx2-ubyte", np.zeros((10, 784), np.uint8))
    status, lines = cli(capsys, "run", "--data", path, "--out", tmp_path / "out")
    assert status == 2 and lines == [f"evoae: error: {path}: expected 28x28 images "
                                     f"(N, 28, 28), the file holds an array of shape (10, 784)"]


# -- 18: a checkpoint missing a field ----------------------------------------------------------------

@pytest.mark.parametrize("field", ["generation", "images_sha256", "settings", "sigma"])
def test_item18_checkpoint_missing_meta_field_named(net, images, tmp_path, field):
    path = tmp_path / "c.npz"
    saved_run(net, images, path)
    meta, arrays = archive.read_archive(path, checkpoint.KIND)
    del meta[field]
    archive.write_archive(path, checkpoint.KIND, meta, arrays)
    with pytest.raises(ValueError, match=re.escape(f"{path}: damaged checkpoint: no "
                                                   f"'{field}'")):
        evoae.Evolution.load(path, images=images)  # images: the fingerprint is compared


@pytest.mark.parametrize("array", ["genomes", "history"])
def test_item18_checkpoint_missing_array_named(net, images, tmp_path, array):
    path = tmp_path / "c.npz"
    saved_run(net, images, path)
    meta, arrays = archive.read_archive(path, checkpoint.KIND)
    del arrays[array]
    archive.write_archive(path, checkpoint.KIND, meta, arrays)
    with pytest.raises(ValueError, match=re.escape(f"damaged checkpoint: no array '{array}'")):
        evoae.Evolution.load(path)


def test_item18_checkpoint_missing_a_setting_named(net, images, tmp_path):
    # left out, it would silently become its default: another run than the one saved
    path = tmp_path / "c.npz"
    saved_run(net, images, path, mutation="gaussian")
    meta, arrays = archive.read_archive(path, checkpoint.KIND)
    del meta["settings"]["mutation"]
    archive.write_archive(path, checkpoint.KIND, meta, arrays)
    with pytest.raises(ValueError, match=re.escape("damaged checkpoint: no setting "
                                                   "'mutation'")):
        evoae.Evolution.load(path)


# -- 19: one API ------------------------------------------------------------------------------------

def test_item19_evolution_and_forward_take_the_same_shapes(net, images):
    genome = np.random.default_rng(0).uniform(-1, 1, net.num_params).astype(np.float32)
    one = images[0]  # (28, 28)
    assert net.forward(genome, one).shape == (28, 28)
    np.testing.assert_array_equal(net.forward(genome, one), net.forward(genome, images)[0])
    assert net.forward_population(np.stack([genome] * 2), one).shape == (2, 28, 28)
    assert [a.shape for a in net.activations(genome, one)] == [
        a.shape[1:] for a in net.activations(genome, images)]
    evo = evoae.Evolution(net, one, population=2)
    assert evo.images.shape == (1, 28, 28)
    for bad in (np.zeros((2, 27, 28), np.float32), np.zeros((1, 28, 28, 1), np.float32)):
        with pytest.raises(ValueError) as from_forward:
            net.forward(genome, bad)
        with pytest.raises(ValueError) as from_evolution:
            evoae.Evolution(net, bad)
        assert str(from_forward.value) == str(from_evolution.value)


def test_item19_uint8_refused_alike(net):
    digits = evoae.data.ten_digits()[:2]
    genome = np.zeros(net.num_params, np.float32)
    message = re.escape("images are uint8: scale them first with evoae.data.scale(images)")
    for call in (lambda: evoae.Evolution(net, digits), lambda: net.forward(genome, digits),
                 lambda: net.forward_population(genome[None], digits[0])):
        with pytest.raises(ValueError, match=message):
            call()


def test_item19_gif_negative_hold_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["gif", str(tmp_path), "--hold", "-1"])
    assert exit_info.value.code == 2
    assert "--hold: must be a finite number >= 0" in capsys.readouterr().err


# -- 22: the README ---------------------------------------------------------------------------------

def test_item22_readme_python_example_runs_as_written(tmp_path, monkeypatch, capsys):
    text = README.read_text()
    section = text[text.index("## From Python"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)  # it must not need files from the source tree
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1].split()[0].replace(".", "").isdigit()  # best_error, best_mae


def test_item22_readme_lists_the_output_files_and_the_default_stop():
    text = " ".join(README.read_text().split())
    sentence = text[text.index("writes `evoae-out/`"):]
    sentence = sentence[:sentence.index(". ")]
    for name in ("result.npz", "reconstructions.png", "error_curve.png", "settings.json",
                 "checkpoint.npz"):
        assert f"`{name}`" in sentence, name
    assert "30,000 generations" in text
