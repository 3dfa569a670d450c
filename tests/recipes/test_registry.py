"""The recipe registry and ``cnnlab recipe list / run`` (cnnlab.recipes, cnnlab.cli.recipes)."""

from __future__ import annotations

import inspect
import json

import pytest

from cnnlab import recipes
from cnnlab.cli import main


def fake_recipe(out, tiny=False, seed=0):
    """Writes one file and returns what it was given."""
    (out / "made.txt").write_text("x")
    return {"tiny": tiny, "seed": seed}


@pytest.fixture
def with_fake(monkeypatch):
    monkeypatch.setitem(
        recipes.RECIPES, "fake", recipes.Recipe(fake_recipe, "a fake recipe", "42 %")
    )


def test_every_entry_is_a_recipe_with_the_common_signature():
    for name, recipe in recipes.RECIPES.items():
        assert isinstance(recipe, recipes.Recipe), name
        params = inspect.signature(recipe.fn).parameters
        assert list(params)[:1] == ["out"] and {"tiny", "seed"} <= set(params), name
        assert recipe.description and "\n" not in recipe.description, name
        assert recipe.seed_figure, name


def test_unknown_name_lists_the_known_ones(with_fake):
    with pytest.raises(ValueError, match=r"^recipe: unknown recipe 'nope'; known: .*fake"):
        recipes.get("nope")


def test_run_recipe_records_the_results(with_fake, tmp_path):
    record = recipes.run_recipe("fake", tmp_path / "out", tiny=True, seed=3)
    assert (tmp_path / "out" / "made.txt").exists()
    saved = json.loads((tmp_path / "out" / "recipe.json").read_text())
    assert saved == record
    assert saved["results"] == {"tiny": True, "seed": 3}
    assert saved["seed_figure"] == "42 %" and saved["seconds"] >= 0


def test_cli_list_and_run(with_fake, tmp_path, capsys):
    assert main(["recipe", "list"]) == 0
    assert "fake\n    a fake recipe\n    seed: 42 %" in capsys.readouterr().out
    out = tmp_path / "run"
    assert main(["recipe", "run", "fake", "--tiny", "--seed", "5", "--out", str(out)]) == 0
    assert json.loads((out / "recipe.json").read_text())["results"] == {"tiny": True, "seed": 5}


def test_cli_unknown_recipe_is_one_line(capsys):
    assert main(["recipe", "run", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cnnlab recipe: error: recipe: unknown recipe 'nope'")
    assert len(err.splitlines()) == 1


def test_cli_recipe_without_action_shows_help(capsys):
    assert main(["recipe"]) == 2
    assert "list" in capsys.readouterr().out


def counting_recipe(out, tiny=False, seed=0):
    """Counts its calls in calls.txt."""
    calls = out / "calls.txt"
    calls.write_text(str(int(calls.read_text()) + 1 if calls.exists() else 1))
    return {"calls": int(calls.read_text())}


@pytest.fixture
def with_counting(monkeypatch):
    monkeypatch.setitem(recipes.RECIPES, "count", recipes.Recipe(counting_recipe, "counts", "1"))


def test_a_finished_recipe_is_reused_not_repeated(with_counting, tmp_path):
    first = recipes.run_recipe("count", tmp_path, seed=2)
    assert recipes.run_recipe("count", tmp_path, seed=2) == first
    assert (tmp_path / "calls.txt").read_text() == "1"


@pytest.mark.parametrize(
    ("name", "tiny", "seed"), [("count", True, 2), ("count", False, 3), ("fake", False, 2)]
)
def test_a_folder_holding_another_setting_is_refused(
    with_counting, with_fake, tmp_path, name, tiny, seed
):
    recipes.run_recipe("count", tmp_path, seed=2)
    with pytest.raises(ValueError, match=r"already holds recipe 'count' \(tiny=False, seed=2\)"):
        recipes.run_recipe(name, tmp_path, tiny=tiny, seed=seed)
    assert (tmp_path / "calls.txt").read_text() == "1"


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_a_damaged_record_is_named(with_counting, tmp_path, text):
    (tmp_path / "recipe.json").write_text(text)
    with pytest.raises(ValueError, match=r"recipe\.json is not .*remove it to run again"):
        recipes.run_recipe("count", tmp_path)


def test_cli_says_when_it_reuses_a_record(with_counting, tmp_path, capsys):
    args = ["recipe", "run", "count", "--out", str(tmp_path)]
    assert main(args) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(args) == 0
    assert "already run, results read from" in capsys.readouterr().out
    assert (tmp_path / "calls.txt").read_text() == "1"
