"""A run's result, from any system: the best genome with its network, the images it was
trained on, the error history and the settings, as an evoae archive of kind "result".

meta: network (network_spec), settings. Arrays: genome, images, history.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..nn.network import Network, network_spec
from .archive import network_and_genome, read_archive, write_archive

__all__ = ["Result", "save_result", "load_result", "KIND"]

KIND = "result"


@dataclass
class Result:
    network: Network
    genome: np.ndarray  # float32 (num_params,)
    images: np.ndarray  # float32 (S, H, W), scaled: inputs and targets
    history: np.ndarray  # best error per generation
    settings: dict

    def reconstructions(self) -> np.ndarray:
        return self.network.forward(self.genome, self.images)

    def save(self, path: str | os.PathLike) -> None:
        """Write this result to `path`, atomically."""
        write_archive(path, KIND, {"network": network_spec(self.network),
                                   "settings": self.settings},
                      {"genome": np.asarray(self.genome, np.float32),
                       "images": np.asarray(self.images, np.float32),
                       "history": np.asarray(self.history)})


def save_result(path: str | os.PathLike, evolution, settings: dict) -> None:
    """Write the best genome of `evolution` (anything with network, best_genome, images and
    history) and everything needed to reuse it to `path`, atomically."""
    Result(evolution.network, evolution.best_genome, evolution.images, evolution.history,
           settings).save(path)


def load_result(path: str | os.PathLike) -> Result:
    """Read a result (e.g. `evoae run`'s result.npz). Raises ValueError naming the file and
    the problem."""
    meta, arrays = read_archive(path, KIND)
    network, genome = network_and_genome(path, meta, arrays)
    try:
        return Result(network, genome, arrays["images"].astype(np.float32), arrays["history"],
                      meta["settings"])
    except KeyError as e:
        raise ValueError(f"{path}: damaged result (no {e})") from e
