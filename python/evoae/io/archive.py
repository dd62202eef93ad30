"""evoae's one file format, for checkpoints, results and models of every system.

An archive is an .npz (a zip of .npy arrays; no pickle) holding
  meta      a JSON text: {"format": "evoae", "version": VERSION, "kind": "checkpoint" |
            "result" | "tied-model" | ..., "evoae": the writer's version, "meta": the kind's
            own metadata (network spec, settings, ...)}
  checksum  the SHA-256 over the meta text and every array (name, dtype, shape, bytes),
            so a file damaged inside a well-formed zip is caught
  ...       the kind's named arrays.
It is written atomically (io/atomic.py): to a temporary file in the same folder, flushed and
fsynced, then renamed over the target, so a crash or a Ctrl-C while writing leaves the previous
file whole and no temporary behind. A writer killed outright (kill -9, power loss) leaves its
temporary, .NAME.PID.RANDOM.tmp; the next successful write of the same file removes those
whose writer is gone or that are over a minute old.
read_archive is the one reader: every problem is a ValueError that names the file.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .. import __version__
from ..data import require_finite
from ..nn.network import Network, network_from_spec
from .atomic import atomic_file

__all__ = ["FORMAT", "VERSION", "write_archive", "read_archive", "network_and_genome"]

FORMAT = "evoae"
VERSION = 1
_RESERVED = ("meta", "checksum")
# The entries of the unversioned files written before this format, to name them when refused.
_OLD_LAYOUTS = {"result": {"network", "genome", "images", "history", "settings"},
                "tied model": {"network", "genome", "sizes", "settings"}}
_OLD_CHECKPOINT_FORMAT = "evoae-checkpoint"


def _checksum(meta: str, arrays: dict) -> str:
    h = hashlib.sha256(meta.encode())
    for name in sorted(arrays):
        a = arrays[name]
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def write_archive(path: str | os.PathLike, kind: str, meta: dict, arrays: dict) -> None:
    """Write `arrays` (name -> array) and `meta` (JSON-serialisable) as an evoae archive of
    `kind` to `path`, atomically (see the module's text). The file is named exactly `path`."""
    path = Path(path)
    arrays = {name: np.asarray(a) for name, a in arrays.items()}
    clash = [name for name in arrays if name in _RESERVED]
    if clash:
        raise ValueError(f"array names {clash} are reserved by the archive format")
    if any(a.dtype.hasobject for a in arrays.values()):
        raise ValueError("object arrays cannot be archived (they would need pickle)")
    text = json.dumps({"format": FORMAT, "version": VERSION, "kind": kind,
                       "evoae": __version__, "meta": meta}, sort_keys=True)
    checksum = _checksum(text, arrays)
    with atomic_file(path) as f:
        np.savez_compressed(f, meta=np.array(text), checksum=np.array(checksum), **arrays)


def _article(kind: str) -> str:
    return "an" if kind[:1] in tuple("aeiou") else "a"


def read_archive(path: str | os.PathLike, kind: str) -> tuple[dict, dict]:
    """(meta, arrays) of the evoae archive of `kind` at `path`: the kind's own metadata (what
    write_archive was given) and its arrays. Raises ValueError naming the file and the
    problem: no such file, damaged or not an .npz, checksum mismatch, not an evoae file,
    written by an older evoae, another kind, a newer format version."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:  # the file opened here, so that it is closed whatever np.load makes of it
        with open(path, "rb") as f:
            loaded = np.load(f, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise ValueError("a single .npy array")
            with loaded:
                arrays = {name: loaded[name] for name in loaded.files}
    except Exception as e:  # zipfile's, zlib's and numpy's errors, truncation, ...
        raise ValueError(f"{path}: damaged or not an .npz file "
                         f"({type(e).__name__}: {e})") from e
    if "meta" not in arrays or "checksum" not in arrays:
        for old, names in _OLD_LAYOUTS.items():
            if names <= arrays.keys():
                raise ValueError(f"{path}: a {old} written by an older evoae (before the "
                                 f"versioned format); this evoae cannot read it: run it again")
        raise ValueError(f"{path}: not an evoae file (no meta data)")
    text, checksum = arrays.pop("meta"), arrays.pop("checksum")
    try:
        if text.ndim or text.dtype.kind != "U" or checksum.ndim or checksum.dtype.kind != "U":
            raise ValueError("meta and checksum must be texts")
        text, checksum = str(text), str(checksum)
        info = json.loads(text)
        if not isinstance(info, dict):
            raise ValueError("meta is not a JSON object")
    except (ValueError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: damaged or not an evoae file ({e})") from e
    if info.get("format") == _OLD_CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: a checkpoint written by an older evoae (format "
                         f"{_OLD_CHECKPOINT_FORMAT!r}); this evoae cannot resume from it")
    if info.get("format") != FORMAT:
        raise ValueError(f"{path}: not an evoae file (format {info.get('format')!r})")
    version = info.get("version")
    if type(version) is not int or version < 1:
        raise ValueError(f"{path}: damaged evoae file (version {version!r})")
    if version > VERSION:  # checked before the checksum: a newer version may sum otherwise
        raise ValueError(f"{path}: written by a newer evoae ({info.get('evoae')}, format "
                         f"version {version}); this evoae ({__version__}) reads version "
                         f"{VERSION}: upgrade evoae")
    if _checksum(text, arrays) != checksum:
        raise ValueError(f"{path}: damaged: the checksum does not match its contents")
    if info.get("kind") != kind:
        raise ValueError(f"{path}: is an evoae {info.get('kind')}, not {_article(kind)} {kind}")
    if not isinstance(info.get("meta"), dict):
        raise ValueError(f"{path}: damaged evoae file (no {kind} meta data)")
    return info["meta"], arrays


def network_and_genome(path: str | os.PathLike, meta: dict, arrays: dict) -> tuple:
    """(Network, float32 genome) of an archive whose meta has "network" (network_spec's JSON)
    and whose arrays have "genome", checked against each other."""
    try:
        network: Network = network_from_spec(meta["network"])
        genome = arrays["genome"].astype(np.float32)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path}: damaged evoae file: no usable network and genome "
                         f"({type(e).__name__}: {e})") from e
    if genome.shape != (network.num_params,):
        raise ValueError(f"{path}: genome has shape {genome.shape}, the network needs "
                         f"({network.num_params},)")
    require_finite(genome, f"{path}: damaged evoae file: its genome")
    return network, genome
