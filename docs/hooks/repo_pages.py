"""MkDocs hook: repository files shown as pages of the site, included as they are (not copied).

``PAGES`` maps a page of the site to a file of the repository. The page is generated at build
time from the file's current text; every file the text links to by a relative path (a Markdown
link or image, an HTML ``src``/``href``) is published next to the page at the same relative
path, so that images such as RESULTS.md's ``figures/*.png`` still show.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

# page of the site -> file of the repository (relative to the folder holding mkdocs.yml)
PAGES = {
    "architecture.md": "ARCHITECTURE.md",
    "results.md": "benchmarks/RESULTS.md",
}

# the target of a Markdown link or image, or of an HTML src/href attribute
_TARGET = re.compile(r"\]\(([^)\s]+)(?:\s[^)]*)?\)|\b(?:src|href)=\"([^\"]+)\"")


def relative_targets(text: str) -> list[str]:
    """The relative paths that ``text`` links to (no URLs, anchors or absolute paths).

    Args:
        text: Markdown, possibly with inline HTML.

    Returns:
        Each target once, in order of appearance, without its ``#fragment``.
    """
    found: list[str] = []
    for match in _TARGET.finditer(text):
        target = (match.group(1) or match.group(2)).split("#", 1)[0]
        if target and ":" not in target and not target.startswith("/") and target not in found:
            found.append(target)
    return found


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add each page of ``PAGES`` and the files its text links to.

    Raises:
        FileNotFoundError: a file of ``PAGES`` is missing.
        ValueError: a linked file lies above the included file's folder (it would be published
            outside the site).
    """
    root = Path(config.config_file_path).parent
    for page, source in PAGES.items():
        path = root / source
        text = path.read_text(encoding="utf-8")
        files.append(File.generated(config, page, content=text))
        for target in relative_targets(text):
            linked = (path.parent / target).resolve()
            if not linked.is_relative_to(path.parent.resolve()):
                raise ValueError(f"repo_pages: {source} links to {target}, outside its folder")
            if linked.is_file():
                site_path = (Path(page).parent / target).as_posix()
                files.append(File.generated(config, site_path, abs_src_path=str(linked)))
    return files
