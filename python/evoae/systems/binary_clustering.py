"""The "binary clustering" data of the Lipizzaner-AE papers (after Baldi's local-learning
example): `clusters` centroids of `bits` random bits, and samples that are a centroid with each
bit flipped with probability `flip`; a training and a test set from the same centroids with
their own noise. Seeded: the same seed gives the same data on any machine (NumPy's PCG64)."""
from __future__ import annotations

import numpy as np

__all__ = ["binary_clustering"]


def binary_clustering(seed: int = 0, clusters: int = 10, bits: int = 1000,
                      per_cluster: int = 100, flip: float = 0.05,
                      one_probability: float = 0.5) -> tuple:
    """(train, test): float32 (clusters * per_cluster, 1, bits) arrays of 0s and 1s, sample i
    a noisy copy of centroid i // per_cluster. Each centroid bit is 1 with probability
    `one_probability` (the issue's Binomial(1, 0.5); the public code draws Binomial(2, 0.5)
    and treats 2 as 1, which makes a bit 1 with probability 0.75: pass 0.75 for theirs)."""
    for name, value, low in (("clusters", clusters, 1), ("bits", bits, 1),
                             ("per_cluster", per_cluster, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    for name, value in (("flip", flip), ("one_probability", one_probability)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    rng = np.random.default_rng(seed)
    centroids = rng.random((clusters, bits)) < one_probability
    clean = np.repeat(centroids, per_cluster, axis=0)

    def noisy() -> np.ndarray:
        flips = rng.random(clean.shape) < flip
        return (clean ^ flips).astype(np.float32).reshape(-1, 1, bits)

    train = noisy()
    return train, noisy()
