"""Where datasets are looked for and where downloads are cached.

The search order for an existing dataset is:

1. ``$CNNLAB_DATA`` when set (also where downloads go);
2. ``../shared/data`` relative to the current directory, when it exists, else relative to its
   parent (so that it is found from a project's sub-folder too, such as ``notebooks/``);
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


def candidate_dirs() -> list[tuple[str, Path | None]]:
    """Every place of the search order, as (how it is named, folder).

    The folder is None for ``$CNNLAB_DATA`` when the variable is not set, and may not exist.
    """
    env = os.environ.get(ENV_VAR)
    return [
        (f"${ENV_VAR}", Path(env).expanduser().resolve() if env else None),
        ("../shared/data", _shared_data()),
        ("~/.cache/cnnlab", (Path.home() / ".cache" / "cnnlab").resolve()),
    ]


def _shared_data() -> Path:
    """``../shared/data`` from the current directory, or from its parent when only that exists."""
    here = (Path.cwd().parent / "shared" / "data").resolve()
    above = (Path.cwd().parent.parent / "shared" / "data").resolve()
    return above if not here.is_dir() and above.is_dir() else here


def search_dirs() -> list[Path]:
    """Directories searched for datasets, in order (only those that exist)."""
    seen: list[Path] = []
    for _, folder in candidate_dirs():
        if folder is not None and folder.is_dir() and folder not in seen:
            seen.append(folder)
    return seen


def searched_text() -> str:
    """Each place of the search order and what it was, for a not-found message.

    For example ``$CNNLAB_DATA (not set), ../shared/data (/work/shared/data), ~/.cache/cnnlab
    (/root/.cache/cnnlab, missing)``.
    """
    parts = []
    for name, folder in candidate_dirs():
        if folder is None:
            parts.append(f"{name} (not set)")
        else:
            parts.append(f"{name} ({folder}{'' if folder.is_dir() else ', missing'})")
    return ", ".join(parts)


def find(name: str) -> Path | None:
    """First ``<dir>/<name>`` that exists among :func:`search_dirs`, else ``None``."""
    for d in search_dirs():
        p = d / name
        if p.exists():
            return p
    return None
