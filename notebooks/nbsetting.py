"""The notebooks' one size switch and their display helpers.

``CNNLAB_NOTEBOOK_SMALL=1`` (any value but empty or ``0``) shrinks every run of every notebook
to seconds: the bundled 500-image sample instead of CIFAR-10, a few iterations, the recipes'
``tiny`` mode. Without it a notebook runs the seed's full setting, which is what the
documentation shows. The numbers a small run prints mean nothing; it only proves that each
cell runs.

``CNNLAB_NOTEBOOK_OUT`` names the folder the notebooks write their runs into (a fresh
temporary folder when unset). Given a folder that a notebook (or ``cnnlab recipe run NAME --out
$CNNLAB_NOTEBOOK_OUT/<notebook>/<name>``) already filled, the recipes and long runs found there
are read back, not trained again.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from IPython.display import Image, Markdown, display
from matplotlib.figure import Figure

T = TypeVar("T")

# tqdm warns, once per kernel, that the notebook has no widget library; its bars are not used
warnings.filterwarnings("ignore", message="IProgress not found")

#: True in the small setting (CI), False in the full one (the documentation).
SMALL: bool = os.environ.get("CNNLAB_NOTEBOOK_SMALL", "") not in ("", "0")

#: The data source the cnnlab loaders take: the bundled sample when small, else real data.
DATA_SOURCE: str | None = "sample" if SMALL else None


def pick(full: T, small: T) -> T:
    """``small`` in the small setting, ``full`` otherwise (a size, a count, a data source)."""
    return small if SMALL else full


def out_dir(name: str) -> Path:
    """A folder for one notebook's runs: ``$CNNLAB_NOTEBOOK_OUT/name`` (created if missing)."""
    root = os.environ.get("CNNLAB_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="cnnlab-nb-")
    folder = Path(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def show(fig: Figure) -> None:
    """Display a cnnlab figure (a matplotlib Figure on its own Agg canvas) as a PNG."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    display(Image(data=buffer.getvalue()))


def show_file(path: str | os.PathLike) -> None:
    """Display a PNG that a recipe or a run wrote."""
    display(Image(filename=str(path)))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "—" if value is None else str(value)


def compare(rows: Iterable[Sequence[object]], header: Sequence[str] = ()) -> None:
    """Show the seed's numbers next to cnnlab's as a Markdown table.

    Args:
        rows: one (what, seed's number, cnnlab's number[, more columns]) per line; floats are
            shown with 4 significant digits, None as a dash.
        header: the column titles (default: what / seed / cnnlab, plus the setting).
    """
    rows = [list(row) for row in rows]
    titles = list(header) or ["what", "seed", "cnnlab"]
    width = max([len(titles), *(len(row) for row in rows)])
    titles += [""] * (width - len(titles))
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    small = "small setting: runs shrunk to seconds, trained numbers not comparable"
    setting = small if SMALL else "full setting"
    display(Markdown("\n".join(lines) + f"\n\n*({setting})*"))
