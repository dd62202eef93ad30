"""Checkpoints: the complete state of a run in one evoae archive of kind "checkpoint", so that
a run saved at generation 70 and continued to 120 ends bit for bit as one run straight to 120.

meta: system ("evolution" or "backprop"; files without it are evolution's), network
(network_spec), settings (resolved), the state's numbers (evolution: generation, sigma (the
1/5 rule's), evaluations; backprop: generation (steps), evaluations), images_shape,
images_sha256, images_stored, extra (the saver's, e.g. the command line's options). Arrays:
the state's arrays (evolution: genomes, errors, sigmas (each agent's), history, strategy;
backprop: genomes, history and the optimiser's moments first and second), the objective's
targets or labels when it has them and, up to STORE_IMAGES_MAX_BYTES of them, the images;
larger image sets are kept as their SHA-256 fingerprint and must be given again. No random
state is needed: every random number derives from (seed, purpose, generation, agent). Only a
system's public parts are used (CHECKPOINT, state(), settings, network, images, targets,
labels), so this module imports no system (their save and load call it).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .. import _core
from ..data import require_finite
from ..nn.network import Network, check_images, network_from_spec, network_spec
from .archive import read_archive, write_archive

__all__ = ["CheckpointData", "save_checkpoint", "read_checkpoint", "images_fingerprint",
           "STORE_IMAGES_MAX_BYTES", "KIND"]

KIND = "checkpoint"
STORE_IMAGES_MAX_BYTES = 4 << 20  # 4 MiB: about 1300 images of 28x28 float32
_DATA = ("targets", "labels")  # arrays of the objective besides the images
_META = ("network", "settings", "images_shape", "images_sha256", "images_stored", "extra")


@dataclass(frozen=True)
class _Layout:
    """What a system's state holds: arrays, and numbers kept in meta; and its settings."""

    arrays: tuple
    scalars: tuple
    settings: tuple  # every setting but threads (not part of a run's state) is saved
    # resolved; one missing would silently become its default and continue another run


def _setting_names(specs: list) -> tuple:
    return tuple(spec["name"] for spec in specs if spec["name"] != "threads")


_LAYOUTS = {
    "evolution": _Layout(("genomes", "errors", "sigmas", "history", "strategy"),
                         ("generation", "sigma", "evaluations"),
                         _setting_names(_core.setting_specs())),
    # The optimiser's moments: Adam's first and second, SGD's velocity (first; second empty).
    "backprop": _Layout(("genomes", "history", "first", "second"),
                        ("generation", "evaluations"),
                        _setting_names(_core.train_setting_specs())),
}
_OLDEST = "evolution"  # the system of checkpoints written before meta said which


@dataclass
class CheckpointData:
    """What a checkpoint holds, checked, ready for Evolution.restore."""

    network: Network
    images: np.ndarray  # float32 (S, H, W): the stored ones or the (same) ones given
    settings: dict  # the system's resolved settings
    state: dict  # the system's state (evolution: generation, genomes, errors, sigmas, sigma,
    # history, evaluations, strategy; backprop: generation, genomes, history, evaluations,
    # first, second)
    extra: dict  # what the saver passed as extra
    images_stored: bool  # False: the file holds only their fingerprint
    targets: Optional[np.ndarray] = None  # float32 (S, ...): what the images map to, if given
    labels: Optional[np.ndarray] = None  # int32 (S,): a classifier's labels
    system: str = _OLDEST  # whose state it is: "evolution" or "backprop"


def images_fingerprint(images: np.ndarray) -> str:
    """SHA-256 of the float32 images with their shape."""
    images = np.ascontiguousarray(images, dtype=np.float32)
    h = hashlib.sha256(repr(images.shape).encode())
    h.update(images.tobytes())
    return h.hexdigest()


def _number(value):
    """A state's number as JSON keeps it exactly: an int, or a float (shortest repr)."""
    return int(value) if isinstance(value, (int, np.integer)) else float(value)


def save_checkpoint(path: str | os.PathLike, system, extra: Optional[dict] = None) -> None:
    """Write the complete state of `system` (an evoae.Evolution or evoae.Trainer) to `path`,
    atomically."""
    layout = _LAYOUTS[system.CHECKPOINT]
    state = system.state()
    images = system.images
    store = images.nbytes <= STORE_IMAGES_MAX_BYTES
    meta = {
        "system": system.CHECKPOINT,
        "network": network_spec(system.network),
        "settings": system.settings,
        **{key: _number(state[key]) for key in layout.scalars},
        "images_shape": list(images.shape),
        "images_sha256": images_fingerprint(images),
        "images_stored": store,
        "extra": extra or {},
    }
    arrays = {key: np.asarray(state[key]) for key in layout.arrays}
    if store:
        arrays["images"] = images
    for key in _DATA:  # the objective's other data, when it has any
        if getattr(system, key, None) is not None:
            arrays[key] = getattr(system, key)
    write_archive(path, KIND, meta, arrays)


def read_checkpoint(path: str | os.PathLike, images: Optional[np.ndarray] = None,
                    network: Optional[Network] = None,
                    system: Optional[str] = None) -> CheckpointData:
    """Read and check a checkpoint. `images` are needed only when it holds their fingerprint
    and must then be the same images; `network`, when given, must be the checkpoint's;
    `system`, when given ("evolution" or "backprop"), the system that saved it. Raises
    ValueError, naming the file and the problem (see read_archive), for other systems,
    networks or images too."""
    meta, arrays = read_archive(path, KIND)
    saved_system = meta.get("system", _OLDEST)
    if saved_system not in _LAYOUTS:
        raise ValueError(f"{path}: damaged checkpoint: unknown system {saved_system!r}")
    if system is not None and saved_system != system:
        raise ValueError(f"{path}: a checkpoint of {saved_system}, not of {system}")
    layout = _LAYOUTS[saved_system]
    missing = [f"{key!r}" for key in (*_META, *layout.scalars) if key not in meta]
    missing += [f"array {key!r}" for key in layout.arrays if key not in arrays]
    if not missing and isinstance(meta["settings"], dict):
        missing += [f"setting {key!r}" for key in layout.settings
                    if key not in meta["settings"]]
    if missing:
        raise ValueError(f"{path}: damaged checkpoint: no {', '.join(missing)}")
    try:
        saved_spec = meta["network"]
        saved_net = network_from_spec(saved_spec)
        expected_shape = tuple(meta["images_shape"])
        state = {key: arrays[key] for key in layout.arrays}
        state.update({key: meta[key] for key in layout.scalars})
        settings, extra, stored = meta["settings"], meta["extra"], bool(meta["images_stored"])
        if not isinstance(settings, dict) or not isinstance(extra, dict):
            raise ValueError("settings and extra must be JSON objects")
        if stored and "images" not in arrays:
            raise ValueError("it says it stores its images but holds none")
        saved_images = arrays["images"] if stored else None
        require_finite(state["genomes"], "its genomes")
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path}: damaged checkpoint ({e})") from e
    if network is not None and network_spec(network) != saved_spec:
        raise ValueError(f"{path}: the checkpoint is for a different network: it holds "
                         f"{saved_spec}, expected {network_spec(network)}")
    net = network if network is not None else saved_net

    if images is not None:
        images = check_images(net, images)
        if images.shape != expected_shape or images_fingerprint(images) != meta["images_sha256"]:
            raise ValueError(f"{path}: the images differ from the checkpoint's "
                             f"({images.shape[0]} given, {expected_shape[0]} saved, "
                             f"fingerprints differ)")
    elif stored:
        images = saved_images
    else:
        raise ValueError(f"{path}: the checkpoint holds a fingerprint of its "
                         f"{expected_shape[0]} images, not the images: give them again "
                         f"(the same ones)")

    if state["genomes"].ndim != 2 or state["genomes"].shape[1] != net.num_params:
        raise ValueError(f"{path}: genomes of shape {state['genomes'].shape} do not fit the "
                         f"network's {net.num_params} parameters")
    return CheckpointData(net, images, settings, state, extra, stored,
                          *(arrays.get(key) for key in _DATA), saved_system)
