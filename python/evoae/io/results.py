"""Saving and loading a run's result: the best genome with its network description, the
images it was trained on, the error history and the settings, in one .npz file."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from ..nn.network import Network, network_from_spec, network_spec

__all__ = ["Result", "save_result", "load_result"]


@dataclass
class Result:
    network: Network
    genome: np.ndarray  # float32 (num_params,)
    images: np.ndarray  # float32 (S, H, W), scaled: inputs and targets
    history: np.ndarray  # best error per generation
    settings: dict

    def reconstructions(self) -> np.ndarray:
        return self.network.forward(self.genome, self.images)


def save_result(path: str | os.PathLike, evolution, settings: dict) -> None:
    """Write the best genome of `evolution` and everything needed to reuse it to `path`."""
    np.savez_compressed(
        path,
        genome=evolution.best_genome,
        network=np.array(network_spec(evolution.network)),
        images=evolution.images,
        history=evolution.history,
        settings=np.array(json.dumps(settings)),
    )


def load_result(path: str | os.PathLike) -> Result:
    """Read a file written by save_result (e.g. `evoae run`'s result.npz)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            network = network_from_spec(str(f["network"]))
            genome = f["genome"].astype(np.float32)
            result = Result(network, genome, f["images"].astype(np.float32), f["history"],
                            json.loads(str(f["settings"])))
    except (KeyError, OSError, EOFError) as e:
        raise ValueError(f"{path}: not an evoae result file ({e})") from e
    if genome.shape != (network.num_params,):
        raise ValueError(f"{path}: genome has shape {genome.shape}, the network needs "
                         f"({network.num_params},)")
    return result
