"""Checkpoint files: a ``.npz`` archive of named arrays plus a JSON header, written atomically.

Layout: every array is stored under its own name; the header (a JSON object) is stored as a
uint8 array under the reserved name ``__meta__``. Loading never unpickles anything
(``allow_pickle=False``), so a checkpoint from an untrusted source cannot run code.

Writing goes to a temporary file in the destination's directory which then replaces the
destination with ``os.replace``: a crash or an error while writing leaves the previous
checkpoint intact and no partial file behind.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab._io import atomic_open

META_KEY = "__meta__"


class CheckpointError(ValueError):
    """A checkpoint file exists but cannot be read (truncated, not an npz, bad header)."""


def save_checkpoint(
    path: str | os.PathLike[str], arrays: dict[str, np.ndarray], meta: dict[str, Any]
) -> Path:
    """Write ``arrays`` and the JSON-serialisable ``meta`` to ``path`` atomically.

    - arrays: name -> ndarray of any shape and a non-object dtype; names must not be
      ``"__meta__"``.
    - meta: a JSON-serialisable dict (numbers, strings, lists, dicts, None).

    Returns the path written. Raises ValueError for object arrays, the reserved name or a meta
    that JSON cannot encode; nothing is written then.
    """
    path = Path(path)
    if META_KEY in arrays:
        raise ValueError(f"save_checkpoint: the array name {META_KEY!r} is reserved")
    for name, value in arrays.items():
        if np.asarray(value).dtype.hasobject:
            raise ValueError(
                f"save_checkpoint: array {name!r} has object dtype; only plain "
                "numeric arrays can be stored without pickle"
            )
    try:
        header = json.dumps(meta, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as err:
        raise ValueError(f"save_checkpoint: meta is not JSON-serialisable: {err}") from err
    entries = {name: np.asarray(value) for name, value in arrays.items()}
    entries[META_KEY] = np.frombuffer(header, dtype=np.uint8)

    with atomic_open(path) as handle:
        np.savez(handle, **entries)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Returns ``(arrays, meta)``: name -> ndarray (loaded into memory) and the header dict.
    Raises FileNotFoundError if ``path`` does not exist and :class:`CheckpointError` if it is
    not a readable checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_checkpoint: no checkpoint file at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise CheckpointError(
            f"load_checkpoint: {path} is not a readable .npz checkpoint "
            f"({type(err).__name__}: {err})"
        ) from err
    if META_KEY not in arrays:
        raise CheckpointError(f"load_checkpoint: {path} has no {META_KEY!r} header entry")
    try:
        meta = json.loads(arrays.pop(META_KEY).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"load_checkpoint: {path} has a corrupt JSON header: {err}") from err
    if not isinstance(meta, dict):
        raise CheckpointError(f"load_checkpoint: {path} header is not a JSON object")
    return arrays, meta
