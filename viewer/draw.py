"""Drawing one frame of the view into an RGB numpy array (no SDL, no window): the targets
and best reconstructions rows, the run's numbers, the error curve and the latent plane.

The frame has a fixed size (WIDTH x HEIGHT); the window scales it to its own size. All
positions come from `layout`, which the tests use to find what they compare.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .font import GLYPH_HEIGHT, LINE_HEIGHT, draw_text, text_width
from .snapshot import Snapshot

__all__ = ["WIDTH", "HEIGHT", "Layout", "layout", "render", "to_gray"]

WIDTH, HEIGHT = 1000, 620
MAE_CURVE = "best MAE per pixel"  # evoae.evo.curves' label of a curve of MAE values
TEXT = 2  # font scale of all text: 12 px per character, 20 px per line

BACKGROUND = (22, 23, 28)
PANEL = (34, 36, 44)
GRID_LINE = (56, 59, 70)
INK = (225, 225, 230)
DIM = (140, 143, 155)
CURVE = (255, 196, 84)
REFERENCE = (130, 130, 140)
STATE_COLORS = {"running": (110, 210, 120), "paused": (250, 200, 70),
                "finished": (120, 170, 250), "stopped": (250, 130, 110),
                "saved result": (120, 170, 250)}
# One colour per target in the latent plane (matplotlib's tab10), repeating after ten.
POINT_COLORS = np.array([(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
                         (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127),
                         (188, 189, 34), (23, 190, 207)], dtype=np.uint8)

Rect = tuple  # (x, y, width, height) in frame pixels


@dataclass(frozen=True)
class Layout:
    """Where things are in a frame showing `shown` of the images."""

    shown: int
    cell: int  # side of one image cell, pixels
    targets: list  # [(x, y)] top-left corner of target i
    outputs: list  # [(x, y)] top-left corner of reconstruction i
    header: Rect
    curve: Rect  # the plot area of the error curve
    latent: Rect  # the unit square of the latent plane
    grid: Rect  # the decoded grid


_LABEL_X, _IMAGES_X, _ROWS_Y, _GAP, _MAX_CELL, _MIN_CELL = 10, 110, 56, 4, 84, 18
_PANELS_Y, _PANEL = 276, 280


def layout(num_images: int) -> Layout:
    room = WIDTH - _IMAGES_X - 10
    shown = max(1, min(num_images, room // (_MIN_CELL + _GAP)))
    cell = min(_MAX_CELL, room // shown - _GAP)
    targets = [(_IMAGES_X + i * (cell + _GAP), _ROWS_Y) for i in range(shown)]
    outputs = [(x, _ROWS_Y + cell + 2 * _GAP) for x, _ in targets]
    return Layout(
        shown=shown, cell=cell, targets=targets, outputs=outputs,
        header=(0, 0, WIDTH, _ROWS_Y),
        curve=(86, _PANELS_Y, 300, _PANEL),
        latent=(410, _PANELS_Y, _PANEL, _PANEL),
        grid=(WIDTH - 10 - _PANEL, _PANELS_Y, _PANEL, _PANEL),
    )


# -- images -----------------------------------------------------------------------------------
def to_gray(images: np.ndarray, absolute: bool = False) -> np.ndarray:
    """Float images (N, H, W) -> uint8 0..255: each stretched to its own min..max (the
    paper's display) or, with absolute, 0..1 mapped to 0..255."""
    images = np.asarray(images, dtype=np.float32)
    if absolute:
        scaled = np.clip(images, 0.0, 1.0)
    else:
        lo = images.min(axis=(1, 2), keepdims=True)
        span = images.max(axis=(1, 2), keepdims=True) - lo
        scaled = np.where(span > 0, (images - lo) / np.where(span > 0, span, 1), 0.0)
    return (scaled * 255.0 + 0.5).astype(np.uint8)


def _resize(gray: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour resize of (N, H, W) to (N, size, size)."""
    rows = np.arange(size) * gray.shape[1] // size
    cols = np.arange(size) * gray.shape[2] // size
    return gray[:, rows][:, :, cols]


def _fill(canvas: np.ndarray, rect: Rect, color) -> None:
    x, y, w, h = rect
    canvas[max(y, 0) : max(y + h, 0), max(x, 0) : max(x + w, 0)] = color


# -- numbers ----------------------------------------------------------------------------------
def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _header(canvas: np.ndarray, snap: Snapshot, state: str, absolute: bool) -> None:
    line1 = (f"generation {snap.generation:,}   best error {snap.best_error:,.2f}   "
             f"MAE {snap.best_mae:.5f}")
    rate = f"{snap.evals_per_second:,.0f} evals/s" if snap.evals_per_second else "- evals/s"
    line2 = f"{rate}   elapsed {_clock(snap.elapsed)}"
    draw_text(canvas, _LABEL_X, 6, line1, INK, TEXT)
    draw_text(canvas, _LABEL_X, 6 + LINE_HEIGHT * TEXT, line2, INK, TEXT)
    draw_text(canvas, WIDTH - 10, 6, snap.title, DIM, TEXT, align="right")
    scale = "scale 0..1" if absolute else "scale min..max"
    x = draw_text(canvas, WIDTH - 10, 6 + LINE_HEIGHT * TEXT, scale, DIM, TEXT, align="right")
    x -= text_width(scale, TEXT) + 30
    draw_text(canvas, x, 6 + LINE_HEIGHT * TEXT, state.upper(),
              STATE_COLORS.get(state, INK), TEXT, align="right")


def _nice_ticks(lo: float, hi: float) -> list[float]:
    """1, 2, 5 x powers of ten within [lo, hi] for a log axis."""
    ticks = []
    for e in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1):
        for m in (1, 2, 5):
            v = m * 10.0**e
            if lo <= v <= hi:
                ticks.append(v)
    if len(ticks) > 6:
        ticks = [t for t in ticks if f"{t:.1e}".startswith("1")] or ticks
    elif len(ticks) < 3:  # a narrow range: every multiple
        ticks = [m * 10.0**e for e in range(int(np.floor(np.log10(lo))),
                                             int(np.ceil(np.log10(hi))) + 1)
                 for m in range(1, 10) if lo <= m * 10.0**e <= hi]
    return ticks


def _curve(canvas: np.ndarray, snap: Snapshot, rect: Rect) -> None:
    x0, y0, w, h = rect
    mae = np.asarray(snap.curve, dtype=np.float64)
    mae = mae[np.isfinite(mae) & (mae > 0)]
    if len(mae) == 0:
        return
    # The median image's MAE is a reference only for a curve of MAE values.
    baseline = snap.baseline_mae if snap.curve_label == MAE_CURVE else 0.0
    shown = [mae.min(), mae.max()] + ([baseline] if baseline > 0 else [])
    lo, hi = min(shown) / 1.15, max(shown) * 1.15
    llo, lhi = np.log10(lo), np.log10(hi)

    def ypix(v):
        return (y0 + h - 1 - (np.log10(v) - llo) / (lhi - llo) * (h - 1)).round().astype(int)

    for t in _nice_ticks(lo, hi):
        y = int(ypix(np.array(t)))
        _fill(canvas, (x0, y, w, 1), GRID_LINE)
        draw_text(canvas, x0 - 6, y - 8, f"{t:g}", DIM, TEXT, align="right")
    if baseline > 0:
        y = int(ypix(np.array(baseline)))
        dashes = (np.arange(w) // 6) % 2 == 0
        canvas[y, x0 : x0 + w][dashes] = REFERENCE
        draw_text(canvas, x0 + w - 4, y + 3, "median image", REFERENCE, TEXT, align="right")
    # One value per pixel column (the lowest of the generations it covers), joined column
    # to column by vertical runs.
    if len(mae) >= w:
        values = np.minimum.reduceat(mae, np.arange(w) * len(mae) // w)
    else:
        values = mae[np.arange(w) * len(mae) // w]
    ys = ypix(values) - y0
    prev = np.concatenate([ys[:1], ys[:-1]])
    top, bottom = int(ys.min()), min(int(ys.max()) + 2, h)  # the rows the curve covers
    rows = np.arange(top, bottom)[:, None]
    mask = (rows >= np.minimum(ys, prev)) & (rows <= np.maximum(ys, prev))
    mask |= (rows >= ys) & (rows <= ys + 1)  # 2 px thick
    canvas[y0 + top : y0 + bottom, x0 : x0 + w][mask] = CURVE
    draw_text(canvas, x0 + w, y0 + h + 6, f"{snap.generation:,}", DIM, TEXT, align="right")


def _point(canvas: np.ndarray, x: int, y: int, color, radius: int) -> None:
    _fill(canvas, (x - radius - 1, y - radius - 1, 2 * radius + 3, 2 * radius + 3), (0, 0, 0))
    _fill(canvas, (x - radius, y - radius, 2 * radius + 1, 2 * radius + 1), color)


def _unit_xy(codes: np.ndarray, rect: Rect) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, w, h = rect
    c = np.clip(codes, 0.0, 1.0)
    return ((x0 + c[:, 0] * (w - 1)).round().astype(int),
            (y0 + (1.0 - c[:, 1]) * (h - 1)).round().astype(int))


def _latent(canvas: np.ndarray, snap: Snapshot, rect: Rect, grid_rect: Rect,
            absolute: bool) -> None:
    if snap.codes is None:
        return
    k = snap.grid_size
    gx, gy, gw, gh = grid_rect
    cell = gw // k
    if snap.decoded is not None:
        _paste(canvas, gx, gy, _grid_block(snap.decoded, k, cell, absolute))
    xs, ys = _unit_xy(snap.codes, rect)
    gxs, gys = _unit_xy(snap.codes, (gx, gy, k * cell, k * cell))
    for i in range(len(xs)):
        color = tuple(int(c) for c in POINT_COLORS[i % len(POINT_COLORS)])
        _point(canvas, gxs[i], gys[i], color, 1)
        _point(canvas, xs[i], ys[i], color, 3)
    # Labels last, so no marker covers one; targets within a few pixels share one label.
    # A label goes right of its point, or left of it at the panel's right edge; one that would
    # leave the panel or cover another is left out, so that many images give a readable few
    # labels, not a smear spilling onto the decoded grid.
    groups: list = []
    for i in range(len(xs)):
        for gx_, gy_, names in groups:
            if abs(gx_ - xs[i]) <= 6 and abs(gy_ - ys[i]) <= 6:
                names.append(snap.labels[i])
                break
        else:
            groups.append((xs[i], ys[i], [snap.labels[i]]))
    x0, y0, w, h = rect
    drawn: list = []  # (left, top, right, bottom) of each label drawn
    for x, y, names in groups:
        text = ",".join(names[:4]) + (f"+{len(names) - 4}" if len(names) > 4 else "")
        tw, th = text_width(text, TEXT), GLYPH_HEIGHT * TEXT
        left = x + 6 if x + 6 + tw <= x0 + w else x - 6 - tw
        top = min(max(y - 8, y0), y0 + h - th)
        box = (left, top, left + tw, top + th)
        if left < x0 or any(box[0] <= b[2] and b[0] <= box[2] and box[1] <= b[3]
                            and b[1] <= box[3] for b in drawn):
            continue
        drawn.append(box)
        draw_text(canvas, left, top, text, INK, TEXT)


# -- the frame --------------------------------------------------------------------------------
_BLOCKS: dict = {}  # (id(images), ...) -> (images, RGB block): reused while images live
_BLOCKS_LOCK = threading.Lock()  # the window and a recording may draw at the same time


def _cached_block(images: np.ndarray, key: tuple, make) -> np.ndarray:
    """The RGB block drawn from `images` (kept alive here, so its id stays its own)."""
    full_key = (id(images), *key)
    with _BLOCKS_LOCK:
        hit = _BLOCKS.get(full_key)
    if hit is not None and hit[0] is images:
        return hit[1]
    block = make()
    block.flags.writeable = False
    with _BLOCKS_LOCK:
        if len(_BLOCKS) >= 16:
            del _BLOCKS[next(iter(_BLOCKS))]  # the oldest
        _BLOCKS[full_key] = (images, block)
    return block


def _row_block(images: np.ndarray, n: int, cell: int, absolute: bool) -> np.ndarray:
    """The first n images side by side, _GAP pixels apart: (cell, n*(cell+gap)-gap, 3)."""
    def make():
        tiles = _resize(to_gray(images[:n], absolute), cell).transpose(1, 0, 2)
        block = np.empty((cell, n, cell + _GAP, 3), dtype=np.uint8)
        block[:, :, cell:] = BACKGROUND
        for channel in range(3):  # far faster than broadcasting over a size-3 axis
            block[:, :, :cell, channel] = tiles
        return block.reshape(cell, n * (cell + _GAP), 3)[:, : n * (cell + _GAP) - _GAP]
    return _cached_block(images, ("row", n, cell, absolute), make)


def _grid_block(images: np.ndarray, k: int, cell: int, absolute: bool) -> np.ndarray:
    """k*k images in reading order as one (k*cell, k*cell, 3) square."""
    def make():
        tiles = _resize(to_gray(images, absolute), cell)
        square = tiles.reshape(k, k, cell, cell).transpose(0, 2, 1, 3).reshape(k * cell, -1)
        block = np.empty((k * cell, k * cell, 3), dtype=np.uint8)
        for channel in range(3):
            block[:, :, channel] = square
        return block
    return _cached_block(images, ("grid", k, cell, absolute), make)


def _paste(canvas: np.ndarray, x: int, y: int, block: np.ndarray) -> None:
    canvas[y : y + block.shape[0], x : x + block.shape[1]] = block


@lru_cache(maxsize=8)
def _static(num_images: int, has_latent: bool, k: int, live: bool,
            curve_label: str) -> np.ndarray:
    """Everything of a frame that no snapshot changes: background, panels, titles, keys."""
    canvas = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    canvas[:] = BACKGROUND
    lay = layout(num_images)
    for name, corners in (("targets", lay.targets), ("best", lay.outputs)):
        draw_text(canvas, _LABEL_X, corners[0][1] + (lay.cell - 18) // 2, name, INK, TEXT)
    x0, y0, w, h = lay.curve
    draw_text(canvas, x0 - 76, y0 - 22, f"{curve_label} (log)", INK, TEXT)
    _fill(canvas, lay.curve, PANEL)
    draw_text(canvas, x0, y0 + h + 6, "0", DIM, TEXT)
    x0, y0, w, h = lay.latent
    draw_text(canvas, x0, y0 - 22, "latent codes", INK, TEXT)
    draw_text(canvas, lay.grid[0], lay.grid[1] - 22, "decoded grid", INK, TEXT)
    _fill(canvas, lay.latent, PANEL)
    _fill(canvas, lay.grid, PANEL)
    if has_latent:
        for i in range(1, k):  # cell borders of the decoded grid, for reference
            _fill(canvas, (x0 + i * w // k, y0, 1, h), GRID_LINE)
            _fill(canvas, (x0, y0 + i * h // k, w, 1), GRID_LINE)
        draw_text(canvas, x0, y0 + h + 6, "0", DIM, TEXT)
        draw_text(canvas, x0 + w, y0 + h + 6, "1", DIM, TEXT, align="right")
    else:
        draw_text(canvas, x0 + 8, y0 + 8, "no 2-D bottleneck", DIM, TEXT)
    keys = ("space pause   s screenshot   a scale   q/Esc stop" if live
            else "s screenshot   a scale   q/Esc close")
    draw_text(canvas, _LABEL_X, HEIGHT - 24, keys, DIM, TEXT)
    canvas.flags.writeable = False
    return canvas


def render(snap: Snapshot, absolute: bool = False, state: str = "running",
           canvas: np.ndarray | None = None) -> np.ndarray:
    """Draw the view of `snap` into a (HEIGHT, WIDTH, 3) uint8 RGB array (a new one, or
    `canvas`) and return it. absolute: images on the fixed 0..1 scale instead of each
    stretched to its own min..max. state: the word shown in the header."""
    if canvas is None:
        canvas = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    lay = layout(len(snap.targets))
    np.copyto(canvas, _static(len(snap.targets), snap.codes is not None, snap.grid_size,
                              state != "saved result", snap.curve_label))
    _header(canvas, snap, state, absolute)
    n, cell = lay.shown, lay.cell
    for images, corners in ((snap.targets, lay.targets), (snap.reconstructions, lay.outputs)):
        _paste(canvas, *corners[0], _row_block(images, n, cell, absolute))
    if len(snap.targets) > n:
        draw_text(canvas, WIDTH - 10, lay.outputs[0][1] + cell + 4,
                  f"first {n} of {len(snap.targets)} images", DIM, TEXT, align="right")
    _curve(canvas, snap, lay.curve)
    _latent(canvas, snap, lay.latent, lay.grid, absolute)
    return canvas
