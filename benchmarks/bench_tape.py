"""A training step through the tape against the explicit path (issue 12's acceptance).

Two models, each trained one step at a time (forward + backward + update, float32):

- ``three_layer``: the CS231n ThreeLayerConvNet with its defaults (32 7x7 filters, hidden 100),
  batch 50, Adam 1e-3;
- ``resnet``: the challenge ResNet, ``models.build("resnet")`` defaults, batch 128, Nesterov
  momentum 0.9 at 0.1.

Each model runs through two paths: ``explicit`` (the layers' hand-written backward passes, what
the Solver uses) and ``tape`` (the forward-only twin of the same network, sharing its arrays:
every layer an op of :mod:`cnnlab.autograd.functional`, the backward pass replayed from the tape;
built by ``forward_only`` of tests/nn/forward_only_twins.py). Before timing, the two paths are
checked to give the same loss and gradients on one batch.

Every (model, path) is timed in its own fresh process (``--rounds`` processes per path,
alternating which path goes first), all with the same thread count (OMP/OPENBLAS/MKL env and
threadpoolctl limits): ``--warmup`` steps, then ``--steps`` timed steps. Memory of one step per
path: the tracemalloc peak of one step (NumPy reports its buffers to tracemalloc) and the RSS
high-water mark (``resource.getrusage``) of the process after its steps, with its value before
the first step (the parent stays small, as Linux hands its high-water mark to its children).
Prints a table with the ratios tape / explicit and writes JSON.

    python benchmarks/bench_tape.py                       # full size (about 5 minutes quiet)
    python benchmarks/bench_tape.py --models resnet --rounds 3
    python benchmarks/bench_tape.py --tiny                # smoke run: tiny batches, 2 steps
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("explicit", "tape")
# model: (batch size, update rule, its config, timed steps by default)
CASES = {
    "three_layer": (50, "adam", {"learning_rate": 1e-3}, 50),
    "resnet": (128, "sgd_momentum", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}, 20),
}


def build(model: str, path: str):
    """The model (seed 0), or its forward-only twin for ``path='tape'``."""
    from cnnlab import models

    explicit = (
        models.ThreeLayerConvNet(seed=0)
        if model == "three_layer"
        else models.build("resnet", seed=0)
    )
    if path == "explicit":
        return explicit
    sys.path.insert(0, str(ROOT))
    from tests.nn.forward_only_twins import forward_only

    return forward_only(explicit)


def batches(model, batch: int, count: int = 4) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` seeded batches of normal images (N, *input_shape) and labels (N,)."""
    rng = np.random.default_rng(1)
    return [
        (
            rng.standard_normal((batch, *model.input_shape)).astype(np.float32),
            rng.integers(0, 10, size=batch),
        )
        for _ in range(count)
    ]


def make_step(model, rule_name: str, config: dict):
    """One training step: loss and gradients, then the update rule on every parameter."""
    from cnnlab.training import optim

    rule = optim.get_rule(rule_name)
    configs = {name: dict(config) for name in model.params}

    def step(X: np.ndarray, y: np.ndarray) -> float:
        loss, grads = model.loss(X, y)
        for name, w in model.params.items():
            w[...], configs[name] = rule(w, grads[name], configs[name])
        return float(loss)

    return step


def _rss_mb() -> float:
    """The RSS high-water mark of this process in MiB (ru_maxrss is KiB on Linux). Linux carries
    it over from the parent through fork and exec, so the parent process stays small: it
    imports no cnnlab and leaves even the agreement check to a child."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(model_name: str, path: str, batch: int, warmup: int, steps: int, threads: int) -> dict:
    """Time one path in this (fresh) process; the measurements as a dict."""
    from threadpoolctl import threadpool_info, threadpool_limits

    with threadpool_limits(threads):
        _, rule, config, _ = CASES[model_name]
        model = build(model_name, path)
        data = batches(model, batch)
        step = make_step(model, rule, config)
        rss_before = _rss_mb()
        for i in range(warmup):
            step(*data[i % len(data)])
        times = []
        for i in range(steps):
            X, y = data[i % len(data)]
            start = time.perf_counter()
            step(X, y)
            times.append(time.perf_counter() - start)
        rss_after = _rss_mb()
        tracemalloc.start()
        step(*data[0])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        pools = [
            {k: p.get(k) for k in ("user_api", "internal_api", "num_threads")}
            for p in threadpool_info()
        ]
    return {
        "times": times,
        "rss_before_mb": rss_before,
        "rss_high_water_mb": rss_after,
        "tracemalloc_peak_mb": peak / 2**20,
        "threadpools": pools,
    }


def run_child(model: str, path: str, args: argparse.Namespace, batch: int, steps: int) -> dict:
    """Run ``child`` in a fresh interpreter with the thread count fixed in its environment."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    cmd = [sys.executable, __file__, "--child", model, path, "--batch", str(batch)]
    cmd += ["--warmup", str(args.warmup), "--steps", str(steps), "--threads", str(args.threads)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench_tape: {model}/{path} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def agreement(model_name: str, batch: int) -> dict:
    """Loss and gradients of both paths on one batch: the largest relative differences."""
    explicit, tape = build(model_name, "explicit"), build(model_name, "tape")
    X, y = batches(explicit, batch, count=1)[0]
    loss, grads = explicit.loss(X, y)
    t_loss, t_grads = tape.loss(X, y)
    worst = max(
        float(np.abs(grads[k] - t_grads[k]).max() / max(np.abs(grads[k]).max(), 1e-30))
        for k in grads
    )
    return {"loss_rel": abs(loss - t_loss) / abs(loss), "grad_rel_max": worst}


def summarise(runs: list[dict]) -> dict:
    """Median and spread of the step times of every run of one path, and its memory."""
    times = np.concatenate([r["times"] for r in runs])
    p25, p50, p75 = np.percentile(times, [25, 50, 75])
    return {
        "median_s": float(p50),
        "p25_s": float(p25),
        "p75_s": float(p75),
        "min_s": float(times.min()),
        "max_s": float(times.max()),
        "steps": int(times.size),
        "tracemalloc_peak_mb": float(np.median([r["tracemalloc_peak_mb"] for r in runs])),
        "rss_high_water_mb": float(np.median([r["rss_high_water_mb"] for r in runs])),
        "rss_before_mb": float(np.median([r["rss_before_mb"] for r in runs])),
        "threadpools": runs[0]["threadpools"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--rounds", type=int, default=2, help="fresh processes per path")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default per model)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=None, help="override the model's batch")
    parser.add_argument("--tiny", action="store_true", help="smoke run: batch 4, 1 + 2 steps")
    parser.add_argument(
        "--json", help="output JSON (default benchmarks/results/tape.json; out/ when tiny)"
    )
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        model, path = args.child
        if path == "agree":
            result = agreement(model, args.batch)
        else:
            result = child(model, path, args.batch, args.warmup, args.steps, args.threads)
        print(json.dumps(result))
        return 0
    if args.tiny:
        args.batch, args.warmup, args.steps, args.rounds = 4, 1, 2, 1

    report: dict = {
        "command": "python benchmarks/bench_tape.py " + " ".join(argv or sys.argv[1:]),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "threads": args.threads,
        "models": {},
    }
    print(f"{'model':12} {'path':9} {'median s':>9} {'p25-p75 s':>15} {'tracemalloc MiB':>16}"
          f" {'RSS MiB':>9}")  # fmt: skip
    for model in args.models:
        batch_default, rule, config, steps_default = CASES[model]
        batch = args.batch or batch_default
        steps = args.steps or steps_default
        entry: dict = {"batch": batch, "rule": rule, "config": config}
        entry["agreement"] = run_child(model, "agree", args, batch, steps)
        runs: dict[str, list[dict]] = {p: [] for p in PATHS}
        for r in range(args.rounds):
            for path in PATHS if r % 2 == 0 else PATHS[::-1]:
                runs[path].append(run_child(model, path, args, batch, steps))
        for path in PATHS:
            s = entry[path] = summarise(runs[path])
            print(
                f"{model:12} {path:9} {s['median_s']:9.4f} "
                f"{s['p25_s']:7.4f}-{s['p75_s']:<7.4f} {s['tracemalloc_peak_mb']:16.1f} "
                f"{s['rss_high_water_mb']:9.1f}"
            )
        ratios = {
            "time": entry["tape"]["median_s"] / entry["explicit"]["median_s"],
            "tracemalloc_peak": entry["tape"]["tracemalloc_peak_mb"]
            / entry["explicit"]["tracemalloc_peak_mb"],
            "rss_high_water": entry["tape"]["rss_high_water_mb"]
            / entry["explicit"]["rss_high_water_mb"],
        }
        entry["ratio_tape_over_explicit"] = ratios
        print(
            f"{model:12} {'tape/expl':9} {ratios['time']:9.3f} {'':15} "
            f"{ratios['tracemalloc_peak']:16.3f} {ratios['rss_high_water']:9.3f}   "
            f"(paths agree: loss {entry['agreement']['loss_rel']:.1e}, "
            f"grads {entry['agreement']['grad_rel_max']:.1e})"
        )
        report["models"][model] = entry
    default = "out/tape-tiny.json" if args.tiny else "results/tape.json"
    out = Path(args.json or ROOT / "benchmarks" / default)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
