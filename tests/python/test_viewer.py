"""The live viewer (evoae.viewer) and the latent split (evoae.latent), headless: SDL's dummy
video driver with the software renderer, pixels read back from the renderer and compared
with the images they must show."""
import os
import subprocess
import sys
import time

os.environ["SDL_VIDEODRIVER"] = "dummy"  # before SDL is loaded; the tests never need a display
os.environ["SDL_RENDER_DRIVER"] = "software"

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import evoae  # noqa: E402
from evoae import viewer  # noqa: E402  (a broken viewer import fails the tests, not skips)
from evoae.nn.latent import grid_codes, split_at_bottleneck  # noqa: E402


@pytest.fixture(scope="module")
def images():
    return evoae.data.scale(evoae.data.ten_digits())


def small_evolution(images, seed=0):
    # Few agents: frames come quickly and the tests stay short.
    return evoae.Evolution(evoae.varadi_network(), images, population=4, mutations=10,
                           seed=seed)


def expected_tiles(images, cell, absolute=False):
    gray = viewer.to_gray(images, absolute)
    idx = np.arange(cell) * images.shape[1] // cell
    return gray[:, idx][:, :, idx]


def target_cells(frame, lay, corners="targets"):
    c = lay.cell
    return np.stack([frame[y : y + c, x : x + c] for x, y in getattr(lay, corners)])


# -- evoae.latent ------------------------------------------------------------------------------
def test_split_at_bottleneck_reproduces_the_network(images):
    net = evoae.varadi_network()
    split = split_at_bottleneck(net)
    assert repr(split.encoder).endswith(".dense(5).dense(2)")
    assert repr(split.decoder).startswith("Network(1, 2).dense(5).dense(160)")
    assert split.split == 147 and split.encoder.num_params + split.decoder.num_params == 1397
    genome = np.random.default_rng(1).uniform(-1, 1, net.num_params).astype(np.float32)
    codes = split.encode(genome, images)
    assert codes.shape == (10, 2) and np.all((codes > 0) & (codes < 1))
    np.testing.assert_array_equal(split.decode(genome, codes), net.forward(genome, images))


def test_split_errors_and_grid_codes():
    with pytest.raises(ValueError, match="no dense\\(2\\)"):
        split_at_bottleneck(evoae.Network(28, 28).dense(3).dense(784))
    with pytest.raises(ValueError, match="last layer"):
        split_at_bottleneck(evoae.Network(28, 28).dense(2))
    with pytest.raises(ValueError, match="codes must have shape"):
        split_at_bottleneck(evoae.varadi_network()).decode(np.zeros(1397, np.float32),
                                                           np.zeros((3, 3)))
    g = grid_codes(2)
    np.testing.assert_allclose(g, [[0.25, 0.75], [0.75, 0.75], [0.25, 0.25], [0.75, 0.25]])


# -- drawing without a window ------------------------------------------------------------------
def test_import_evoae_does_not_load_sdl():
    code = ("import sys, evoae, evoae.viewer; "
            "assert 'sdl2' not in sys.modules, 'evoae.viewer imported SDL'; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


def test_render_shows_targets_scaled_as_the_paper_and_absolute(images):
    evo = small_evolution(images)
    snap = viewer.Snapshotter(evo.network, evo.images).take(
        evo.best_genome, evo.history / images.size, 0, evo.best_error, evo.best_mae, 0.0, 0.0,
        force=True)
    lay = viewer.layout(len(images))
    frame = viewer.render(snap)
    assert frame.shape == (viewer.HEIGHT, viewer.WIDTH, 3) and frame.dtype == np.uint8
    cells = target_cells(frame, lay)
    want = expected_tiles(images, lay.cell)
    np.testing.assert_array_equal(cells, np.repeat(want[..., None], 3, axis=3))
    assert cells.min() == 0 and cells.max() == 255  # each stretched to its own min..max
    recon = target_cells(frame, lay, "outputs")[..., 0]
    np.testing.assert_array_equal(recon, expected_tiles(evo.reconstructions(), lay.cell))
    absolute = target_cells(viewer.render(snap, absolute=True), lay)[..., 0]
    np.testing.assert_array_equal(absolute, expected_tiles(images, lay.cell, absolute=True))
    assert absolute.min() == round(0.1 * 255) and absolute.max() == round(0.9 * 255)


def test_render_without_bottleneck_and_many_images(images):
    net = evoae.Network(28, 28).dense(3).dense(784).reshape(28, 28, 1)
    many = np.concatenate([images] * 5)  # 50 images: only the first ones fit
    genome = np.zeros(net.num_params, np.float32)
    snap = viewer.Snapshotter(net, many).take(genome, np.array([0.2, 0.1]), 1, 90.0, 0.1, 0.0,
                                              0.0)
    assert snap.codes is None and snap.decoded is None
    frame = viewer.render(snap)
    lay = viewer.layout(len(many))
    assert lay.shown < len(many) and lay.targets[-1][0] + lay.cell <= viewer.WIDTH
    np.testing.assert_array_equal(target_cells(frame, lay)[..., 0],
                                  expected_tiles(many[: lay.shown], lay.cell))


def test_latent_labels_of_many_images_stay_inside_the_latent_panel(images):
    # 50 images: labels next to points at the panel's edges would spill onto the decoded grid
    # and the curve; each drawn label lies inside the latent panel, and few enough are drawn
    # to be read.
    import dataclasses

    many = np.concatenate([images] * 5)
    evo = small_evolution(many)
    snap = viewer.Snapshotter(evo.network, many).take(
        evo.best_genome, evo.history / images.size, 0, evo.best_error, evo.best_mae, 0.0, 0.0,
        force=True)
    rng = np.random.default_rng(0)
    codes = rng.uniform(0, 1, size=(50, 2))
    codes[:8] = [[1, 1], [1, 0], [0, 1], [0, 0], [1, 0.5], [0.5, 1], [0.99, 0.3], [0.5, 0]]
    snap = dataclasses.replace(snap, codes=codes, labels=tuple(str(i) for i in range(50)))
    unlabelled = dataclasses.replace(snap, labels=("",) * 50)
    labels = np.any(viewer.render(snap) != viewer.render(unlabelled), axis=2)
    x0, y0, w, h = viewer.layout(50).latent
    ys, xs = np.nonzero(labels)
    assert len(xs) > 0  # some labels are drawn
    assert xs.min() >= x0 and xs.max() < x0 + w and ys.min() >= y0 and ys.max() < y0 + h
    assert labels.sum() < 0.25 * w * h  # a few labels, not a smear


# -- the window: dummy driver, software renderer, pixels read back -----------------------------
def test_window_shows_the_frame_and_keys_act(images, tmp_path):
    evo = small_evolution(images)
    script = {"log": [], "t": None}

    def on_step(v):  # a scripted user: runs in the window loop after every poll
        log, runner, now = script["log"], v.runner, time.perf_counter()
        if not log and v.frame is not None:
            shown = v.window.read_pixels()
            log.append(("shown", shown.copy(), v.frame.copy()))
            v.window.push_key(" ")
        elif len(log) == 1 and runner.paused_generation is not None:
            log.append(("paused", evo.generation))
            script["t"] = now
        elif len(log) == 2 and now - script["t"] > 0.4:
            log.append(("still paused", evo.generation))
            v.window.push_key("a")
            v.window.push_key("s")
            v.window.push_key(" ")
        elif len(log) == 3 and v.absolute and not runner.paused and v.frames_drawn > 2:
            log.append(("resumed", evo.generation))
            script["t"] = now
        elif len(log) == 4 and now - script["t"] > 0.3 and evo.generation > log[3][1]:
            log.append(("absolute", v.window.read_pixels()))
            v.window.push_key("\x1b")  # Esc: stop

    progress = viewer.watch(evo, seconds=20, software=True, interval=0.02,
                            screenshots=tmp_path, on_step=on_step)
    log = script["log"]
    assert [entry[0] for entry in log] == ["shown", "paused", "still paused", "resumed",
                                           "absolute"], [e[0] for e in log]
    shown, frame = log[0][1], log[0][2]
    np.testing.assert_array_equal(shown, frame)  # the window shows the drawn frame
    lay = viewer.layout(len(images))
    np.testing.assert_array_equal(target_cells(shown, lay)[..., 1],
                                  expected_tiles(images, lay.cell))
    assert log[1][1] == log[2][1]  # pause: no generation for 0.4 s
    np.testing.assert_array_equal(target_cells(log[4][1], lay)[..., 2],
                                  expected_tiles(images, lay.cell, absolute=True))
    shots = list(tmp_path.glob("evoae-screenshot-*.png"))
    assert len(shots) == 1
    assert progress.generation == evo.generation > log[3][1]  # Esc stopped a running evolution
    assert progress.elapsed < 15


def test_record_frames_change_as_evolution_improves(images, tmp_path):
    evo = small_evolution(images, seed=3)
    progress = viewer.watch(evo, generations=60, window=False, record=tmp_path,
                            record_every=20)
    files = viewer.frame_files(tmp_path)
    assert [f.name for f in files] == [f"frame-{g:09d}.png" for g in (0, 20, 40, 60)]
    assert progress.generation == 60
    from PIL import Image

    frames = [np.asarray(Image.open(f).convert("RGB")) for f in files]
    lay = viewer.layout(len(images))
    for f in frames:  # the digits are there in every frame
        np.testing.assert_array_equal(target_cells(f, lay)[..., 0],
                                      expected_tiles(images, lay.cell))
    assert evo.history[-1] < evo.history[0]  # it improved ...
    recon_first = target_cells(frames[0], lay, "outputs")
    recon_last = target_cells(frames[-1], lay, "outputs")
    assert np.abs(recon_first.astype(int) - recon_last).mean() > 1  # ... and the view shows it
    x, y, w, h = lay.curve
    assert not np.array_equal(frames[0][y : y + h, x : x + w], frames[-1][y : y + h, x : x + w])

    gif = viewer.frames_to_gif(tmp_path, fps=10)
    with Image.open(gif) as g:
        assert g.n_frames == 4 and g.size == (viewer.WIDTH, viewer.HEIGHT)


def test_no_display_says_so_in_one_line_and_runs_on(images, monkeypatch, capsys):
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check without SDL_VIDEODRIVER is Linux's")
    for name in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    evo = small_evolution(images)
    progress = viewer.watch(evo, generations=5)
    assert progress.generation == 5
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "no window can be opened" in lines[0]


def test_view_result_window_and_png(images, tmp_path):
    evo = small_evolution(images)
    evo.run(generations=20)
    path = tmp_path / "result.npz"
    evoae.save_result(path, evo, {"population": 4, "mutations": 10, "seed": 0,
                                  "evals_per_second": 1234.0, "seconds": 2.5})
    seen = []

    def on_step(v):
        if v.frame is not None and not seen:
            seen.append(v.window.read_pixels())
            v.window.push_key("q")

    v = viewer.view_result(path, save=tmp_path / "view.png", software=True, on_step=on_step)
    assert v is not None and v.quit and seen
    from PIL import Image

    saved = np.asarray(Image.open(tmp_path / "view.png").convert("RGB"))
    np.testing.assert_array_equal(seen[0], saved)
    lay = viewer.layout(len(images))
    np.testing.assert_array_equal(target_cells(saved, lay, "outputs")[..., 0],
                                  expected_tiles(evo.reconstructions(), lay.cell))


# -- the command line --------------------------------------------------------------------------
def test_cli_view_and_record_keep_results_as_without(tmp_path):
    from evoae.cli import main

    common = ["run", "--generations", "30", "--population", "4", "--seed", "5", "--quiet"]
    assert main(common + ["--out", str(tmp_path / "plain")]) == 0
    assert main(common + ["--out", str(tmp_path / "viewed"), "--view", "--record",
                          str(tmp_path / "frames"), "--record-every", "10"]) == 0
    plain = evoae.load_result(tmp_path / "plain" / "result.npz")
    viewed = evoae.load_result(tmp_path / "viewed" / "result.npz")
    np.testing.assert_array_equal(plain.genome, viewed.genome)
    np.testing.assert_array_equal(plain.history, viewed.history)
    for name in ("reconstructions.png", "error_curve.png", "settings.json"):
        assert (tmp_path / "viewed" / name).is_file()
    assert len(viewer.frame_files(tmp_path / "frames")) == 4
    assert main(["gif", str(tmp_path / "frames"), "--out", str(tmp_path / "run.gif")]) == 0
    assert (tmp_path / "run.gif").stat().st_size > 0
    png = tmp_path / "view.png"
    assert main(["view", str(tmp_path / "viewed" / "result.npz"), "--save", str(png),
                 "--no-window"]) == 0
    assert png.is_file()


def test_window_resize_keeps_the_whole_view(images):
    evo = small_evolution(images)
    sizes = []

    def on_step(v):
        if v.frame is not None and not sizes:
            sdl = viewer.window.sdl()
            sdl.SDL_SetWindowSize(v.window.window, 500, 600)  # half as wide: letterboxed
            sizes.append(None)
        elif len(sizes) == 1:
            v.step(force=True)
            shown = v.window.read_pixels()
            sizes.append(shown)
            v.window.push_key("q")

    viewer.watch(evo, seconds=20, software=True, on_step=on_step)
    shown = sizes[1]
    assert shown.shape == (600, 500, 3)
    band = (600 - viewer.HEIGHT // 2) // 2  # the frame, scaled by 1/2, is centred
    assert shown[: band - 2].max() == 0 and shown[-band + 2 :].max() == 0
    lay = viewer.layout(len(images))
    x, y = lay.targets[0]
    digit = shown[band + y // 2 : band + (y + lay.cell) // 2, x // 2 : (x + lay.cell) // 2, 0]
    assert digit.max() > 200 and digit.min() < 50  # the first target, a "0", is still there
