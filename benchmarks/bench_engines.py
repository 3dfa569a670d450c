"""Epoch time of the challenge ResNet on the NumPy engine vs the torch engine (issue 16).

The recipe is ``cnnlab train --model resnet`` (:data:`cnnlab.experiment.MODEL_DEFAULTS`: widths
32/64/128, one basic block per stage, batch 128, Nesterov momentum 0.9 at lr 0.1 on a one-cycle
schedule, weight decay 5e-4, random crops and flips), trained by the Solver (``numpy``) or the
TorchSolver (``torch``, :mod:`cnnlab.torch.engine`) on ``--num-train`` images. The images are
random (an epoch's time does not depend on the pixels), so no data set is needed. An epoch's
time is the Solver's own ``seconds`` of that epoch: every minibatch step plus the end-of-epoch
accuracies (1000 training images and the ``--num-val`` validation images), the same work on
both engines.

Method (:mod:`cnnlab.timing`): each engine runs in a fresh process, ``--rounds`` processes
each, alternating which goes first, with ``--threads`` threads in every pool; each process
trains ``--epochs`` epochs. Printed: the machine and thread pools, per engine the median epoch
time with its spread, and the ratio. JSON to ``benchmarks/results/engines.json`` (or
``--json``).

    python benchmarks/bench_engines.py                      # 49,000 images: long on a laptop CPU
    python benchmarks/bench_engines.py --num-train 5000 --epochs 2
    python benchmarks/bench_engines.py --device cuda        # the torch engine on a GPU
    python benchmarks/bench_engines.py --tiny               # smoke run (seconds)
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

import numpy as np

from cnnlab import timing

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("numpy", "torch")


def child(args: argparse.Namespace) -> dict:
    """Train ``args.epochs`` epochs on engine ``args.child`` in this fresh process."""
    engine = args.child
    if engine == "torch":
        import torch  # noqa: F401  (loaded before the thread limits, so that they cover it)
    from cnnlab.data.transforms import compose, random_crop, random_flip
    from cnnlab.experiment import TrainConfig, build_model, make_solver_options
    from cnnlab.training.solver import Solver

    kwargs = {"widths": [8, 16, 32]} if args.tiny else {}
    cfg = TrainConfig(model="resnet", epochs=args.epochs, model_kwargs=kwargs).resolved()
    rng = np.random.default_rng(0)
    n = args.num_train + args.num_val
    X = rng.standard_normal((n, 3, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, size=n)
    data = {
        "X_train": X[: args.num_train],
        "y_train": y[: args.num_train],
        "X_val": X[args.num_train :],
        "y_val": y[args.num_train :],
    }
    with timing.limit_threads(args.threads):
        model = build_model("resnet", cfg.model_kwargs, (3, 32, 32), 10, cfg.weight_decay)
        solver_class = Solver
        if engine == "torch":
            from cnnlab.torch.engine import TorchSolver

            solver_class = partial(TorchSolver, device=args.device)
        solver = solver_class(
            model,
            data,
            **make_solver_options(cfg),
            batch_size=args.batch or cfg.batch_size,
            num_epochs=args.epochs,
            num_train_samples=1000,
            augment=compose(random_crop, random_flip),
            verbose=False,
            seed=0,
        )
        solver.train()
        pools = timing.thread_pools()
    return {"epoch_s": [row["seconds"] for row in solver.metrics_history], "pools": pools}


def child_cmd(args: argparse.Namespace, engine: str) -> list[str]:
    """The command line of one timing child."""
    cmd = [sys.executable, __file__, "--child", engine, "--epochs", str(args.epochs)]
    cmd += ["--num-train", str(args.num_train), "--num-val", str(args.num_val)]
    cmd += ["--threads", str(args.threads), "--device", args.device]
    if args.batch:
        cmd += ["--batch", str(args.batch)]
    if args.tiny:
        cmd.append("--tiny")
    return cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-train", type=int, default=49000)
    parser.add_argument("--num-val", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=1, help="epochs per process")
    parser.add_argument("--rounds", type=int, default=1, help="fresh processes per engine")
    parser.add_argument("--threads", type=int, default=timing.machine()["cpus"])
    parser.add_argument("--batch", type=int, default=None, help="override the recipe's 128")
    parser.add_argument("--device", default="cpu", help="the torch engine's device")
    parser.add_argument(
        "--tiny", action="store_true", help="smoke run: widths 8/16/32, 256 images, batch 64"
    )
    parser.add_argument("--json", help="output JSON (default benchmarks/results/engines.json)")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0
    if args.tiny:
        args.num_train, args.num_val, args.batch, args.epochs = 256, 50, 64, 1

    info = timing.machine()
    runs: dict[str, list[dict]] = {e: [] for e in ENGINES}
    for r in range(args.rounds):
        for engine in ENGINES if r % 2 == 0 else ENGINES[::-1]:
            runs[engine].append(timing.run_child(child_cmd(args, engine), args.threads))
    pools = [p for engine in ENGINES for p in runs[engine][0]["pools"]]
    pools = list({json.dumps(p, sort_keys=True): p for p in pools}.values())
    print(timing.describe(info, pools))
    print(
        f"challenge ResNet, {args.num_train} training images, batch {args.batch or 128}, "
        f"{args.threads} threads, torch engine on {args.device}, {args.rounds} process(es) per "
        f"engine x {args.epochs} epoch(s)"
    )
    report: dict = {
        "command": "python benchmarks/bench_engines.py " + " ".join(argv or sys.argv[1:]),
        "machine": info,
        "pools": pools,
        "threads": args.threads,
        "device": args.device,
        "num_train": args.num_train,
        "batch": args.batch or 128,
        "engines": {},
    }
    for engine in ENGINES:
        s = timing.summarise([t for run in runs[engine] for t in run["epoch_s"]])
        report["engines"][engine] = s
        print(
            f"{engine:6} epoch median {s['median_s']:8.1f} s  IQR {s['p25_s']:.1f}-"
            f"{s['p75_s']:.1f}  min/max {s['min_s']:.1f}/{s['max_s']:.1f}  (n={s['n']})"
        )
    ratio = report["engines"]["numpy"]["median_s"] / report["engines"]["torch"]["median_s"]
    report["ratio"] = ratio
    print(f"ratio numpy / torch: {ratio:.2f}")
    warning = timing.spread_warning(report["engines"])
    if warning:
        print(warning)
    report["warning"] = warning
    default = "out/engines-tiny.json" if args.tiny else "results/engines.json"
    out = Path(args.json or ROOT / "benchmarks" / default)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"JSON: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
