"""Where datasets are looked for (cnnlab.data.paths)."""

from __future__ import annotations

import pytest

from cnnlab.data import paths


@pytest.fixture
def project(tmp_path, monkeypatch):
    """tmp/shared/data beside tmp/project, with a sub-folder project/notebooks."""
    monkeypatch.delenv(paths.ENV_VAR, raising=False)
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "project" / "notebooks").mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize("where", ["project", "project/notebooks"])
def test_shared_data_is_found_from_the_project_and_its_sub_folders(project, monkeypatch, where):
    monkeypatch.chdir(project / where)
    assert (project / "shared" / "data").resolve() in paths.search_dirs()
    assert f"../shared/data ({(project / 'shared' / 'data').resolve()})" in paths.searched_text()


def test_the_nearer_shared_data_wins(project, monkeypatch):
    (project / "project" / "shared" / "data").mkdir(parents=True)
    monkeypatch.chdir(project / "project" / "notebooks")
    assert (project / "project" / "shared" / "data").resolve() in paths.search_dirs()
    assert (project / "shared" / "data").resolve() not in paths.search_dirs()


def test_nothing_found_names_the_nearer_place(tmp_path, monkeypatch):
    monkeypatch.delenv(paths.ENV_VAR, raising=False)
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a" / "b")
    assert f"../shared/data ({(tmp_path / 'a' / 'shared' / 'data').resolve()}, missing)" in (
        paths.searched_text()
    )
