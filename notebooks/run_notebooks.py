"""Execute the notebooks and keep their outputs: what the documentation's published build shows.

    python notebooks/run_notebooks.py OUT [NN ...]

executes every notebook (or those whose two-digit prefix is given) in a Jupyter kernel, in
the full setting unless ``CNNLAB_NOTEBOOK_SMALL=1`` is set, and writes each, outputs
included, to ``OUT/notebooks/NN_name.ipynb``; the runs they train go to ``OUT/runs``
(``CNNLAB_NOTEBOOK_OUT``), where a second execution finds and reuses them. Building the site
with ``CNNLAB_DOCS_NOTEBOOKS=OUT`` then renders these executed copies instead of the stored
scripts. The tests execute the notebooks through :func:`execute` too.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import jupytext
import nbclient
import nbformat

FOLDER = Path(__file__).resolve().parent


def notebook_paths() -> list[Path]:
    """The notebooks: notebooks/NN_*.py, in order (the helpers beside them are not notebooks)."""
    return sorted(FOLDER.glob("[0-9][0-9]_*.py"))


def execute(path: Path, runs: Path, timeout: int | None = None) -> nbformat.NotebookNode:
    """Execute the notebook stored at ``path`` with its runs under ``runs``; return it.

    The kernel starts in notebooks/ (so ``import nbsetting`` works) with
    ``CNNLAB_NOTEBOOK_OUT=runs`` and the Agg backend; ``timeout`` limits each cell (seconds,
    None: no limit).

    Raises:
        nbclient.exceptions.CellExecutionError: a cell raised (its traceback is in the message).
    """
    notebook = jupytext.read(path)
    previous = {key: os.environ.get(key) for key in ("CNNLAB_NOTEBOOK_OUT", "MPLBACKEND")}
    os.environ.update(CNNLAB_NOTEBOOK_OUT=str(runs), MPLBACKEND="Agg")  # the kernel inherits them
    try:
        nbclient.NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(FOLDER)}},
        ).execute()
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook


def main(argv: list[str] | None = None) -> int:
    """Execute the chosen notebooks into OUT/notebooks; print each one's time."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output folder (executed notebooks and runs)")
    parser.add_argument("only", nargs="*", help="two-digit prefixes of the notebooks to run")
    args = parser.parse_args(argv)
    chosen = [p for p in notebook_paths() if not args.only or p.name[:2] in args.only]
    target = args.out / "notebooks"
    target.mkdir(parents=True, exist_ok=True)
    for path in chosen:
        start = time.perf_counter()
        notebook = execute(path, (args.out / "runs").resolve())
        destination = target / f"{path.stem}.ipynb"
        partial = destination.with_suffix(".ipynb.partial")
        nbformat.write(notebook, partial)
        partial.replace(destination)
        print(f"{path.name}: {time.perf_counter() - start:.0f} s -> {destination}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
