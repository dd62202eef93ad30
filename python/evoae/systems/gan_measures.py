"""What evoae gan measures, computed by evoae itself (NumPy and an evoae-trained classifier,
no outside network):

- the 2-D toys: 8 Gaussians on a ring (radius 2, std 0.02) and 25 on a grid (-4..4 in steps
  of 2, std 0.05). A sample is of high quality when it lies within 3 standard deviations of
  its nearest mode; a mode is covered when at least a fifth of its fair share of the samples
  (n / modes) are high-quality samples near it.
- MNIST: a small classifier (784 -> 128 relu -> 10) trained by evoae.Trainer; the Fréchet
  distance between Gaussians fitted to its 128 hidden features of real and generated images,
  and the total variation distance between the class frequencies it assigns to generated
  images and those of the real images' labels.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Toy", "TOYS", "toy_measures", "frechet_distance", "class_tvd", "Classifier",
           "train_classifier"]


@dataclass(frozen=True)
class Toy:
    """A mixture of equal Gaussians in the plane."""

    name: str
    modes: np.ndarray  # (K, 2)
    std: float

    def sample(self, n: int, seed: int) -> np.ndarray:
        """n points (n, 2) float32, the modes in turn, from the seed."""
        rng = np.random.default_rng([seed, 16])
        which = rng.integers(len(self.modes), size=n)
        return (self.modes[which] + self.std * rng.standard_normal((n, 2))).astype(np.float32)


def _ring() -> np.ndarray:
    angles = 2 * np.pi * np.arange(8) / 8
    return 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _grid() -> np.ndarray:
    return np.array([(x, y) for x in range(-4, 5, 2) for y in range(-4, 5, 2)], dtype=float)


TOYS = {"ring": Toy("ring", _ring(), 0.02), "grid": Toy("grid", _grid(), 0.05)}


def toy_measures(toy: Toy, samples: np.ndarray) -> dict:
    """modes_covered (of len(toy.modes)) and high_quality (the share of samples within 3
    standard deviations of their nearest mode) of samples (n, 2)."""
    samples = np.asarray(samples, dtype=np.float64).reshape(len(samples), 2)
    distances = np.linalg.norm(samples[:, None, :] - toy.modes[None], axis=2)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(samples)), nearest] <= 3 * toy.std
    counts = np.bincount(nearest[good], minlength=len(toy.modes))
    needed = max(1.0, 0.2 * len(samples) / len(toy.modes))
    return {"modes_covered": int((counts >= needed).sum()),
            "high_quality": float(good.mean()) if len(samples) else 0.0}


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2)) of Gaussians fitted to the rows of
    a and b; the trace of the root from the eigenvalues of C_a^(1/2) C_b C_a^(1/2)
    (symmetric, so that no complex parts arise)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("the Fréchet distance needs at least two samples on each side")
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(ca)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = np.linalg.eigvalsh(root_a @ cb @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * trace_root)


def class_tvd(predicted: np.ndarray, labels: np.ndarray, classes: int = 10) -> float:
    """Half the L1 distance between the class frequencies of `predicted` and `labels`."""
    p = np.bincount(predicted, minlength=classes) / max(1, len(predicted))
    q = np.bincount(labels, minlength=classes) / max(1, len(labels))
    return float(0.5 * np.abs(p - q).sum())


@dataclass
class Classifier:
    """A trained classifier: its network, genome and accuracy on images it never saw."""

    network: object
    genome: np.ndarray
    accuracy: float

    def features(self, images: np.ndarray) -> np.ndarray:
        """The hidden layer's outputs (S, 128) of images (S, 28, 28)."""
        return np.asarray(self.network.activations(self.genome, images)[1]).reshape(len(images), -1)

    def classes(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(self.network.forward(self.genome, images)).reshape(len(images), -1).argmax(1)


def train_classifier(images: np.ndarray, labels: np.ndarray, test_images: np.ndarray,
                     test_labels: np.ndarray, steps: int = 600, seed: int = 0,
                     threads=None) -> Classifier:
    """784 -> 128 relu -> 10 trained by evoae.Trainer (Adam, mini-batches of 64, softmax
    cross-entropy) on images (S, 28, 28) scaled to 0..1, its accuracy measured on the test
    images."""
    from ..nn.network import Network
    from ..train import Trainer

    net = Network(28, 28)
    net.dense(128, "relu")
    net.dense(10, "identity")
    trainer = Trainer(net, images, labels=labels, init="glorot", batch=64, learning_rate=1e-3,
                      seed=seed, threads=threads)
    trainer.run(generations=steps)
    model = Classifier(net, trainer.best_genome, 0.0)
    model.accuracy = float((model.classes(test_images) == test_labels).mean())
    return model
