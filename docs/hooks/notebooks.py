"""MkDocs hook: the notebooks of ``notebooks/`` as pages of the site, in their own nav section.

The notebooks live in the repository's ``notebooks/`` folder (jupytext percent-format scripts
``NN_name.py``; ``nbsetting.py`` beside them is their helper, not a notebook). This hook adds
each one to the site's files under ``notebooks/`` before mkdocs-jupyter looks for notebooks
(so that plugin renders them), and turns the nav entry ``notebooks.md`` into a section: that
overview page, then every notebook in file-name order. With ``CNNLAB_DOCS_NOTEBOOKS=DIR`` set,
the pages are the executed copies ``DIR/notebooks/NN_name.ipynb`` that
``notebooks/run_notebooks.py DIR`` wrote (outputs included) instead of the stored scripts.
It also drops the empty MathJax script tag mkdocs-jupyter writes into every notebook page
when no MathJax URL is configured (the site loads nothing from the network).
"""

from __future__ import annotations

import os
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

FOLDER = "notebooks"
PATTERN = "[0-9][0-9]_*.py"
EXECUTED = "CNNLAB_DOCS_NOTEBOOKS"
OVERVIEW = "notebooks.md"
EMPTY_MATHJAX = '<script src=""> </script>'


def notebook_source(root: Path) -> tuple[Path, list[str]]:
    """Where the notebook pages come from: a folder and the pages' paths relative to it.

    ``root`` (the folder of mkdocs.yml) and its ``notebooks/NN_name.py``, or, when
    ``CNNLAB_DOCS_NOTEBOOKS`` names a folder, that folder and its ``notebooks/NN_name.ipynb``.

    Raises:
        ValueError: ``CNNLAB_DOCS_NOTEBOOKS`` names a folder without executed notebooks.
    """
    executed = os.environ.get(EXECUTED)
    if not executed:
        return root, [f"{FOLDER}/{path.name}" for path in sorted((root / FOLDER).glob(PATTERN))]
    folder = Path(executed).resolve()
    pages = sorted((folder / FOLDER).glob(PATTERN.replace(".py", ".ipynb")))
    if not pages:
        raise ValueError(
            f"notebooks hook: {EXECUTED}={executed} holds no {FOLDER}/NN_name.ipynb; "
            f"write them with: python notebooks/run_notebooks.py {executed}"
        )
    return folder, [f"{FOLDER}/{path.name}" for path in pages]


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Replace the nav entry pointing at ``OVERVIEW`` with the notebooks' section.

    Raises:
        ValueError: the nav has no entry for ``OVERVIEW``.
    """
    root = Path(config.config_file_path).parent
    for index, entry in enumerate(config.nav or []):
        if isinstance(entry, dict) and list(entry.values()) == [OVERVIEW]:
            (title,) = entry
            config.nav[index] = {title: [OVERVIEW, *notebook_source(root)[1]]}
            return config
    raise ValueError(f"notebooks hook: mkdocs.yml's nav has no entry for {OVERVIEW}")


@event_priority(100)  # before mkdocs-jupyter's on_files, which wraps the notebook files
def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add every notebook to the site's files (see :func:`notebook_source`)."""
    source, paths = notebook_source(Path(config.config_file_path).parent)
    for path in paths:
        files.append(File(path, str(source), config.site_dir, config.use_directory_urls))
    return files


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Remove mkdocs-jupyter's empty MathJax ``<script src="">`` from a notebook page."""
    if page.file.src_uri.startswith(f"{FOLDER}/"):
        return output.replace(EMPTY_MATHJAX, "")
    return output
