"""``cnnlab train``, ``cnnlab evaluate`` and ``cnnlab predict``."""

from __future__ import annotations

import argparse
import json
import shlex
import time
from pathlib import Path

import numpy as np

from cnnlab import experiment, runs
from cnnlab.cli._common import add_command, add_model_option, add_quiet_option, add_seed_option

MODEL_HELP = "run folder, its model.npz, or its checkpoint.npz (the model at that point)"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the train, evaluate and predict sub-commands."""
    p = add_command(sub, "train", run_train)
    add_model_option(p)
    p.add_argument(
        "--data",
        default=None,
        help="cifar10 (search the data folders, else the bundled sample), sample, "
        "mnist, or a path to a CIFAR-10 archive, zip or folder",
    )
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--optimizer", default=None, choices=experiment.OPTIMIZERS)
    p.add_argument("--lr", type=float, default=None, help="(peak) learning rate")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument(
        "--weight-decay",
        type=float,
        default=None,
        help="L2 regularisation strength (decoupled weight decay with adamw)",
    )
    p.add_argument("--schedule", default=None, choices=experiment.SCHEDULES)
    p.add_argument("--lr-decay", type=float, default=1.0, help="per-epoch factor (CS231n)")
    p.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random crops (padding 4) and horizontal flips",
    )
    p.add_argument(
        "--patience",
        type=int,
        default=None,
        help="stop after this many epochs (or checks, with --check-every) without a better "
        "validation accuracy",
    )
    p.add_argument(
        "--check-every",
        type=int,
        default=None,
        metavar="K",
        help="also check the validation accuracy every K iterations (seed 004's early "
        "stopping: the checks choose the best model and count the patience)",
    )
    p.add_argument("--num-train", type=int, default=None)
    p.add_argument("--num-val", type=int, default=1000)
    p.add_argument(
        "--val-split",
        default="after",
        choices=experiment.VAL_SPLITS,
        help="validation images: 'after' the first --num-train (default, CS231n's) or the "
        "'last' --num-val of the training set (the Keras practical's)",
    )
    p.add_argument("--num-test", type=int, default=None)
    p.add_argument("--preprocess", default=None, choices=experiment.PREPROCESS)
    p.add_argument(
        "--set",
        dest="model_kwargs",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="model constructor argument, e.g. --set hidden_dim=500 "
        "--set 'widths=[32,64,128]' (repeatable)",
    )
    add_seed_option(p)
    p.add_argument("--out", default=None, help="run folder (default runs/<model>-<time>)")
    p.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its checkpoint"
    )
    add_quiet_option(p)
    p.add_argument("--no-report", action="store_true", help="skip report.html")

    e = add_command(sub, "evaluate", run_evaluate)
    e.add_argument("run", metavar="RUN_OR_MODEL", help=MODEL_HELP)
    e.add_argument("--data", default=None, help="evaluate on this data instead")
    e.add_argument("--json", action="store_true", help="print the results as JSON")

    r = add_command(sub, "predict", run_predict)
    r.add_argument("model", metavar="RUN_OR_MODEL", help=MODEL_HELP)
    r.add_argument("images", nargs="+", metavar="IMAGE")
    r.add_argument("--top", type=int, default=3)


def _parse_kwargs(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _resume_command(out: str) -> str:
    """The ``cnnlab train`` command that continues the run in ``out`` with its saved options."""
    words = ["cnnlab", "train"]
    for key, value in runs.read_json(Path(out) / "config.json").items():
        flag = "--" + key.replace("_", "-")
        if key == "model_kwargs":
            words += [w for k, v in value.items() for w in ("--set", f"{k}={json.dumps(v)}")]
        elif isinstance(value, bool):
            words.append(flag if value else f"--no-{flag[2:]}")
        elif value is not None:
            words += [flag, str(value)]
    return shlex.join([*words, "--out", out, "--resume"])


def run_train(args: argparse.Namespace) -> int:
    """Train a network and write a run folder.

    Trains a network on CIFAR-10 (or MNIST, or an image folder) and writes config.json,
    metrics.csv, checkpoint.npz, model.npz, results.json and report.html into the run folder.
    Options left out take the model's defaults (the seeds' settings).
    Prints where everything went.
    """
    if args.resume and args.out is None:
        raise ValueError("--resume needs --out, the run folder to continue")
    out = args.out or f"runs/{args.model}-{time.strftime('%Y%m%d-%H%M%S')}"
    cfg = experiment.TrainConfig(
        model=args.model,
        model_kwargs=_parse_kwargs(args.model_kwargs),
        data=args.data,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        lr=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        lr_decay=args.lr_decay,
        augment=args.augment,
        patience=args.patience,
        check_every=args.check_every,
        seed=args.seed,
        num_val=args.num_val,
        val_split=args.val_split,
        num_train=args.num_train,
        num_test=args.num_test,
        preprocess=args.preprocess,
    )
    result = experiment.train(cfg, out, resume=args.resume, verbose=not args.quiet)
    if result.interrupted:
        print(f"Interrupted ({result.interrupted}); resume with: {_resume_command(out)}")
        return 130
    print(
        f"validation accuracy {result.val_acc:.4f}, test accuracy {result.test_acc:.4f} "
        f"({result.seconds:.1f} s)"
    )
    if not args.no_report:
        from cnnlab.report import write_report

        print(f"report: {write_report(result.run_dir)}")
    print(f"run folder: {result.run_dir}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Print the accuracy, per-class accuracy and confusion matrix of a trained model.

    The model is evaluated on its data set's test split.
    """
    res = experiment.evaluate(args.run, data=args.data)
    if args.json:
        print(json.dumps({k: v for k, v in res.items() if k != "probs"}, indent=2))
        return 0
    names = res["class_names"]
    print(f"{res['source']}\ntest accuracy: {res['accuracy']:.4f}\n")
    width = max(len(n) for n in names)
    for name, acc in zip(names, res["per_class_acc"], strict=True):
        print(f"  {name:<{width}}  {acc:.3f}")
    cm = np.asarray(res["confusion"])
    print("\nconfusion matrix (rows: true class, columns: predicted)")
    cell = max(5, len(str(cm.max())) + 1)
    print(" " * (width + 2) + "".join(f"{n[: cell - 1]:>{cell}}" for n in names))
    for name, row in zip(names, cm, strict=True):
        print(f"  {name:<{width}}" + "".join(f"{v:>{cell}d}" for v in row))
    return 0


def run_predict(args: argparse.Namespace) -> int:
    """Print the top-3 classes of image files.

    Any format Pillow reads; each image is resized to the network's input.
    """
    tops = experiment.predict_images(args.model, args.images, top=args.top)
    for path, top in zip(args.images, tops, strict=True):
        print(f"{path}: " + ", ".join(f"{name} {p:.3f}" for name, p in top))
    return 0
