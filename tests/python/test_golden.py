"""The default stays exact: the best genome and the history after 2,000 generations, hashed,
for one run of each kind of setting, as recorded before the engine was split into strategies
and objectives (commit 5dc1a2d). Any change to what a run computes changes a hash.

The hashes hold at either lane width (8 or 16, build_info()["lanes"]): a lane's arithmetic
does not depend on the width. An EVOAE_FMA build (build_info()["fma"]) fuses the products of
dense and error sums too and has hashes of its own; a build without hardware FMA (the
portable one) rounds the products that the others fuse and has none."""
import hashlib

import numpy as np
import pytest

import evoae
from evoae._core import build_info

GENERATIONS = 2000
BUILD = build_info()

# name: (Evolution keyword arguments, first 16 hex digits of SHA-256(best genome float32,
# history float64)).
CASES = {
    "original-s0": (dict(seed=0), "5ca74fb140a57fd1"),
    "original-s1": (dict(seed=1), "f24c11a1068b977c"),
    "original-m1-p7": (dict(seed=2, population=7, mutations=1), "b852ae32cdfa687f"),
    "gaussian-sa": (dict(seed=3, mutations=1, mutation="gaussian", sigma=0.5,
                         step_control="self-adaptive"), "123628eb513f7dd1"),
    "truncation-uniform": (dict(seed=4, mutations=2, mutation="per-agent",
                                selection="truncation", truncation=4, crossover="uniform",
                                elites=2), "674dfe0bf4d75ff9"),
    "tournament-layer": (dict(seed=5, mutations=1, mutation="gaussian", selection="tournament",
                              crossover="layer", fitness="mse"), "9705a026c646d48e"),
    "one-fifth-batch": (dict(seed=6, mutations=1, mutation="gaussian",
                             step_control="one-fifth", batch=4, fitness="rmse"),
                        "e16fc440f902ee6b"),
    "schedule": (dict(seed=7, step_control="schedule", sigma=1.0, sigma_end=0.1,
                      mutations_end=1, schedule_generations=1500), "c4f39aacc7da168f"),
    "gaussian-all": (dict(seed=8, mutation="gaussian-all", selection="truncation",
                          truncation=4), "41fc6363e0d2ce26"),
    "reset-zero": (dict(seed=9, mutations=3, mutation="reset", elites=0,
                        selection="tournament"), "939193a4d567431f"),
}


# The same runs in an EVOAE_FMA build (recorded with it at 16 lanes, checked at 8).
FMA_HASHES = {
    "original-s0": "8145386c00b4bec2",
    "original-s1": "37b79644f7f8131a",
    "original-m1-p7": "2f4f9240848e96ac",
    "gaussian-sa": "3d76b54d7d9e1e81",
    "truncation-uniform": "f1d05d2b82c1482e",
    "tournament-layer": "c0c684b3f5d80707",
    "one-fifth-batch": "98343175506722c5",
    "schedule": "b382420812a61834",
    "gaussian-all": "42ecc792ccb0a4e2",
    "reset-zero": "08802cafa8a3981f",
}


def digest(evo) -> str:
    h = hashlib.sha256(np.ascontiguousarray(evo.best_genome, dtype=np.float32).tobytes())
    h.update(np.ascontiguousarray(evo.history, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.skipif(not BUILD["hardware_fma"], reason="no hashes recorded without hardware FMA")
def test_runs_are_bit_identical_to_the_recorded_ones(name):
    kwargs, expected = CASES[name]
    if BUILD["fma"]:
        expected = FMA_HASHES[name]
    images = evoae.data.scale(evoae.data.ten_digits())
    evo = evoae.Evolution(evoae.varadi_network(), images, **kwargs)
    evo.run(generations=GENERATIONS)
    assert digest(evo) == expected
