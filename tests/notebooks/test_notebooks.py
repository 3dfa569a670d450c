"""Every notebook in notebooks/ executes end to end in the small setting.

The notebooks are stored as jupytext percent-format scripts; each is converted in memory and
executed by a Jupyter kernel (``notebooks/run_notebooks.py``'s :func:`execute`, the one the
published documentation uses) with ``CNNLAB_NOTEBOOK_SMALL=1``, writing its runs under the
test's temporary folder. Any cell that raises fails the test with the cell's traceback.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
sys.path.insert(0, str(NOTEBOOKS))
from run_notebooks import execute, notebook_paths  # noqa: E402  (notebooks/ is not a package)

#: the six notebooks together must run within 5 minutes on 2 cores; one gets a share plus slack
CELL_TIMEOUT_S = 240


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
    start = time.perf_counter()
    notebook = execute(path, tmp_path, timeout=CELL_TIMEOUT_S)  # raises naming a failing cell
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, errors


def test_run_notebooks_writes_the_executed_copy(tmp_path, monkeypatch):
    """The published build's step: an executed .ipynb with outputs, runs beside it."""
    import nbformat
    import run_notebooks

    stored = tmp_path / "notebooks"
    stored.mkdir()
    (stored / "00_tiny.py").write_text(
        "# %% [markdown]\n# Sections: one\n\n"
        "# %%\nimport os\nprint(os.environ['CNNLAB_NOTEBOOK_OUT'])\n"
    )
    monkeypatch.setattr(run_notebooks, "FOLDER", stored)
    assert run_notebooks.main([str(tmp_path / "site")]) == 0
    executed = nbformat.read(tmp_path / "site" / "notebooks" / "00_tiny.ipynb", as_version=4)
    (output,) = executed.cells[1].outputs
    assert output["text"].strip() == str((tmp_path / "site" / "runs").resolve())
