"""MkDocs hook: the notebooks of ``notebooks/`` as pages of the site, in their own nav section.

The notebooks live in the repository's ``notebooks/`` folder (jupytext percent-format scripts
``NN_name.py``; ``nbsetting.py`` beside them is their helper, not a notebook). This hook adds
each one to the site's files under ``notebooks/`` before mkdocs-jupyter looks for notebooks
(so that plugin renders them), and turns the nav entry ``notebooks.md`` into a section: that
overview page, then every notebook in file-name order. It also drops the empty MathJax
script tag mkdocs-jupyter writes into every notebook page when no MathJax URL is configured
(the site loads nothing from the network).
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

FOLDER = "notebooks"
PATTERN = "[0-9][0-9]_*.py"
OVERVIEW = "notebooks.md"
EMPTY_MATHJAX = '<script src=""> </script>'


def notebook_paths(root: Path) -> list[str]:
    """The notebooks' paths relative to ``root`` (the folder of mkdocs.yml), sorted."""
    return [f"{FOLDER}/{path.name}" for path in sorted((root / FOLDER).glob(PATTERN))]


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Replace the nav entry pointing at ``OVERVIEW`` with the notebooks' section.

    Raises:
        ValueError: the nav has no entry for ``OVERVIEW``.
    """
    root = Path(config.config_file_path).parent
    for index, entry in enumerate(config.nav or []):
        if isinstance(entry, dict) and list(entry.values()) == [OVERVIEW]:
            (title,) = entry
            config.nav[index] = {title: [OVERVIEW, *notebook_paths(root)]}
            return config
    raise ValueError(f"notebooks hook: mkdocs.yml's nav has no entry for {OVERVIEW}")


@event_priority(100)  # before mkdocs-jupyter's on_files, which wraps the notebook files
def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add every notebook to the site's files (source: the repository's ``notebooks/``)."""
    root = Path(config.config_file_path).parent
    for path in notebook_paths(root):
        files.append(File(path, str(root), config.site_dir, config.use_directory_urls))
    return files


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Remove mkdocs-jupyter's empty MathJax ``<script src="">`` from a notebook page."""
    if page.file.src_uri.startswith(f"{FOLDER}/"):
        return output.replace(EMPTY_MATHJAX, "")
    return output
