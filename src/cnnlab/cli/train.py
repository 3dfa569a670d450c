"""``cnnlab train``, ``cnnlab evaluate`` and ``cnnlab predict``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import time
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab import experiment, runs
from cnnlab.cli._common import add_command, add_model_option, add_quiet_option, add_seed_option

CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(experiment.TrainConfig))
# what --resume may change in the run's config.json: more epochs continue the same run
RESUME_MAY_CHANGE = frozenset({"epochs"})
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
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs in all (default 1); with --resume, more epochs continue the run",
    )
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--optimizer", default=None, choices=experiment.OPTIMIZERS)
    p.add_argument("--lr", type=float, default=None, help="(peak) learning rate")
    p.add_argument("--momentum", type=float, default=None, help="(default 0.9)")
    p.add_argument(
        "--weight-decay",
        type=float,
        default=None,
        help="L2 regularisation strength (decoupled weight decay with adamw)",
    )
    p.add_argument("--schedule", default=None, choices=experiment.SCHEDULES)
    p.add_argument(
        "--lr-decay", type=float, default=None, help="per-epoch factor (CS231n; default 1)"
    )
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
    p.add_argument(
        "--num-val",
        type=int,
        default=None,
        help=f"validation images (default {experiment.DEFAULT_NUM_VAL}, at most a tenth of "
        "the training set)",
    )
    p.add_argument(
        "--val-split",
        default=None,
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
        "--resume",
        action="store_true",
        help="continue the run in --out from its checkpoint, with the options of its "
        "config.json (only --epochs may change them)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    p.set_defaults(model=None, seed=None)  # so that resume knows the options given
    add_quiet_option(p)
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    p.add_argument(
        "--engine",
        default="numpy",
        choices=experiment.ENGINES,
        help="numpy: the hand-written layers; torch: their PyTorch twin (same data, schedule, "
        "checkpoints and run files; needs PyTorch)",
    )
    p.add_argument(
        "--device",
        default=None,
        help="with --engine torch: cpu, cuda or mps (default: the GPU when there is one)",
    )
    _add_distributed_options(p)

    e = add_command(sub, "evaluate", run_evaluate)
    e.add_argument("run", metavar="RUN_OR_MODEL", help=MODEL_HELP)
    e.add_argument("--data", default=None, help="evaluate on this data instead")
    e.add_argument("--json", action="store_true", help="print the results as JSON")

    r = add_command(sub, "predict", run_predict)
    r.add_argument("model", metavar="RUN_OR_MODEL", help=MODEL_HELP)
    r.add_argument("images", nargs="+", metavar="IMAGE")
    r.add_argument("--top", type=int, default=3)


def _add_distributed_options(p: argparse.ArgumentParser) -> None:
    """--nproc and torchrun's rendezvous options (:mod:`cnnlab.distributed`)."""
    g = p.add_argument_group(
        "data-parallel training (torch.distributed: Gloo, NCCL for --engine torch on GPUs; "
        "the same global batch split over the processes)"
    )
    g.add_argument("--nproc", type=int, default=1, help="processes on this machine")
    g.add_argument("--nnodes", type=int, default=1, help="machines in the run")
    g.add_argument("--node-rank", type=int, default=0, help="this machine's number (0: rank 0)")
    g.add_argument("--master-addr", default="127.0.0.1", help="address of machine 0")
    g.add_argument(
        "--master-port", type=int, default=None, help="port on machine 0 (default: a free one)"
    )


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


def _option_words(config: dict) -> list[str]:
    """The ``cnnlab train`` options that give the TrainConfig values ``config``.

    A field that is None is left out: it takes its default.
    """
    words = []
    for key, value in config.items():
        flag = "--" + key.replace("_", "-")
        if key == "model_kwargs":
            words += [w for k, v in value.items() for w in ("--set", f"{k}={json.dumps(v)}")]
        elif isinstance(value, bool):
            words.append(flag if value else f"--no-{flag[2:]}")
        elif value is not None:
            words += [flag, str(value)]
    return words


def _resume_command(out: str) -> str:
    """The ``cnnlab train`` command that continues the run in ``out`` with its saved options."""
    config = runs.read_json(Path(out) / "config.json")
    return shlex.join(["cnnlab", "train", *_option_words(config), "--out", out, "--resume"])


def _launch(args: argparse.Namespace, cfg: experiment.TrainConfig, out: str) -> int:
    """Start ``args.nproc`` ranks of this training run (:func:`cnnlab.distributed.launch`)."""
    from cnnlab.distributed import launch

    flags = {
        "--resume": args.resume,
        "--overwrite": args.overwrite,
        "--quiet": args.quiet,
        "--no-report": args.no_report,
    }
    argv = [
        "train",
        *_option_words(dataclasses.asdict(cfg)),
        "--out",
        out,
        "--engine",
        args.engine,
        *(["--device", args.device] if args.device is not None else []),
        *(flag for flag, given in flags.items() if given),
    ]
    if getattr(args, "debug", False):
        argv.append("--debug")
    return launch(
        argv,
        args.nproc,
        nnodes=args.nnodes,
        node_rank=args.node_rank,
        master_addr=args.master_addr,
        master_port=args.master_port,
    )


def _given_options(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields the command line sets (an option left out is not there)."""
    given = {
        name: getattr(args, name)
        for name in CONFIG_FIELDS
        if name != "model_kwargs" and getattr(args, name) is not None
    }
    if args.model_kwargs:
        given["model_kwargs"] = _parse_kwargs(args.model_kwargs)
    return given


def _resume_config(out: Path, given: dict[str, Any]) -> experiment.TrainConfig:
    """The configuration of the run in ``out`` (its config.json) with the options ``given``.

    Only :data:`RESUME_MAY_CHANGE` may differ from the saved values (and options the saved
    file lacks are taken); any other difference is refused with ValueError naming both.
    """
    saved = experiment.saved_config(out)
    clashes = []
    for name, value in given.items():
        if name not in saved or name in RESUME_MAY_CHANGE:
            continue
        if name == "model_kwargs":
            old = saved[name] if isinstance(saved[name], dict) else {}
            keys = [k for k, v in value.items() if k not in old or old[k] != _as_json(v)]
            if keys:
                clashes.append(
                    (f"model_kwargs {({k: old.get(k) for k in keys})}",
                     f"--set {({k: value[k] for k in keys})}")
                )  # fmt: skip
        elif _as_json(value) != saved[name]:
            flag = "--" + name.replace("_", "-")
            clashes.append((f"{name}={saved[name]!r}", f"{flag} {value!r}"))
    if clashes:
        raise ValueError(
            f"cannot resume {out}: its config.json has {', '.join(c[0] for c in clashes)}, the "
            f"command line {', '.join(c[1] for c in clashes)}; leave those options out to "
            "continue the run as it was (only --epochs may change), or train into another --out"
        )
    applied = {k: v for k, v in given.items() if k not in saved or k in RESUME_MAY_CHANGE}
    return dataclasses.replace(experiment.TrainConfig(**saved), **applied)


def _as_json(value: Any) -> Any:
    """``value`` as config.json gives it back (tuples become lists)."""
    return json.loads(json.dumps(value))


def run_train(args: argparse.Namespace) -> int:
    """Train a network and write a run folder.

    Trains a network on CIFAR-10 (or MNIST, or an image folder) and writes config.json,
    metrics.csv, checkpoint.npz, model.npz, results.json and report.html into the run folder.
    Options left out take the model's defaults (the seeds' settings).
    Prints where everything went.
    """
    if args.resume and args.out is None:
        raise ValueError("--resume needs --out, the run folder to continue")
    given = _given_options(args)
    if args.resume:
        cfg = _resume_config(Path(args.out), given)
    else:
        cfg = experiment.TrainConfig(**given)
    out = args.out or f"runs/{cfg.model}-{time.strftime('%Y%m%d-%H%M%S')}"
    if args.device is not None and args.engine != "torch":
        raise ValueError("--device is for --engine torch (the numpy engine runs on the CPU)")
    from cnnlab.distributed.group import env_rank, group_from_env, leave_group

    place, backend = env_rank(), "gloo"
    if args.engine == "torch" and place is not None and place[1] > 1:  # NCCL for GPUs
        from cnnlab.distributed.torch_solver import backend_for

        backend = backend_for(args.device)
    group = group_from_env(backend=backend)  # set up by --nproc's launcher or by torchrun
    if group is None and (args.nproc > 1 or args.nnodes > 1):
        return _launch(args, cfg, out)
    try:
        result = experiment.train(
            cfg,
            out,
            resume=args.resume,
            overwrite=args.overwrite,
            verbose=not args.quiet,
            group=group,
            engine=args.engine,
            device=args.device,
        )
    finally:
        if group is not None:
            leave_group()
    if group is not None and not group.is_primary:
        return 130 if result.interrupted else 0
    if result.interrupted:
        engine = " --engine torch" if args.engine == "torch" else ""
        print(f"Interrupted ({result.interrupted}); resume with: {_resume_command(out)}{engine}")
        return 130
    print(
        f"validation accuracy {result.val_acc:.4f}, test accuracy {result.test_acc:.4f} "
        f"({result.seconds:.1f} s{' in all' if args.resume else ''})"
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
