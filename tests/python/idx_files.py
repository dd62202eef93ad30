"""IDX files (MNIST's format) written by the tests, and MNIST-like digits to fill them: the
large-data paths (--data, --samples, --batch, checkpoint fingerprints) run in CI without the
real MNIST test set."""
import gzip
import struct
from pathlib import Path

import numpy as np

import evoae

DTYPES = {0x08: ">u1", 0x0B: ">i2", 0x0D: ">f4"}  # the IDX type codes the tests write


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file written from the format's definition: 0, 0, type, ndim, big-endian dims."""
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(struct.pack(">I", d)
                                                             for d in array.shape)
    return header + np.asarray(array).astype(DTYPES[type_code]).tobytes()


def write_idx(path, array: np.ndarray, type_code: int = 0x08) -> Path:
    """Writes `array` as an IDX file at `path`, gzip-compressed (level 1: fast) when the name
    ends in .gz, raw otherwise. Returns the path."""
    path = Path(path)
    data = idx_bytes(array, type_code)
    path.write_bytes(gzip.compress(data, compresslevel=1) if path.suffix == ".gz" else data)
    return path


def mnist_like(n: int, seed: int = 0) -> tuple:
    """n images (n, 28, 28) and labels (n,), both uint8: the ten shipped digits in turn, each
    shifted by up to 2 pixels and with noise 0..29 added, so every image differs."""
    rng = np.random.default_rng(seed)
    base, labels = evoae.data.ten_digits(), evoae.data.ten_digit_labels()
    shifts = rng.integers(-2, 3, size=(n, 2))
    images = rng.integers(0, 30, size=(n, 28, 28)) + base[np.arange(n) % 10]
    for i, (dy, dx) in enumerate(shifts):
        images[i] = np.roll(images[i], (dy, dx), (0, 1))
    return np.minimum(images, 255).astype(np.uint8), labels[np.arange(n) % 10]
