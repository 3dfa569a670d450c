"""``cnnlab recipe list`` and ``cnnlab recipe run NAME``: the seeds' experiments by name."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cnnlab.cli._common import add_command, add_seed_option


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``recipe`` sub-command with its ``list`` and ``run`` actions."""
    recipe = add_command(subparsers, "recipe", run_help)
    actions = recipe.add_subparsers(dest="action", metavar="ACTION")
    listing = add_command(actions, "list", run_list)
    run = add_command(actions, "run", run_run)
    run.add_argument("name", metavar="NAME", help="a recipe's name (see `cnnlab recipe list`)")
    run.add_argument(
        "--tiny", action="store_true", help="a seconds-long smoke run (its figures mean nothing)"
    )
    run.add_argument("--out", default=None, help="output folder (default recipes_out/NAME)")
    add_seed_option(run)
    for action in (listing, run):  # cnnlab's --debug may follow the action too
        action.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
    recipe.set_defaults(parser=recipe)


def run_help(args: argparse.Namespace) -> int:
    """Run one of the seeds' experiments by name (list, run NAME).

    `cnnlab recipe list` prints every recipe with what the seed reports for it;
    `cnnlab recipe run NAME [--tiny] [--out DIR]` runs one, writes its figures into DIR and
    records its measured figures next to the seed's in DIR/recipe.json; run again into the same
    DIR, it prints that record (a finished recipe is not repeated; an interrupted one resumes).
    """
    args.parser.print_help()
    return 2


def run_list(args: argparse.Namespace) -> int:
    """Print every recipe: its name, what it does and the seed's own figure."""
    from cnnlab.recipes import RECIPES

    for name in sorted(RECIPES):
        recipe = RECIPES[name]
        print(f"{name}\n    {recipe.description}\n    seed: {recipe.seed_figure}")
    return 0


def run_run(args: argparse.Namespace) -> int:
    """Run the recipe NAME and write its files and DIR/recipe.json.

    Prints the measured results beside the seed's figure.
    """
    from cnnlab.recipes import RECORD_FILE, finished_record, run_recipe

    out = Path(args.out or f"recipes_out/{args.name}")
    reused = finished_record(out) is not None
    record = run_recipe(args.name, out, tiny=args.tiny, seed=args.seed)
    print(json.dumps(record["results"], indent=2))
    print(f"seed: {record['seed_figure']}")
    if reused:
        print(f"recipe {args.name}: already run, results read from {out / RECORD_FILE}")
    else:
        print(f"recipe {args.name}: wrote {out}/ ({record['seconds']:.1f} s)")
    return 0
