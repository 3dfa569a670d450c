"""``cnnlab summary`` and ``cnnlab gradcheck``: look inside a model."""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io

import numpy as np

from cnnlab import experiment, models
from cnnlab.cli._common import add_command, add_model_option, add_seed_option
from cnnlab.gradcheck import grad_check_sparse
from cnnlab.viz.graph import model_graph, plot_model_graph


def register(sub: argparse._SubParsersAction) -> None:
    """Add the summary and gradcheck sub-commands."""
    summary = add_command(sub, "summary", run_summary)
    add_model_option(summary)
    summary.add_argument(
        "--graph",
        metavar="FILE",
        help="also draw the model's graph (layers, output shapes, residual branches) as a PNG",
    )
    gradcheck = add_command(sub, "gradcheck", run_gradcheck)
    add_model_option(gradcheck)
    gradcheck.add_argument("--checks", type=int, default=5, help="entries checked per parameter")
    add_seed_option(gradcheck)


def run_summary(args: argparse.Namespace) -> int:
    """Print the model's layers, output shapes and parameter counts.

    The Keras-style layer table of the model as 'cnnlab train --model NAME' builds it (the
    model's training defaults). With --graph FILE, also its diagram (Keras's plot_model): a box
    per layer with its output shape, arrows between them, each residual block as a fork and a
    join.
    """
    kwargs = experiment.TrainConfig(model=args.model).resolved().model_kwargs
    model = models.build(args.model, **kwargs)
    print(model.summary())
    if args.graph:
        plot_model_graph(model_graph(model), title=args.model, path=args.graph)
        print(f"graph written to {args.graph}")
    return 0


def check_model_gradients(name: str, checks: int = 5, seed: int = 0) -> dict[str, float]:
    """Largest relative error between analytic and numerical gradients, per parameter.

    The model is built in float64 with L2 reg 0.1 and dropout disabled (a random mask per
    forward pass would make the loss non-deterministic); a model with a ``weight_scale`` gets
    0.05, as with the seed's 1e-3 the gradients of the first layer are so small that the
    central differences only keep a few digits. Inputs are 2 random samples.
    """
    accepted = inspect.signature(models.MODELS[name]).parameters
    kwargs = {"dtype": np.float64, "reg": 0.1, "seed": seed}
    overrides = (("dropout", 0.0), ("dropout_keep_ratio", 1.0), ("weight_scale", 0.05))
    kwargs.update({k: v for k, v in overrides if k in accepted})
    if name == "fc":
        kwargs["hidden_dims"] = [20, 20]
    model = models.build(name, **kwargs)
    rng = np.random.default_rng(seed)
    shape = model.input_shape
    X = rng.standard_normal((2, *shape))
    y = rng.integers(0, model.loss(X[:1]).shape[1], size=2)
    _, grads = model.loss(X, y)
    errors = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for pname, w in model.params.items():
            errs = grad_check_sparse(
                lambda _: model.loss(X, y)[0], w, grads[pname], num_checks=checks, seed=seed
            )
            errors[pname] = float(np.max(errs))
    return errors


def run_gradcheck(args: argparse.Namespace) -> int:
    """Check a model's gradients numerically.

    Compares the model's analytic gradients with central differences (float64, a batch of 2
    random inputs, reg 0.1, dropout off) at a few random entries of every parameter,
    prints each parameter's largest relative error and exits with 1 when one exceeds 1e-5.
    """
    errors = check_model_gradients(args.model, args.checks, args.seed)
    width = max(map(len, errors))
    for name, err in errors.items():
        print(f"{name:<{width}}  max relative error {err:.2e}")
    worst = max(errors.values())
    ok = worst < 1e-5
    print(f"{'OK' if ok else 'FAILED'}: worst relative error {worst:.2e} (threshold 1e-5)")
    return 0 if ok else 1
