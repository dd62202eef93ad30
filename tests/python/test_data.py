"""Data: the ten digits shipped with the package, the IDX reader, scaling."""
import gzip
from pathlib import Path

import numpy as np
import pytest

import evoae
from evoae.data import IdxError, load_idx, scale
from idx_files import idx_bytes, mnist_like, write_idx

MNIST = Path(__file__).parents[2].parent / "shared" / "data" / "mnist"
TEN_DIGIT_INDICES = [3, 2, 1, 18, 4, 8, 11, 0, 61, 7]  # first test-set image of digits 0..9


def test_ten_digits():
    images = evoae.data.ten_digits()
    assert images.dtype == np.uint8
    assert images.shape == (10, 28, 28)
    # real digits: a dark background, some ink, all different
    assert images.max() == 255 and images.min() == 0
    for image in images:
        assert 0.02 < (image > 128).mean() < 0.5
    assert len({image.tobytes() for image in images}) == 10


def test_ten_digit_labels():
    labels = evoae.data.ten_digit_labels()
    assert labels.dtype == np.uint8
    assert labels.tolist() == list(range(10))


def test_mnist_like_files_read_back(tmp_path):
    # the stand-in for MNIST the large-data tests use: images and labels, raw and gzip
    images, labels = mnist_like(50, seed=3)
    assert images.shape == (50, 28, 28) and labels.tolist() == list(range(10)) * 5
    assert len({image.tobytes() for image in images}) == 50
    for name, array in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
        for path in (tmp_path / name, tmp_path / f"{name}.gz"):
            got = load_idx(write_idx(path, array))
            assert got.dtype == np.uint8
            np.testing.assert_array_equal(got, array)


def test_real_mnist_ten_digits_are_its_first_occurrences():
    # Only the real file can show that the shipped digits are MNIST's; skipped without it.
    images_path = MNIST / "t10k-images-idx3-ubyte.gz"
    labels_path = MNIST / "t10k-labels-idx1-ubyte.gz"
    if not images_path.exists() or not labels_path.exists():
        pytest.skip(f"the MNIST test set is not at {MNIST} (shared/data next to the project)")
    images, labels = load_idx(images_path), load_idx(labels_path)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,)
    first = [int(np.flatnonzero(labels == d)[0]) for d in range(10)]
    assert first == TEN_DIGIT_INDICES
    np.testing.assert_array_equal(evoae.data.ten_digits(), images[TEN_DIGIT_INDICES])
    # the data README's figures for the whole file
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert images.mean() == pytest.approx(33.79, abs=0.01)


# -- load_idx ---------------------------------------------------------------------------------------

def test_load_idx_raw_and_gz(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    raw = tmp_path / "images-idx3-ubyte"
    raw.write_bytes(idx_bytes(images))
    packed = tmp_path / "images-idx3-ubyte.gz"
    packed.write_bytes(gzip.compress(idx_bytes(images)))
    for path in (raw, packed, str(raw)):
        got = load_idx(path)
        assert got.dtype == np.uint8 and got.shape == (3, 28, 28)
        np.testing.assert_array_equal(got, images)


def test_load_idx_labels_and_other_types(tmp_path):
    labels = np.array([7, 2, 1, 0, 4], np.uint8)
    (tmp_path / "labels").write_bytes(idx_bytes(labels))
    np.testing.assert_array_equal(load_idx(tmp_path / "labels"), labels)
    shorts = np.array([[-300, 2], [1000, -1]], np.int16)
    (tmp_path / "shorts").write_bytes(idx_bytes(shorts, 0x0B))
    got = load_idx(tmp_path / "shorts")
    assert got.tolist() == shorts.tolist()
    floats = np.array([1.5, -2.25, 1e-3], np.float32)
    (tmp_path / "floats").write_bytes(idx_bytes(floats, 0x0D))
    np.testing.assert_array_equal(load_idx(tmp_path / "floats"), floats)


def refused(path, *words):
    with pytest.raises(IdxError) as info:
        load_idx(path)
    assert isinstance(info.value, ValueError)
    message = str(info.value).lower()
    assert str(path).lower() in message or Path(path).name.lower() in message, message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_load_idx_truncated(tmp_path):
    good = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    path = tmp_path / "short"
    path.write_bytes(good[:-100])
    refused(path, "truncated")
    path.write_bytes(good[:10])  # inside the header
    refused(path, "truncated")
    packed = tmp_path / "short.gz"
    packed.write_bytes(gzip.compress(good[:-1]))
    refused(packed, "truncated")


def test_load_idx_too_long(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(np.zeros((4, 28, 28), np.uint8)) + b"\0")
    refused(path, "long")


def test_load_idx_bad_magic(tmp_path):
    path = tmp_path / "magic"
    good = idx_bytes(np.zeros((2, 28, 28), np.uint8))
    path.write_bytes(b"\x01" + good[1:])
    refused(path, "magic")
    path.write_bytes(good[:2] + b"\x42" + good[3:])  # unknown type code
    refused(path, "magic")
    path.write_bytes(b"")
    refused(path)
    path.write_bytes(b"P5\n28 28\n255\n" + bytes(784))  # a PGM image, not IDX
    refused(path, "magic")


def test_load_idx_damaged_gzip(tmp_path):
    packed = gzip.compress(idx_bytes(np.arange(2 * 784, dtype=np.uint8).reshape(2, 28, 28)))
    path = tmp_path / "damaged.gz"
    path.write_bytes(packed[: len(packed) // 2])  # cut in the middle
    refused(path, "gzip")
    corrupt = bytearray(packed)
    corrupt[len(corrupt) // 2] ^= 0xFF
    corrupt[len(corrupt) // 2 + 1] ^= 0xFF
    path.write_bytes(bytes(corrupt))
    refused(path, "gzip")


def test_load_idx_gzip_with_bad_deflate_data(tmp_path):
    # a gzip header followed by data that is not deflate at all (zlib.error inside gzip)
    path = tmp_path / "garbage.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + b"garbage" * 10)
    refused(path, "gzip")


def test_load_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here.gz"):
        load_idx(tmp_path / "nothing-here.gz")


# -- scale ------------------------------------------------------------------------------------------

def test_scale():
    x = np.array([[0, 255], [51, 204]], np.uint8)
    y = scale(x)
    assert y.dtype == np.float32 and y.shape == (2, 2)
    assert y[0, 0] == pytest.approx(0.1, abs=1e-7)
    assert y[0, 1] == pytest.approx(0.9, abs=1e-7)
    assert y[1, 0] == pytest.approx(0.26, abs=1e-6)  # 51/255*0.8 + 0.1
    assert y[1, 1] == pytest.approx(0.74, abs=1e-6)
    digits = scale(evoae.data.ten_digits())
    assert digits.shape == (10, 28, 28) and digits.dtype == np.float32
    assert digits.min() == pytest.approx(0.1) and digits.max() == pytest.approx(0.9)
