"""bench/numpy_reference.py, the NumPy peer in the benchmarks, against the tests' one NumPy
reference (reference.py): the bench one vectorises the population in float32 for speed and
hard-codes the paper's network (bench/workload.py's genome layout), so it is a second
implementation, and this checks it computes the same network."""
from pathlib import Path

import numpy as np
import pytest

import evoae
import reference as ref

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def bench():
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(BENCH))  # the bench scripts import each other by plain name
        import numpy_reference
        import workload

        yield numpy_reference, workload


def test_workload_layout_is_the_reference_genome(bench):
    _, workload = bench
    layers = [layer for layer in ref.build(ref.VARADI_SPEC) if layer.num_params]
    # workload.LAYOUT names weights and biases apart: one entry for a conv's kernels, two for a
    # dense layer's weights then biases, in the genome's order.
    sizes = [int(np.prod(shape)) for _, shape in workload.LAYOUT]
    want = []
    for layer in layers:
        want += [layer.num_weights] + ([layer.num_biases] if layer.num_biases else [])
    assert sizes == want
    assert workload.NUM_PARAMS == ref.num_params(ref.VARADI_SPEC) == 1397


def test_bench_forward_and_errors_match_the_reference(bench):
    numpy_reference, _ = bench
    rng = np.random.default_rng(4)
    genomes = rng.uniform(-1, 1, (3, 1397)).astype(np.float32)
    images = evoae.data.scale(evoae.data.ten_digits()[:4])
    got = numpy_reference.forward(genomes, images)  # (P, S, 28, 28) float32
    want = np.stack([ref.forward_many(ref.VARADI_SPEC, g, images) for g in genomes])
    assert got.shape == want.shape == (3, 4, 28, 28)
    assert np.abs(got - want).max() < 1e-5
    errors = numpy_reference.errors(genomes, images)
    np.testing.assert_allclose(errors, np.abs(want - images).sum(axis=(1, 2, 3)), rtol=1e-5)
