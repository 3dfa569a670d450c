"""The documentation site: ``mkdocs build --strict`` succeeds, the site loads nothing from the
network, no internal link is broken, every public name has its docstring in the API reference,
the CLI reference lists every command and option, and three kinds of page (home, notebook, API)
render in headless Chromium with no console error."""

from __future__ import annotations

import argparse
import functools
import html
import importlib
import inspect
import os
import re
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest
from PIL import Image

from cnnlab.cli import build_parser
from tests.browser import open_in_chromium

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]

# the packages and modules whose every public name must be in the API reference
DOCUMENTED = (
    "cnnlab.functional",
    "cnnlab.autograd",
    "cnnlab.nn",
    "cnnlab.models",
    "cnnlab.training",
    "cnnlab.training.optim",
    "cnnlab.training.schedules",
    "cnnlab.data",
    "cnnlab.metrics",
    "cnnlab.gradcheck",
    "cnnlab.filters",
    "cnnlab.viz",
    "cnnlab.report",
    "cnnlab.knn",
    "cnnlab.autoencoder",
    "cnnlab.torch",
)

# a reference to a resource the page loads (not a link a reader follows)
LOADED = {("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"), ("source", "src")}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built by ``mkdocs build --strict`` into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "CNNLAB_DOCS_NOTEBOOKS": ""}
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-5000:]
    return out


class _Refs(HTMLParser):
    """The ids of a page and every (tag, attribute, value) of its href/src attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            elif name in ("href", "src") and value is not None:
                self.refs.append((tag, name, value))


@functools.cache
def parse(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def is_external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme or parts.netloc)


def test_every_page_loads_nothing_from_the_network(site: Path) -> None:
    remote = [
        f"{page.relative_to(site)}: <{tag} {attr}={value}>"
        for page in pages(site)
        for tag, attr, value in parse(page).refs
        if (tag, attr) in LOADED and is_external(value) and not value.startswith("data:")
    ]
    assert remote == []


def test_no_internal_link_is_broken(site: Path) -> None:
    broken = []
    checked = 0
    for page in pages(site):
        for tag, attr, value in parse(page).refs:
            if is_external(value) or not value:
                continue
            path, _, fragment = value.partition("#")
            if not path:
                target = page
            elif path.startswith("/"):  # from the site's root (the 404 page's links)
                target = (site / unquote(path).lstrip("/")).resolve()
            else:
                target = (page.parent / unquote(path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            checked += 1
            if not target.is_file() or not target.is_relative_to(site.resolve()):
                broken.append(f"{page.relative_to(site)}: <{tag} {attr}={value}>: no such file")
            elif (
                fragment and target.suffix == ".html" and unquote(fragment) not in parse(target).ids
            ):
                broken.append(f"{page.relative_to(site)}: <{tag} {attr}={value}>: no such anchor")
    assert broken == []
    assert checked > 1000  # the walk saw the site: navigation, API cross-references, images


def inventory(site: Path) -> dict[str, str]:
    """objects.inv (Sphinx inventory v2): ``{object name: page URL with its anchor}``."""
    header, _, body = site.joinpath("objects.inv").read_bytes().partition(b"zlib.\n")
    assert header.startswith(b"# Sphinx inventory version 2")
    entries = {}
    for line in zlib.decompress(body).decode().splitlines():
        name, _domain_role, _priority, uri, _display = line.split(" ", 4)
        entries[name] = uri.replace("$", name) if uri.endswith("$") else uri
    return entries


def public_names(module_name: str) -> Iterator[tuple[str, object]]:
    """The module's ``__all__``, or (without one) the functions and classes it defines."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and (inspect.isfunction(value) or inspect.isclass(value))
            and value.__module__ == module_name
        ]
    for name in names:
        yield name, getattr(module, name)


def words(text: str) -> list[str]:
    """The words of ``text``, without the Sphinx roles that the API pages show as code."""
    text = re.sub(r":[a-z:]+:`~[\w.]*?(\w+)`", r"`\1`", text)  # ~a.b.c shows as c
    return re.findall(r"\w+", re.sub(r":[a-z:]+:`", "`", text))


def section_words(site: Path, url: str) -> list[str]:
    """The words of an object's section: from its heading up to the next object's heading."""
    path, _, anchor = url.partition("#")
    page = site.joinpath(path).read_text(encoding="utf-8")
    start = page.index(f'id="{anchor}"')
    end = page.find('class="doc doc-heading"', page.index("</h", start))
    section = page[start : end if end > 0 else len(page)]
    return words(html.unescape(re.sub(r"<[^>]+>", " ", section)))


def contains_in_order(haystack: list[str], needle: list[str]) -> bool:
    rest = iter(haystack)
    return all(word in rest for word in needle)


def own_docstring(name: str, value: object) -> str | None:
    """The docstring the object carries at run time, when the name is the object's own name
    (None for constants and aliases, whose docstring lives in the source only)."""
    if getattr(value, "__name__", "").rsplit(".", 1)[-1] != name:
        return None
    return inspect.getdoc(value)


def test_api_reference_documents_every_public_name(site: Path) -> None:
    entries = inventory(site)
    missing = []
    for module_name in DOCUMENTED:
        for name, value in public_names(module_name):
            candidates = [f"{module_name}.{name}"]
            if inspect.ismodule(value):
                candidates = [value.__name__]
            elif hasattr(value, "__qualname__") and hasattr(value, "__module__"):
                candidates.append(f"{value.__module__}.{value.__qualname__}")
            urls = [entries[c] for c in candidates if c in entries]
            if not urls:
                missing.append(f"{module_name}.{name}: not in the API reference")
                continue
            docstring = own_docstring(name, value)
            summary = words(docstring.split("\n\n")[0]) if docstring else None
            shown = [section_words(site, url) for url in urls]
            if summary is None:  # a constant or an alias: its section must hold a docstring
                ok = any(len(text) > len(words(name)) + 3 for text in shown)
            else:
                ok = any(contains_in_order(text, summary) for text in shown)
            if not ok:
                missing.append(f"{module_name}.{name}: its docstring is not shown at {urls}")
    assert missing == []


def commands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from commands(child)


def test_cli_reference_lists_every_command_and_option(site: Path) -> None:
    page = html.unescape(re.sub(r"<[^>]+>", "", site.joinpath("cli.html").read_text("utf-8")))
    absent = []
    for parser in commands(build_parser()):
        if f"{parser.prog}\n" not in page and f"{parser.prog}¶" not in page:
            absent.append(f"section {parser.prog}")
        for action in parser._actions:
            if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
                continue
            absent += [f"{parser.prog} {o}" for o in action.option_strings if o not in page]
    assert absent == []


def test_repository_pages_are_the_repository_files(site: Path) -> None:
    for page, source in (
        ("architecture.html", "ARCHITECTURE.md"),
        ("results.html", "benchmarks/RESULTS.md"),
    ):
        text = words(html.unescape(re.sub(r"<[^>]+>", " ", site.joinpath(page).read_text("utf-8"))))
        headings = re.findall(r"^#+ (.+)$", REPO.joinpath(source).read_text("utf-8"), re.M)
        assert headings
        for heading in headings:
            assert contains_in_order(text, words(heading)), (page, heading)


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The site served over HTTP on the loopback interface (as ``mkdocs serve`` would)."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=site))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def first_notebook() -> Path:
    notebooks = sorted(REPO.joinpath("notebooks").glob("[0-9][0-9]_*.py"))
    assert notebooks, "no notebook in notebooks/ to check the notebook pages with"
    return notebooks[0]


def notebook_title(path: Path) -> str:
    heading = re.search(r"^# # (.+)$", path.read_text("utf-8"), re.M)
    assert heading, f"{path.name} has no title heading"
    return heading.group(1)


@pytest.mark.parametrize("kind", ["home", "notebook", "api"])
def test_page_renders_in_chromium_without_console_errors(
    kind: str, site: Path, served: str, tmp_path: Path
) -> None:
    if kind == "home":
        path, expected = "index.html", ["Where to go", "Getting started"]
    elif kind == "notebook":
        notebook = first_notebook()
        path, expected = f"notebooks/{notebook.stem}.html", [notebook_title(notebook)]
    else:
        path, expected = "api/nn.html", ["cnnlab.nn", "Conv2d", "Module"]
    shot = tmp_path / f"{kind}.png"
    report = open_in_chromium(f"{served}/{path}", shot, settle_s=1.0)
    assert report["console"] == []
    assert report["title"].endswith("cnnlab"), report["title"]
    for text in expected:
        assert text in report["text"], text
    for image in report["images"]:
        assert image["complete"] and image["width"] > 0, image
    with Image.open(shot) as screenshot:
        assert screenshot.height == report["height"] > 600
        assert np.asarray(screenshot.convert("L"), dtype=float).std() > 20


def test_executed_notebooks_replace_the_stored_ones(tmp_path, monkeypatch):
    """CNNLAB_DOCS_NOTEBOOKS=DIR: the pages are DIR/notebooks/NN_name.ipynb, or a named error."""
    spec = importlib.util.spec_from_file_location("nb_hook", REPO / "docs/hooks/notebooks.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    monkeypatch.delenv("CNNLAB_DOCS_NOTEBOOKS", raising=False)
    folder, stored = hook.notebook_source(REPO)
    assert folder == REPO and stored[0] == "notebooks/00_start_here.py"
    monkeypatch.setenv("CNNLAB_DOCS_NOTEBOOKS", str(tmp_path))
    with pytest.raises(ValueError, match=r"holds no notebooks/NN_name\.ipynb; write them with"):
        hook.notebook_source(REPO)
    (tmp_path / "notebooks").mkdir()
    for page in stored:
        (tmp_path / page).with_suffix(".ipynb").write_text("{}")
    folder, executed = hook.notebook_source(REPO)
    assert folder == tmp_path.resolve()
    assert executed == [page.replace(".py", ".ipynb") for page in stored]
