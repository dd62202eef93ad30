"""The workload every implementation runs: the paper's network, its genome layout, the ten
digits and the original loop's settings (docs/reference-system.md)."""
from __future__ import annotations

import numpy as np

POPULATION = 20  # agents
MUTATIONS = 10  # indices drawn once per generation, shared by agents 1..P-1
SEED = 0

# The genome, layer by layer from the input, weights then biases; kernels row-major.
LAYOUT = [
    ("conv1", (1, 5, 5)),  # conv(5,5,1): one kernel, multiplier 1
    ("conv2", (1, 5, 5)),
    ("dense1_w", (5, 16)), ("dense1_b", (5,)),  # dense weights are [out][in]
    ("dense2_w", (2, 5)), ("dense2_b", (2,)),
    ("dense3_w", (5, 2)), ("dense3_b", (5,)),
    ("dense4_w", (160, 5)), ("dense4_b", (160,)),
    ("trconv1", (1, 5, 5)),  # conv_transpose(5,5,1): one kernel shared by the 10 channels
    ("trconv2", (10, 5, 5)),  # conv_transpose(5,5,10): kernel j for input channel j, summed
]
NUM_PARAMS = sum(int(np.prod(shape)) for _, shape in LAYOUT)
assert NUM_PARAMS == 1397


def split(genomes):
    """Per-layer views of a population (P, NUM_PARAMS), NumPy or torch: name -> (P, *shape)."""
    parts, start = {}, 0
    for name, shape in LAYOUT:
        size = int(np.prod(shape))
        parts[name] = genomes[:, start:start + size].reshape(genomes.shape[0], *shape)
        start += size
    return parts


def images() -> np.ndarray:
    """The ten digits scaled to [0.1, 0.9], float32 (10, 28, 28): inputs and targets."""
    import evoae

    return evoae.data.scale(evoae.data.ten_digits())


def initial_population(population: int = POPULATION, seed: int = SEED) -> np.ndarray:
    """Genomes uniform in [-1, 1], float32 (population, NUM_PARAMS), the same for every peer."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, (population, NUM_PARAMS)).astype(np.float32)


# Training by backpropagation (train_side_by_side.py): P networks trained at once from
# initial_population(P), each on the mean |output - image| over the ten digits (the full batch
# every step) by Adam.
TRAIN_NETWORKS = (1, 8, 64)
LEARNING_RATE = 0.01


def trainer_settings(networks: int, threads: int) -> dict:
    """evoae.Trainer's settings for this workload: one network (images across lanes) when
    networks is 1, else a network per lane."""
    return {"networks": networks, "optimizer": "adam", "learning_rate": LEARNING_RATE,
            "loss": "mae", "threads": threads, "seed": SEED}


# Nominal FLOPs of one image evaluation of the paper's network (multiply-adds x 2), what
# "fraction of peak" counts.
FLOPS_PER_EVAL = 354_000


def fma_peak(path=None) -> dict:
    """The machine's fp32 FMA peak: peak/fma_peak.sh's JSON, read from `path` or measured now."""
    import json
    import subprocess
    from pathlib import Path

    if path is not None:
        return json.loads(Path(path).read_text())
    meter = Path(__file__).resolve().parent / "peak" / "fma_peak.sh"
    return json.loads(subprocess.run([str(meter)], check=True, capture_output=True,
                                     text=True).stdout)


def fraction_of_peak(evals_per_s: float, peak: dict) -> tuple[float, float]:
    """(GFLOP/s, fraction of the all-core peak of the widest vectors) of an evaluation rate."""
    widest = peak["gflops_16_wide"] or peak["gflops_8_wide"]
    gflops = evals_per_s * FLOPS_PER_EVAL / 1e9
    return gflops, gflops / widest[str(peak["cores"])]
