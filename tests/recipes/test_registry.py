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
