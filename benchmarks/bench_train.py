"""A training step, cnnlab vs PyTorch CPU, each timed alone in its own process (issue 14).

Two models, one step = forward + backward + update, on fixed random batches:

- ``three_layer``: the CS231n ThreeLayerConvNet (conv 7x7x32 - relu - pool - affine 100 - relu -
  affine 10), batch 50, Adam 1e-3;
- ``resnet``: the challenge ResNet of ``cnnlab train --model resnet`` (widths 32/64/128, one
  basic block per stage), batch 128, Nesterov momentum 0.9 at lr 0.1, weight decay 5e-4.

The PyTorch contender is ``cnnlab.torch.to_torch`` of the same network (same weights) with
``CrossEntropyLoss`` and ``torch.optim.Adam`` / ``SGD(nesterov=True, weight_decay=...)``.

Method (:mod:`cnnlab.timing`): every (model, contender) runs in a fresh process, ``--rounds``
processes each, alternating which contender goes first; all with ``--threads`` threads in every
pool (default: all cores). Each process runs ``--warmup`` untimed steps, then ``--steps`` timed
ones. Printed: CPU model and thread pools (with OpenBLAS's kernels), median step time with its
quartiles and min/max, the ratio of medians, a warning when the spread says the machine was
busy, and the memory of one step (tracemalloc peak for cnnlab, whose NumPy buffers tracemalloc
sees; RSS high-water mark minus the RSS before the first step for both). JSON to
``benchmarks/results/train.json`` (or ``--json``).

    python benchmarks/bench_train.py                        # both models, float32 (~3 min quiet)
    python benchmarks/bench_train.py --models resnet --dtype float64
    python benchmarks/bench_train.py --profile 5            # + cProfile of 5 cnnlab steps
    python benchmarks/bench_train.py --tiny                 # smoke run
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from cnnlab import timing

ROOT = Path(__file__).resolve().parents[1]
CONTENDERS = ("cnnlab", "torch")
# model: (batch, rule, rule config, weight decay, timed steps by default)
CASES = {
    "three_layer": (50, "adam", {"learning_rate": 1e-3}, 0.0, 40),
    "resnet": (
        128,
        "sgd_momentum",
        {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True},
        5e-4,
        12,
    ),
}


def build(model_name: str, dtype: type):
    """The cnnlab model (seed 0)."""
    from cnnlab import models

    reg = CASES[model_name][3]
    if model_name == "three_layer":
        return models.ThreeLayerConvNet(hidden_dim=100, reg=reg, dtype=dtype, seed=0)
    return models.build("resnet", widths=(32, 64, 128), reg=reg, dtype=dtype, seed=0)


def batches(shape: tuple, batch: int, dtype: type, count: int = 4) -> list[tuple]:
    """``count`` seeded batches of normal images (N, *shape) and labels (N,)."""
    rng = np.random.default_rng(1)
    return [
        (rng.standard_normal((batch, *shape)).astype(dtype), rng.integers(0, 10, size=batch))
        for _ in range(count)
    ]


def cnnlab_step(model, rule_name: str, config: dict):
    """One cnnlab step: loss and gradients, then the update rule on every parameter."""
    from cnnlab.training import optim

    rule = optim.get_rule(rule_name)
    configs = {name: dict(config) for name in model.params}

    def step(X: np.ndarray, y: np.ndarray) -> None:
        _, grads = model.loss(X, y)
        for name, w in model.params.items():
            w[...], configs[name] = rule(w, grads[name], configs[name])

    return step


def torch_step(model, rule_name: str, config: dict, weight_decay: float):
    """The same step in PyTorch, on the ``to_torch`` twin of the model's network."""
    import torch

    from cnnlab.torch import to_torch

    net = to_torch(model.net).train()
    if rule_name == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=config["learning_rate"])
    else:
        opt = torch.optim.SGD(
            net.parameters(),
            lr=config["learning_rate"],
            momentum=config["momentum"],
            nesterov=config["nesterov"],
            weight_decay=weight_decay,
        )
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(X: np.ndarray, y: np.ndarray) -> None:
        opt.zero_grad(set_to_none=True)
        loss_fn(net(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        opt.step()

    return step


def _rss_mb() -> float:
    """RSS high-water mark of this process, MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args: argparse.Namespace) -> dict:
    """Time one contender on one model in this fresh process."""
    model_name, contender = args.child
    dtype = np.dtype(args.dtype).type
    if contender == "torch":
        import torch  # loaded before the thread limits, so that they cover its pool

        torch.set_default_dtype(torch.float64 if dtype is np.float64 else torch.float32)
    batch, rule, config, weight_decay, _ = CASES[model_name]
    batch = args.batch or batch
    with timing.limit_threads(args.threads):
        model = build(model_name, dtype)
        data = batches(model.input_shape, batch, dtype)
        if contender == "cnnlab":
            from cnnlab.training.allocator import keep_freed_memory

            keep_freed_memory()  # as Solver.train does
            step = cnnlab_step(model, rule, config)
        else:
            step = torch_step(model, rule, config, weight_decay)
        rss_before = _rss_mb()
        for i in range(args.warmup):
            step(*data[i % len(data)])
        times = []
        for i in range(args.steps):
            start = time.perf_counter()
            step(*data[i % len(data)])
            times.append(time.perf_counter() - start)
        result = {"times": times, "rss_step_mb": _rss_mb() - rss_before}
        if contender == "cnnlab":
            tracemalloc.start()
            step(*data[0])
            result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        if args.profile:
            result["profile"] = profile(step, data, args.profile)
        result["pools"] = timing.thread_pools()
    return result


def profile(step, data: list, steps: int) -> str:
    """cProfile of ``steps`` steps: the top functions by own time, as text."""
    prof = cProfile.Profile()
    prof.enable()
    for i in range(steps):
        step(*data[i % len(data)])
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(20)
    return out.getvalue()


def child_cmd(args: argparse.Namespace, model: str, contender: str, steps: int) -> list[str]:
    """The command line of one timing child."""
    cmd = [sys.executable, __file__, "--child", model, contender, "--dtype", args.dtype]
    cmd += ["--warmup", str(args.warmup), "--steps", str(steps), "--threads", str(args.threads)]
    if args.batch:
        cmd += ["--batch", str(args.batch)]
    if args.profile and contender == "cnnlab":
        cmd += ["--profile", str(args.profile)]
    return cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--rounds", type=int, default=2, help="fresh processes per contender")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default per model)")
    parser.add_argument("--threads", type=int, default=timing.machine()["cpus"])
    parser.add_argument("--batch", type=int, default=None, help="override the model's batch")
    parser.add_argument("--profile", type=int, default=0, metavar="STEPS")
    parser.add_argument("--tiny", action="store_true", help="smoke run: batch 4, 1 + 2 steps")
    parser.add_argument("--json", help="output JSON (default benchmarks/results/train.json)")
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "CONTENDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0
    if args.tiny:
        args.batch, args.warmup, args.steps, args.rounds = 4, 1, 2, 1

    info = timing.machine()
    report: dict = {
        "command": "python benchmarks/bench_train.py " + " ".join(argv or sys.argv[1:]),
        "machine": info,
        "threads": args.threads,
        "dtype": args.dtype,
        "models": {},
    }
    described = False
    for model in args.models:
        batch, rule, config, weight_decay, default_steps = CASES[model]
        runs: dict[str, list[dict]] = {c: [] for c in CONTENDERS}
        for r in range(args.rounds):
            for contender in CONTENDERS if r % 2 == 0 else CONTENDERS[::-1]:
                cmd = child_cmd(args, model, contender, args.steps or default_steps)
                runs[contender].append(timing.run_child(cmd, args.threads))
        if not described:
            pools = runs["cnnlab"][0]["pools"] + runs["torch"][0]["pools"]
            unique = list({json.dumps(p, sort_keys=True): p for p in pools}.values())
            print(timing.describe(info, unique))
            print(f"{args.dtype}, {args.threads} threads, {args.rounds} processes per contender")
            report["pools"] = unique
            described = True
        entry: dict = {"batch": args.batch or batch, "rule": rule, "config": config}
        entry["weight_decay"] = weight_decay
        for contender in CONTENDERS:
            s = timing.summarise([t for run in runs[contender] for t in run["times"]])
            s["rss_step_mb"] = float(np.median([run["rss_step_mb"] for run in runs[contender]]))
            if contender == "cnnlab":
                s["tracemalloc_peak_mb"] = runs[contender][0]["tracemalloc_peak_mb"]
                if args.profile:
                    print(runs[contender][0]["profile"])
            entry[contender] = s
            print(
                f"{model:12} {contender:7} median {1e3 * s['median_s']:8.1f} ms  "
                f"IQR {1e3 * s['p25_s']:.1f}-{1e3 * s['p75_s']:.1f}  "
                f"min/max {1e3 * s['min_s']:.1f}/{1e3 * s['max_s']:.1f}  (n={s['n']})  "
                f"RSS +{s['rss_step_mb']:.0f} MiB"
                + (
                    f", tracemalloc peak {s['tracemalloc_peak_mb']:.0f} MiB"
                    if "tracemalloc_peak_mb" in s
                    else ""
                )
            )
        entry["ratio"] = entry["cnnlab"]["median_s"] / entry["torch"]["median_s"]
        print(f"{model:12} ratio cnnlab / torch: {entry['ratio']:.2f}")
        warning = timing.spread_warning({c: entry[c] for c in CONTENDERS})
        if warning:
            print(warning)
        entry["warning"] = warning
        report["models"][model] = entry
    default = "out/train-tiny.json" if args.tiny else "results/train.json"
    out = Path(args.json or ROOT / "benchmarks" / default)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
