"""The training benchmark's own pieces (bench/train_side_by_side.py, bench/torch_train.py,
bench/workload.py): the summary it reports, the settings evoae's side trains with and the
PyTorch peer's start. The PyTorch part runs only where torch is installed
(pip install ".[bench]")."""
from pathlib import Path

import numpy as np
import pytest

import evoae

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def bench():
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(BENCH))  # the bench scripts import each other by plain name
        import numpy_reference
        import train_side_by_side
        import workload

        yield train_side_by_side, workload, numpy_reference


def run(implementation, allocator, networks, evals_per_s, undisturbed=3):
    return {"implementation": implementation, "allocator": allocator, "networks": networks,
            "threads": 2, "evals_per_s": evals_per_s, "gens_per_s": evals_per_s / 10 /
            networks, "undisturbed_runs": undisturbed, "runs": [{}] * 3,
            "cores_used_by_others": 0.0}


def test_summary_compares_evoae_with_torch_at_its_best(bench):
    train_side_by_side, _, _ = bench
    results = [run("evoae", "default", 8, 100_000.0), run("torch", "default", 8, 10_000.0),
               run("torch", "tuned", 8, 20_000.0), run("torch", "tuned", 1, 3_000.0, 2),
               {"implementation": "evoae", "allocator": "default", "networks": 1,
                "threads": 2, "error": "the trainer stopped"}]
    rows = train_side_by_side.summary(results, repeats=3)
    assert [(r["networks"], r["threads"]) for r in rows] == [(1, 2), (8, 2)]
    failed, eight = rows
    assert failed["evoae_evals_per_s"] is None and failed["ratio"] is None
    assert failed["torch_evals_per_s"] == 3_000.0 and failed["disturbed"]
    assert eight["torch_allocator"] == "tuned" and eight["ratio"] == 5.0
    assert not eight["disturbed"]

    info = {"cpu": "a CPU", "cores": 2, "simd": ["avx2"], "platform": "Linux", "glibc": "2.36",
            "python": "3.11", "versions": {"evoae": "1", "torch": "2", "numpy": "3"},
            "evoae_build": {"lanes": 8, "isa": "avx2"}, "checkout_commit": "abc"}
    settings = {"command": "python train_side_by_side.py", "repeats": 3, "seconds": 2.0,
                "load_average": [1.0, 2.0]}
    text = train_side_by_side.markdown(rows, results, info, settings)
    assert "| 8 | 2 | 100,000 | 20,000 | tuned | 5.00x |" in text
    assert "| 1 | 2 | failed | 3,000 | tuned | - * |" in text
    assert "| evoae | default | 1 | 2 | failed: the trainer stopped |" in text


def test_torch_training_starts_from_the_workload_population(bench):
    torch = pytest.importorskip("torch")
    _, workload, numpy_reference = bench
    import torch_train

    images = evoae.data.scale(evoae.data.ten_digits()[:3])
    training = torch_train.Training(images, networks=4)
    start = workload.initial_population(4)
    np.testing.assert_array_equal(training.genomes(), start)  # the layout round-trips
    with torch.no_grad():
        losses = training.losses().numpy()
    pixels = images.size
    np.testing.assert_allclose(losses, numpy_reference.errors(start, images) / pixels,
                               rtol=1e-5)
    training.run(2)
    assert training.evaluations == 2 * 4 * 3
    moved = np.abs(training.genomes() - start)
    # Adam's first steps move each parameter by about the learning rate (sign(gradient)).
    assert moved.max() <= 2 * workload.LEARNING_RATE * 1.01 and moved.mean() > 0


def test_trainer_settings_are_the_workload(bench):
    _, workload, _ = bench
    images = workload.images()
    for networks in workload.TRAIN_NETWORKS:
        settings = workload.trainer_settings(networks, threads=1)
        trainer = evoae._core.Trainer(evoae.varadi_network(), images, settings,
                                      genomes=workload.initial_population(networks))
        resolved = trainer.settings
        assert {k: resolved[k] for k in settings} == settings
        # The full batch of every image each step: no mini-batch, nothing held out.
        assert resolved["batch"] is None and trainer.num_train == 10 and trainer.num_holdout == 0
        np.testing.assert_array_equal(trainer.genomes(), workload.initial_population(networks))
        before = trainer.evaluations
        assert trainer.advance(2, float("inf")) == (2, "generations")
        assert trainer.evaluations - before == 2 * networks * 10  # what evals/s counts


def test_fraction_of_peak_by_hand(bench):
    _, workload, _ = bench
    peak = {"cores": 2, "gflops_8_wide": {"1": 100.0, "2": 200.0},
            "gflops_16_wide": {"1": 110.0, "2": 220.0}}
    gflops, fraction = workload.fraction_of_peak(310_000, peak)  # 310,000 x 354,000 FLOPs
    assert gflops == pytest.approx(109.74) and fraction == pytest.approx(109.74 / 220.0)
    peak["gflops_16_wide"] = None  # an AVX2 machine: the 8-wide peak is the widest
    assert workload.fraction_of_peak(310_000, peak)[1] == pytest.approx(109.74 / 200.0)
