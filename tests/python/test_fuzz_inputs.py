"""Property-based fuzz tests (Hypothesis) of what enters evoae from outside: IDX files (random
bytes, random headers, truncations, raw and gzip), checkpoint and result archives (random
bytes, truncations, flipped and inserted bytes) and the Python API (arrays of odd dtypes and
shapes into Evolution, Network.forward and data.scale). Each input either works, giving what
it should, or raises a clear Python exception (ValueError, TypeError or OSError with a
message); never a crash, a hang or silent garbage.

CI runs FUZZ_EXAMPLES examples per test (50, derandomized, so a run is repeatable); set
EVOAE_FUZZ_EXAMPLES=5000 for a longer, randomized search. A run that hangs is stopped with
every thread's traceback (faulthandler) after HANG_SECONDS.
"""
import faulthandler
import gzip
import os
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import evoae
from evoae.data import IdxError, load_idx, scale
from evoae.io import checkpoint
from idx_files import idx_bytes

LONG = "EVOAE_FUZZ_EXAMPLES" in os.environ
FUZZ_EXAMPLES = int(os.environ.get("EVOAE_FUZZ_EXAMPLES", "50"))
HANG_SECONDS = 600 + (FUZZ_EXAMPLES if LONG else 0)
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=5000, derandomize=not LONG,
                database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CLEAR = (ValueError, TypeError, OSError)  # IdxError is a ValueError

IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32, 0x0D: np.float32,
             0x0E: np.float64}


@pytest.fixture(scope="module", autouse=True)
def hang_guard():
    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory(prefix="evoae-fuzz-") as name:
        yield Path(name)


def clear(error: BaseException, *names) -> None:
    """A clear exception: of the expected kinds, with a message that names the file."""
    assert isinstance(error, CLEAR), repr(error)
    event(f"refused: {type(error).__name__}")  # --hypothesis-show-statistics shows the mix
    message = str(error)
    assert message.strip(), repr(error)
    for name in names:
        assert str(name) in message, message


def damage(data: bytes, draw) -> bytes:
    """data truncated, with bytes flipped, or with random bytes inserted."""
    how = draw(st.sampled_from(["truncate", "flip", "insert", "cut-middle"]))
    at = draw(st.integers(0, max(0, len(data) - 1)))
    if how == "truncate":
        return data[:at]
    if how == "flip":
        out = bytearray(data)
        for position in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=8)):
            out[position] ^= draw(st.integers(1, 255))
        return bytes(out)
    if how == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    return data[:at] + data[at + draw(st.integers(1, 4096)):]


# -- IDX files --------------------------------------------------------------------------------------

def check_idx(path: Path, dims=None, type_code=None) -> None:
    try:
        array = load_idx(path)
    except CLEAR as e:
        clear(e, path)
        return
    event("accepted")
    assert array.size > 0 and array.dtype in set(map(np.dtype, IDX_TYPES.values()))
    if array.dtype.kind == "f":
        assert np.isfinite(array).all()
    if dims is not None:
        assert array.shape == tuple(dims) and array.dtype == IDX_TYPES[type_code]


@FUZZ
@given(raw=st.binary(max_size=2048), packed=st.booleans())
def test_fuzz_idx_random_bytes(folder, raw, packed):
    path = folder / ("random.gz" if packed else "random")
    path.write_bytes(gzip.compress(raw, compresslevel=1) if packed else raw)
    check_idx(path)


@FUZZ
@given(type_code=st.sampled_from([*IDX_TYPES, 0x00, 0x0A, 0xFF]),
       dims=st.lists(st.one_of(st.integers(0, 6), st.integers(0, 2**32 - 1)), max_size=5),
       extra=st.one_of(st.just(0), st.integers(-9, 9)), packed=st.booleans(), data=st.data())
def test_fuzz_idx_headers_and_sizes(folder, type_code, dims, extra, packed, data):
    # A header as the format defines it, with any sizes, and a body of about the size it asks
    # for (exactly, a few bytes off, or small when it asks for too much to write).
    header = bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    itemsize = np.dtype(IDX_TYPES.get(type_code, np.uint8)).itemsize
    wanted = int(np.prod(dims, dtype=object)) * itemsize if dims else 0
    length = max(0, wanted + extra) if wanted <= 50_000 else data.draw(st.integers(0, 64))
    body = data.draw(st.binary(min_size=min(length, 256), max_size=min(length, 256)))
    body = (body * (length // max(1, len(body)) + 1))[:length]
    raw = header + body
    path = folder / ("header.gz" if packed else "header")
    path.write_bytes(gzip.compress(raw, compresslevel=1) if packed else raw)
    valid = type_code in IDX_TYPES and dims and 0 not in dims and extra == 0 and wanted <= 50_000
    check_idx(path, dims if valid else None, type_code)
    if valid and IDX_TYPES[type_code] not in (np.float32, np.float64):
        assert load_idx(path).shape == tuple(dims)  # a valid integer file always loads


@pytest.fixture(scope="module")
def digits_idx():
    return idx_bytes(evoae.data.ten_digits()[:3])


@FUZZ
@given(packed=st.booleans(), data=st.data())
def test_fuzz_idx_damaged_files(folder, digits_idx, packed, data):
    original = gzip.compress(digits_idx, compresslevel=1) if packed else digits_idx
    path = folder / ("digits.gz" if packed else "digits")
    path.write_bytes(damage(original, data.draw))
    check_idx(path)


# -- checkpoints and results ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def archives(folder):
    """A small run's checkpoint and result: their bytes and what they hold."""
    net = evoae.Network(6, 6).dense(2).dense(36).reshape(6, 6, 1)
    images = np.random.default_rng(0).uniform(0.1, 0.9, (3, 6, 6)).astype(np.float32)
    evo = evoae.Evolution(net, images, population=3, mutations=2, seed=0, threads=1)
    evo.run(generations=3)
    evo.save(folder / "good-checkpoint.npz")
    evoae.save_result(folder / "good-result.npz", evo, {"seed": 0})
    return {"checkpoint": (folder / "good-checkpoint.npz").read_bytes(),
            "result": (folder / "good-result.npz").read_bytes(),
            "population": evo.population, "genome": evo.best_genome, "images": images}


def check_checkpoint(path: Path, archives) -> None:
    try:
        evo = evoae.Evolution.load(path, threads=1)
    except CLEAR as e:
        clear(e, path)
        return
    event("accepted")
    np.testing.assert_array_equal(evo.population, archives["population"])  # never garbage
    np.testing.assert_array_equal(evo.images, archives["images"])


def check_result(path: Path, archives) -> None:
    try:
        result = evoae.load_result(path)
    except CLEAR as e:
        clear(e, path)
        return
    event("accepted")
    np.testing.assert_array_equal(result.genome, archives["genome"])
    np.testing.assert_array_equal(result.images, archives["images"])


@FUZZ
@given(raw=st.binary(max_size=4096), zip_head=st.booleans())
def test_fuzz_archives_random_bytes(folder, archives, raw, zip_head):
    path = folder / "random.npz"
    path.write_bytes((b"PK\x03\x04" if zip_head else b"") + raw)
    check_checkpoint(path, archives)
    check_result(path, archives)


@FUZZ
@given(kind=st.sampled_from(["checkpoint", "result"]), data=st.data())
def test_fuzz_archives_damaged(folder, archives, kind, data):
    path = folder / f"damaged-{kind}.npz"
    path.write_bytes(damage(archives[kind], data.draw))
    (check_checkpoint if kind == "checkpoint" else check_result)(path, archives)


# -- the Python API ---------------------------------------------------------------------------------

ODD_DTYPES = st.one_of(hnp.scalar_dtypes(), hnp.byte_string_dtypes(max_len=3),
                       hnp.unicode_string_dtypes(max_len=3))
ODD_SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=7)


@st.composite
def spoiled(draw, arrays):
    """An array of `arrays` with one NaN or inf planted (when it has room for one)."""
    array = draw(arrays).copy()
    if array.size:
        array.flat[draw(st.integers(0, array.size - 1))] = draw(
            st.sampled_from([np.nan, np.inf, -np.inf]))
    return array


def near(shapes):
    """Arrays of the given shapes, float32 in 0..1 (which work), the same with a NaN or inf
    planted, or of any dtype and values; now and then of any shape."""
    clean = hnp.arrays(np.float32, shapes, elements=st.floats(0, 1, width=32))
    return st.one_of(clean, spoiled(clean), hnp.arrays(ODD_DTYPES, st.one_of(shapes, ODD_SHAPES)))


def near_images(side: int):
    """Arrays, most of them image-shaped: (side, side) or (S, side, side)."""
    return near(st.one_of(st.just((side, side)),
                          st.tuples(st.integers(0, 3), st.just(side), st.just(side))))


SMALL = evoae.Network(4, 4).dense(3).dense(16).reshape(4, 4, 1)


def finite_numbers(array: np.ndarray) -> bool:
    """What an accepted input must have been: real numbers, finite as float32."""
    with np.errstate(over="ignore"):
        return array.dtype.kind in "biuf" and np.isfinite(array.astype(np.float32)).all()


@FUZZ
@given(images=near_images(4))
def test_fuzz_evolution_images(images):
    try:
        evo = evoae.Evolution(SMALL, images, population=2, mutations=1, threads=1)
    except CLEAR as e:
        clear(e)
        return
    event("accepted")
    # accepted: real numbers the sigmoid can reach, copied as float32 (S, 4, 4)
    assert finite_numbers(images) and images.dtype != np.uint8
    assert evo.images.dtype == np.float32 and evo.images.shape[1:] == (4, 4)
    assert np.isfinite(evo.images).all() and 0 <= evo.images.min() <= evo.images.max() <= 1
    assert np.isfinite(evo.best_error)
    evo.step()


@FUZZ
@given(genome=near(st.just((SMALL.num_params,))), images=near_images(4),
       population=st.booleans())
def test_fuzz_forward(genome, images, population):
    forward = SMALL.forward_population if population else SMALL.forward
    genomes = genome[None] if population and genome.ndim == 1 else genome
    try:
        out = forward(genomes, images, threads=1)
    except CLEAR as e:
        clear(e)
        return
    event("accepted")
    assert finite_numbers(genome) and finite_numbers(images)  # NaN weights give finite nonsense
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert out.shape[-2:] == (4, 4) and 0 <= out.min() and out.max() <= 1  # sigmoid


@FUZZ
@given(pixels=st.one_of(near(ODD_SHAPES), hnp.arrays(hnp.integer_dtypes(), ODD_SHAPES)))
def test_fuzz_scale(pixels):
    try:
        scaled = scale(pixels)
    except CLEAR as e:
        clear(e)
        return
    event("accepted")
    assert scaled.dtype == np.float32 and scaled.shape == pixels.shape
    assert np.isfinite(scaled).all()
    if scaled.size:
        assert 0.1 - 1e-6 <= scaled.min() and scaled.max() <= 0.9 + 1e-6

