"""A training step through the tape against the explicit path (issue 12's acceptance).

Two models, each trained one step at a time (forward + backward + update, float32):

- ``three_layer``: the CS231n ThreeLayerConvNet with its defaults (32 7x7 filters, hidden 100),
  batch 50, Adam 1e-3;
- ``resnet``: the challenge ResNet, ``models.build("resnet")`` defaults (widths 16/32/64, one
  block per stage; ``--widths 32 64 128`` gives the one ``cnnlab train --model resnet`` and
  bench_train.py use), batch 128, Nesterov momentum 0.9 at 0.1.

Each model runs through two paths: ``explicit`` (the layers' hand-written backward passes, what
the Solver uses) and ``tape`` (the forward-only twin of the same network, sharing its arrays:
every layer an op of :mod:`cnnlab.autograd.functional`, the backward pass replayed from the tape;
built by ``forward_only`` of tests/nn/forward_only_twins.py). A first child process checks that
the two paths give the same loss and gradients on one batch.

Method (:mod:`cnnlab.timing`): every (model, path) runs in its own fresh process, ``--rounds``
processes per path, alternating which path goes first, all with ``--threads`` threads in every
pool (default: all cores); ``--warmup`` untimed steps, then ``--steps`` timed ones. Printed: the
CPU and thread pools, median step time with quartiles and min/max, the ratios tape / explicit,
a warning when the spread says the machine was busy, and the memory of one step: the
tracemalloc peak of one step (NumPy reports its buffers to tracemalloc) and the RSS high-water
mark (``resource.getrusage``) after the steps, with its rise during them. Linux hands a
parent's high-water mark down to its children, so the parent process does no model work.
JSON to ``benchmarks/results/tape.json`` (or ``--json``).

    python benchmarks/bench_tape.py                       # full size (about 5 minutes quiet)
    python benchmarks/bench_tape.py --models resnet --rounds 3 --widths 32 64 128
    python benchmarks/bench_tape.py --tiny                # smoke run: batch 4, 1 + 2 steps
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from bench_train import batches, cnnlab_step
from cnnlab import timing

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("explicit", "tape")
# model: (batch size, update rule, its config, timed steps by default)
CASES = {
    "three_layer": (50, "adam", {"learning_rate": 1e-3}, 50),
    "resnet": (128, "sgd_momentum", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}, 20),
}


def build(model: str, path: str, widths: tuple[int, ...]):
    """The model (seed 0; the ResNet with ``widths``), or its forward-only twin for 'tape'."""
    from cnnlab import models

    if model == "three_layer":
        explicit = models.ThreeLayerConvNet(seed=0)
    else:
        explicit = models.build("resnet", widths=tuple(widths), seed=0)
    if path == "explicit":
        return explicit
    sys.path.insert(0, str(ROOT))
    from tests.nn.forward_only_twins import forward_only

    return forward_only(explicit)


def _rss_mb() -> float:
    """The RSS high-water mark of this process in MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args: argparse.Namespace) -> dict:
    """Time one path of one model in this (fresh) process; the measurements as a dict."""
    model_name, path = args.child
    _, rule, config, _ = CASES[model_name]
    with timing.limit_threads(args.threads):
        model = build(model_name, path, args.widths)
        data = batches(model.input_shape, args.batch, np.float32)
        step = cnnlab_step(model, rule, config)
        rss_before = _rss_mb()
        for i in range(args.warmup):
            step(*data[i % len(data)])
        times = []
        for i in range(args.steps):
            X, y = data[i % len(data)]
            start = time.perf_counter()
            step(X, y)
            times.append(time.perf_counter() - start)
        rss_after = _rss_mb()
        tracemalloc.start()
        step(*data[0])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        pools = timing.thread_pools()
    return {
        "times": times,
        "rss_before_mb": rss_before,
        "rss_high_water_mb": rss_after,
        "tracemalloc_peak_mb": peak / 2**20,
        "pools": pools,
    }


def child_cmd(args: argparse.Namespace, model: str, path: str, batch: int, steps: int) -> list:
    """The command line of one child (``path`` 'explicit', 'tape' or 'agree')."""
    cmd = [sys.executable, __file__, "--child", model, path, "--batch", str(batch)]
    cmd += ["--warmup", str(args.warmup), "--steps", str(steps), "--threads", str(args.threads)]
    return [*cmd, "--widths", *map(str, args.widths)]


def agreement(model_name: str, batch: int, widths: tuple[int, ...]) -> dict:
    """Loss and gradients of both paths on one batch: the largest relative differences."""
    explicit, tape = build(model_name, "explicit", widths), build(model_name, "tape", widths)
    X, y = batches(explicit.input_shape, batch, np.float32, count=1)[0]
    loss, grads = explicit.loss(X, y)
    t_loss, t_grads = tape.loss(X, y)
    worst = max(
        float(np.abs(grads[k] - t_grads[k]).max() / max(np.abs(grads[k]).max(), 1e-30))
        for k in grads
    )
    return {"loss_rel": abs(loss - t_loss) / abs(loss), "grad_rel_max": worst}


def summarise(runs: list[dict]) -> dict:
    """Step times of every run of one path (median, quartiles, min, max) and its memory:
    tracemalloc peak of one step, RSS high-water mark and its rise during the steps."""
    s = timing.summarise([t for run in runs for t in run["times"]])
    for key in ("tracemalloc_peak_mb", "rss_high_water_mb", "rss_before_mb"):
        s[key] = float(np.median([run[key] for run in runs]))
    s["rss_step_mb"] = float(np.median([r["rss_high_water_mb"] - r["rss_before_mb"] for r in runs]))
    return s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--rounds", type=int, default=2, help="fresh processes per path")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default per model)")
    parser.add_argument("--threads", type=int, default=timing.machine()["cpus"])
    parser.add_argument("--batch", type=int, default=None, help="override the model's batch")
    parser.add_argument(
        "--widths", type=int, nargs="+", default=[16, 32, 64], help="the ResNet's stage widths"
    )
    parser.add_argument("--tiny", action="store_true", help="smoke run: batch 4, 1 + 2 steps")
    parser.add_argument(
        "--json", help="output JSON (default benchmarks/results/tape.json; out/ when tiny)"
    )
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        if args.child[1] == "agree":
            result = agreement(args.child[0], args.batch, args.widths)
        else:
            result = child(args)
        print(json.dumps(result))
        return 0
    if args.tiny:
        args.batch, args.warmup, args.steps, args.rounds = 4, 1, 2, 1

    info = timing.machine()
    report: dict = {
        "command": "python benchmarks/bench_tape.py " + " ".join(argv or sys.argv[1:]),
        "machine": info,
        "threads": args.threads,
        "resnet_widths": args.widths,
        "models": {},
    }
    described = False
    for model in args.models:
        batch_default, rule, config, steps_default = CASES[model]
        batch, steps = args.batch or batch_default, args.steps or steps_default
        entry: dict = {"batch": batch, "rule": rule, "config": config}
        agree = timing.run_child(child_cmd(args, model, "agree", batch, steps), args.threads)
        entry["agreement"] = agree
        runs: dict[str, list[dict]] = {p: [] for p in PATHS}
        for r in range(args.rounds):
            for path in PATHS if r % 2 == 0 else PATHS[::-1]:
                cmd = child_cmd(args, model, path, batch, steps)
                runs[path].append(timing.run_child(cmd, args.threads))
        if not described:
            report["pools"] = runs["explicit"][0]["pools"]
            print(timing.describe(info, report["pools"]))
            print(f"{args.threads} threads, {args.rounds} processes per path")
            described = True
        for path in PATHS:
            s = entry[path] = summarise(runs[path])
            print(
                f"{model:12} {path:8} median {1e3 * s['median_s']:8.1f} ms  "
                f"IQR {1e3 * s['p25_s']:.1f}-{1e3 * s['p75_s']:.1f}  "
                f"min/max {1e3 * s['min_s']:.1f}/{1e3 * s['max_s']:.1f}  (n={s['n']})  "
                f"tracemalloc peak {s['tracemalloc_peak_mb']:.1f} MiB  "
                f"RSS {s['rss_high_water_mb']:.0f} MiB (+{s['rss_step_mb']:.0f} in the steps)"
            )
        tape, explicit = entry["tape"], entry["explicit"]
        ratios = {
            key: tape[key] / explicit[key] if explicit[key] else None
            for key in ("median_s", "tracemalloc_peak_mb", "rss_high_water_mb", "rss_step_mb")
        }
        entry["ratio_tape_over_explicit"] = ratios
        print(
            f"{model:12} tape / explicit: time {ratios['median_s']:.3f}, tracemalloc peak "
            f"{ratios['tracemalloc_peak_mb']:.3f}, RSS high-water "
            f"{ratios['rss_high_water_mb']:.3f}  (paths agree: loss {agree['loss_rel']:.1e}, "
            f"gradients {agree['grad_rel_max']:.1e})"
        )
        warning = timing.spread_warning({p: entry[p] for p in PATHS})
        if warning:
            print(warning)
        entry["warning"] = warning
        report["models"][model] = entry
    default = "out/tape-tiny.json" if args.tiny else "results/tape.json"
    out = Path(args.json or ROOT / "benchmarks" / default)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
