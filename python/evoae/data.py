"""MNIST data: the IDX file format, the ten digits shipped with the package, scaling.

The ten digits are the first occurrence of each digit 0..9 in the MNIST test set
(test-set indices 3, 2, 1, 18, 4, 8, 11, 0, 61, 7), the data of Varadi's experiment.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from importlib import resources

import numpy as np

__all__ = ["load_idx", "ten_digits", "ten_digit_labels", "scale", "IdxError", "require_finite"]

# IDX type codes (third byte of the magic number) -> numpy dtype (big-endian).
_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TEN_DIGITS_IMAGES = "ten-digits-images-idx3-ubyte.gz"
_TEN_DIGITS_LABELS = "ten-digits-labels-idx1-ubyte.gz"


class IdxError(ValueError):
    """A file that is not a valid IDX file (bad magic, truncated, wrong size)."""


def _read_bytes(path: str | os.PathLike) -> bytes:
    with open(path, "rb") as f:
        head = f.read(2)
        f.seek(0)
        if head == b"\x1f\x8b":  # gzip magic
            try:
                with gzip.open(f) as g:
                    return g.read()
            except (OSError, EOFError, zlib.error) as e:
                raise IdxError(f"{path}: damaged gzip file ({e})") from e
        return f.read()


def _parse_idx(raw: bytes, source: str) -> np.ndarray:
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise IdxError(f"{source}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    dtype = _IDX_TYPES[raw[2]]
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise IdxError(f"{source}: truncated IDX header ({len(raw)} bytes)")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if 0 in dims:
        raise IdxError(f"{source}: holds no data: the header says dimensions {dims}")
    # Python integers: a product of header sizes never overflows into a wrong byte count.
    expected = header + math.prod(dims) * dtype.itemsize
    if len(raw) != expected:
        kind = "truncated" if len(raw) < expected else "too long"
        raise IdxError(f"{source}: {kind}: the header says dimensions {dims} of {dtype.name}, "
                       f"{expected:,} bytes with the header; the data has {len(raw):,} bytes")
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    array = array.astype(dtype.newbyteorder("="))
    if dtype.kind == "f":
        require_finite(array, source, IdxError)
    return array


def load_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed), e.g. t10k-images-idx3-ubyte.gz.

    Returns an array with the file's dimensions and type (uint8 (N, 28, 28) for MNIST
    images, uint8 (N,) for labels). Raises IdxError (a ValueError) naming the file and the
    problem for a damaged or empty file or NaN/inf values, and FileNotFoundError for a
    missing one.
    """
    return _parse_idx(_read_bytes(path), os.fspath(path))


def _package_file(name: str) -> np.ndarray:
    with resources.as_file(resources.files("evoae") / "_data" / name) as path:
        return load_idx(path)


def ten_digits() -> np.ndarray:
    """The ten digits 0..9, uint8 (10, 28, 28): image d shows digit d."""
    return _package_file(_TEN_DIGITS_IMAGES)


def ten_digit_labels() -> np.ndarray:
    """Labels of ten_digits(): uint8 0..9."""
    return _package_file(_TEN_DIGITS_LABELS)


def require_finite(array: np.ndarray, what: str, error: type = ValueError) -> None:
    """Raise `error` (a ValueError) when `array` holds NaN or infinite values, saying how many
    and where the first one is (`what` names the array)."""
    bad = ~np.isfinite(array)
    if bad.any():
        count = int(bad.sum())
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise error(f"{what}: {count:,} NaN or infinite value{'s' * (count > 1)}, the "
                         f"first at index {first if len(first) != 1 else first[0]}")


def scale(images: np.ndarray) -> np.ndarray:
    """Scale pixels to [0.1, 0.9] as the original does, float32: integer pixels 0..255 (uint8
    as in MNIST, or any integer type) to x/255*0.8 + 0.1; float pixels, taken as intensities
    0..1 (a float IDX file), to x*0.8 + 0.1, so both give the same images. Raises ValueError
    for values outside those ranges (float pixels 0..255 included: give them as integers),
    NaN or infinite values, and TypeError for arrays that are not numbers."""
    images = np.asarray(images)
    kind = images.dtype.kind
    if kind not in "iuf":
        raise TypeError(f"pixels must be integers 0..255 or floats 0..1, got dtype "
                        f"{images.dtype}")
    if kind == "f":
        require_finite(images, "the pixels")
    if images.size:
        low, high = images.min(), images.max()
        top = 1 if kind == "f" else 255
        if low < 0 or high > top:
            hint = (" (0..255 pixels as floats: convert them to integers first, e.g. "
                    "np.rint(images).astype(np.uint8))" if kind == "f" else "")
            raise ValueError(f"{images.dtype} pixels must lie in 0..{top}, got values from "
                             f"{low:g} to {high:g}{hint}")
    intensity = images.astype(np.float32)
    if kind != "f":
        intensity /= np.float32(255.0)
    return (intensity * np.float32(0.8) + np.float32(0.1)).astype(np.float32)
