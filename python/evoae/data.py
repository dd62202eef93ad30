"""MNIST data: the IDX file format, the ten digits shipped with the package, scaling.

The ten digits are the first occurrence of each digit 0..9 in the MNIST test set
(test-set indices 3, 2, 1, 18, 4, 8, 11, 0, 61, 7), the data of Varadi's experiment.
"""
from __future__ import annotations

import gzip
import os
import zlib
from importlib import resources

import numpy as np

__all__ = ["load_idx", "ten_digits", "ten_digit_labels", "scale", "IdxError"]

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
    expected = header + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != expected:
        kind = "truncated" if len(raw) < expected else "too long"
        raise IdxError(
            f"{source}: {kind}: header says {dims} ({expected} bytes), file has {len(raw)} bytes"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def load_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed), e.g. t10k-images-idx3-ubyte.gz.

    Returns an array with the file's dimensions and type (uint8 (N, 28, 28) for MNIST
    images, uint8 (N,) for labels). Raises IdxError (a ValueError) for a damaged file and
    FileNotFoundError for a missing one.
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


def scale(images: np.ndarray) -> np.ndarray:
    """Scale 0..255 pixels to [0.1, 0.9] as the original does: x/255*0.8 + 0.1, float32."""
    images = np.asarray(images)
    return (images.astype(np.float32) / np.float32(255.0) * np.float32(0.8) + np.float32(0.1)).astype(
        np.float32
    )
