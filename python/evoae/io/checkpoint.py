"""Checkpoints: the complete state of a run in one .npz file, so that a run saved at
generation 70 and continued to 120 ends bit for bit as one run straight to 120.

A checkpoint holds the population, the errors, each agent's sigma and the 1/5 rule's sigma,
the generation, the history, the evaluation count, the resolved settings, the network (as
network_spec) and the images (or, for more than STORE_IMAGES_MAX_BYTES of them, their SHA-256
fingerprint, and the images must be given again). No random state is needed: every random
number derives from (seed, purpose, generation, agent). A SHA-256 checksum over everything
detects a damaged file. It is written to a temporary file in the same folder, flushed to disk
and renamed over the old one (os.replace), so a crash while writing leaves the previous
checkpoint whole.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..nn.network import Network, network_from_spec, network_spec

__all__ = ["Checkpoint", "save_checkpoint", "load_checkpoint", "images_fingerprint",
           "STORE_IMAGES_MAX_BYTES"]

FORMAT = "evoae-checkpoint"
VERSION = 1
STORE_IMAGES_MAX_BYTES = 4 << 20  # 4 MiB: about 1300 images of 28x28 float32
_ARRAYS = ("genomes", "errors", "sigmas", "history")  # in the checksum's order


@dataclass
class Checkpoint:
    evolution: "Evolution"  # noqa: F821 - the restored run
    extra: dict  # what the saver passed as extra (e.g. the command line's options)
    images_stored: bool


def images_fingerprint(images: np.ndarray) -> str:
    """SHA-256 of the float32 images with their shape."""
    images = np.ascontiguousarray(images, dtype=np.float32)
    h = hashlib.sha256(repr(images.shape).encode())
    h.update(images.tobytes())
    return h.hexdigest()


def _checksum(meta: str, arrays: dict) -> str:
    h = hashlib.sha256(meta.encode())
    for key in (*_ARRAYS, "images"):
        if key in arrays:
            a = arrays[key]
            h.update(f"{key}{a.dtype.str}{a.shape}".encode())
            h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def save_checkpoint(path: str | os.PathLike, evolution, extra: Optional[dict] = None) -> None:
    """Write `evolution`'s complete state to `path` atomically (see the module's text)."""
    path = Path(path)
    state = evolution.state()
    images = evolution.images
    store = images.nbytes <= STORE_IMAGES_MAX_BYTES
    meta = json.dumps({
        "format": FORMAT,
        "version": VERSION,
        "network": network_spec(evolution.network),
        "settings": evolution.settings,
        "generation": int(state["generation"]),
        "sigma": float(state["sigma"]),  # JSON keeps a float exactly (shortest repr)
        "evaluations": int(state["evaluations"]),
        "images_shape": list(images.shape),
        "images_sha256": images_fingerprint(images),
        "images_stored": store,
        "extra": extra or {},
    }, sort_keys=True)
    arrays = {key: np.asarray(state[key]) for key in _ARRAYS}
    if store:
        arrays["images"] = images
    checksum = _checksum(meta, arrays)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, meta=np.array(meta), checksum=np.array(checksum), **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def load_checkpoint(path: str | os.PathLike, images: Optional[np.ndarray] = None,
                    network: Optional[Network] = None,
                    threads: Optional[int] = None) -> Checkpoint:
    """Read a checkpoint and restore its Evolution. Raises ValueError, naming the problem, for
    a file that is not a checkpoint or is damaged, a network other than `network`, or images
    other than the checkpoint's."""
    from ..evo.evolution import Evolution

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such checkpoint file")
    try:
        with np.load(path, allow_pickle=False) as f:
            files = set(f.files)
            arrays = {key: f[key] for key in files}
    except Exception as e:  # zipfile, zlib, numpy's format errors, truncation
        raise ValueError(f"{path}: damaged or not an evoae checkpoint "
                         f"({type(e).__name__}: {e})") from e
    if "meta" not in files or "checksum" not in files:
        raise ValueError(f"{path}: not an evoae checkpoint (no meta data); a result.npz "
                         "holds only the best genome and cannot be resumed")
    meta_text, checksum = str(arrays.pop("meta")), str(arrays.pop("checksum"))
    if _checksum(meta_text, arrays) != checksum:
        raise ValueError(f"{path}: damaged checkpoint: the checksum does not match its contents")
    try:
        meta = json.loads(meta_text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: damaged checkpoint ({e})") from e
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not an evoae checkpoint")
    if meta.get("version") != VERSION:
        raise ValueError(f"{path}: checkpoint version {meta.get('version')}, this evoae "
                         f"reads version {VERSION}")

    saved_net = network_from_spec(meta["network"])
    if network is not None and network_spec(network) != meta["network"]:
        raise ValueError(f"{path}: the checkpoint is for a different network: it holds "
                         f"{meta['network']}, expected {network_spec(network)}")
    net = network if network is not None else saved_net

    expected_shape = tuple(meta["images_shape"])
    if images is not None:
        from ..evo.evolution import _check_images

        images = _check_images(images)
        if images.shape != expected_shape or images_fingerprint(images) != meta["images_sha256"]:
            raise ValueError(f"{path}: the images differ from the checkpoint's "
                             f"({images.shape[0]} given, {expected_shape[0]} saved, "
                             f"fingerprints differ)")
    elif meta["images_stored"]:
        images = arrays["images"]
    else:
        raise ValueError(f"{path}: the checkpoint holds a fingerprint of its "
                         f"{expected_shape[0]} images, not the images: give them again "
                         f"(the same ones)")

    state = {key: arrays[key] for key in _ARRAYS}
    state.update(generation=meta["generation"], sigma=meta["sigma"],
                 evaluations=meta["evaluations"])
    if state["genomes"].ndim != 2 or state["genomes"].shape[1] != net.num_params:
        raise ValueError(f"{path}: genomes of shape {state['genomes'].shape} do not fit the "
                         f"network's {net.num_params} parameters")
    evolution = Evolution.restore(net, images, meta["settings"], state, threads)
    return Checkpoint(evolution, meta["extra"], bool(meta["images_stored"]))
