"""Every notebook in notebooks/ executes end to end in the small setting.

The notebooks are stored as jupytext percent-format scripts; each is converted in memory and
executed by a Jupyter kernel (nbclient) with ``CNNLAB_NOTEBOOK_SMALL=1``, writing its runs under
the test's temporary folder. Any cell that raises fails the test with the cell's traceback.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
#: the six notebooks together must run within 5 minutes on 2 cores; one gets a share plus slack
CELL_TIMEOUT_S = 240


def notebook_paths() -> list[Path]:
    """The notebooks: notebooks/NN_*.py (nbsetting.py is their helper, not a notebook)."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def test_notebooks_found():
    paths = notebook_paths()
    assert [p.name[:2] for p in paths] == [f"{i:02d}" for i in range(len(paths))]
    assert len(paths) >= 1


def test_first_cell_lists_sections():
    for path in notebook_paths():
        first = jupytext.read(path).cells[0]
        assert first.cell_type == "markdown", path.name
        assert "Sections" in first.source or "sections" in first.source, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook_runs_small(path, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("CNNLAB_NOTEBOOK_OUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError naming the cell on any error
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, errors
