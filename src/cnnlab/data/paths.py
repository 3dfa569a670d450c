"""Where datasets are looked for and where downloads are cached.

The search order for an existing dataset is:

1. ``$CNNLAB_DATA`` when set (also where downloads go);
2. ``../shared/data`` relative to the current directory, when it exists;
3. the download cache, ``~/.cache/cnnlab``.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "CNNLAB_DATA"


def cache_dir() -> Path:
    """Directory where downloads and decoded caches are written (created on demand)."""
    env = os.environ.get(ENV_VAR)
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "cnnlab"
    path.mkdir(parents=True, exist_ok=True)
    return path


def search_dirs() -> list[Path]:
    """Directories searched for datasets, in order (only those that exist)."""
    candidates: list[Path] = []
    env = os.environ.get(ENV_VAR)
    if env:
        candidates.append(Path(env).expanduser())
    candidates.append(Path.cwd().parent / "shared" / "data")
    candidates.append(Path.home() / ".cache" / "cnnlab")
    seen: list[Path] = []
    for c in candidates:
        c = c.resolve()
        if c.is_dir() and c not in seen:
            seen.append(c)
    return seen


def find(name: str) -> Path | None:
    """First ``<dir>/<name>`` that exists among :func:`search_dirs`, else ``None``."""
    for d in search_dirs():
        p = d / name
        if p.exists():
            return p
    return None
