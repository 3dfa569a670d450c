"""Time the conv and pool ops: naive vs fast (cnnlab) vs PyTorch CPU, side by side.

Run: ``cnnlab bench [--quick] [--reps N] [--case NAME ...] [--dtype ...] [--json PATH]`` (or
``python benchmarks/bench_ops.py``, which writes ``benchmarks/out/ops.json`` by default).

Each contender (naive, fast, PyTorch) runs alone in its own fresh process, with the same number
of threads in every thread pool (``--threads``, default all cores); see :mod:`cnnlab.timing` for
why (OpenBLAS's spinning workers slow down whatever runs next in the same process). Each (case,
pass) is one block of repetitions after 3 warm-up calls; the table gives medians, the ratios
fast/torch and naive/fast and achieved GFLOPS for the convolutions, and a warning follows when
the repetitions spread more than :data:`cnnlab.timing.BUSY_SPREAD` (a busy machine). The naive
convolution is minutes-slow on the bigger layers, so it is timed on the seed's case only, with
one repetition; the naive max pool only on the seed's 100x3x32x32 case. Also printed: the CPU
model, the thread pools with OpenBLAS's kernels, and the machine's float32 GEMM rate
(np.matmul) on a large square product and on the im2col-forward shape of the CIFAR-scale layer.

PyTorch is optional: without it the torch column shows '-' and the ratios to torch are left out.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from cnnlab import timing
from cnnlab.functional import conv, pool
from cnnlab.runs import write_json

NO_TORCH = "PyTorch is not installed: no torch column (pip install torch to compare)."
NAIVE_CONV_NOTE = "naive conv: seed case only, 1 repetition of fwd and of fwd+bwd."
DTYPES = {"float32": (np.float32,), "float64": (np.float64,), "both": (np.float32, np.float64)}
DEFAULT_REPS, QUICK_REPS = 15, 3


@dataclass(frozen=True)
class ConvCase:
    """A convolution: input (N, C, H, W), weights (F, C, HH, WW), stride, pad."""

    x_shape: tuple[int, int, int, int]
    w_shape: tuple[int, int, int, int]
    stride: int
    pad: int
    naive: bool  # also time the naive loops


@dataclass(frozen=True)
class PoolCase:
    """A 2x2 max pool with stride 2 on input (N, C, H, W)."""

    x_shape: tuple[int, int, int, int]
    naive: bool  # also time the naive loops


CASES: dict[str, ConvCase | PoolCase] = {
    "seed conv 100x3x31x31 w25x3x3x3 s2p1": ConvCase((100, 3, 31, 31), (25, 3, 3, 3), 2, 1, True),
    "cifar conv 64x64x32x32 w64x64x3x3 s1p1": ConvCase(
        (64, 64, 32, 32), (64, 64, 3, 3), 1, 1, False
    ),
    "first layer 50x3x32x32 w32x3x7x7 s1p3": ConvCase((50, 3, 32, 32), (32, 3, 7, 7), 1, 3, False),
    "maxpool 2x2/2 100x3x32x32": PoolCase((100, 3, 32, 32), True),
    "maxpool 2x2/2 64x64x32x32": PoolCase((64, 64, 32, 32), False),
}


def select_cases(patterns: Sequence[str] | None) -> list[str]:
    """Names of the cases containing any of ``patterns`` (case-insensitive), in table order.

    No patterns selects every case; a pattern that matches no case raises ValueError.
    """
    if not patterns:
        return list(CASES)
    for p in patterns:
        if not any(p.lower() in name.lower() for name in CASES):
            raise ValueError(
                f"no benchmark case matches {p!r}; the cases are: " + ", ".join(map(repr, CASES))
            )
    return [name for name in CASES if any(p.lower() in name.lower() for p in patterns)]


def load_torch() -> ModuleType | None:
    """The ``torch`` module, or None when it cannot be imported."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        return None


def block(fn: Callable[[], object], reps: int, warmup: int = 3) -> list[float]:
    """Seconds of ``reps`` calls of ``fn`` in a row, after ``warmup`` untimed calls.

    Three warm-up calls: with one, the first case of a new size ran 2-4x slow (the C allocator
    was still returning big blocks to the OS: page faults).
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def gemm_rates(reps: int) -> dict[str, float]:
    """float32 np.matmul GFLOPS (median) on a 2048^3 product and on the CIFAR im2col shape."""
    rng = np.random.default_rng(0)
    sq = rng.standard_normal((2048, 2048), dtype=np.float32)
    w = rng.standard_normal((64, 576), dtype=np.float32)
    cols = rng.standard_normal((576, 64 * 32 * 32), dtype=np.float32)
    t_sq = float(np.median(block(lambda: sq @ sq, reps)))
    t_cols = float(np.median(block(lambda: w @ cols, reps)))
    return {
        "square 2048^3": 2 * 2048**3 / t_sq / 1e9,
        "im2col fwd (64x576)@(576x65536)": 2 * 64 * 576 * 65536 / t_cols / 1e9,
    }


def _conv_data(case: ConvCase, dtype: type) -> tuple:
    """Seeded x, w, b, conv_param and dout of one convolution case."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(case.x_shape).astype(dtype)
    w = rng.standard_normal(case.w_shape).astype(dtype)
    b = rng.standard_normal(case.w_shape[0]).astype(dtype)
    param = {"stride": case.stride, "pad": case.pad}
    out, _ = conv.conv_forward(x, w, b, param)
    return x, w, b, param, rng.standard_normal(out.shape).astype(dtype)


def conv_flops(case: ConvCase) -> int:
    """Multiply-adds x 2 of one forward pass of the convolution case."""
    n, _, h, w = case.x_shape
    kh, kw = case.w_shape[2:]
    ho = (h + 2 * case.pad - kh) // case.stride + 1
    wo = (w + 2 * case.pad - kw) // case.stride + 1
    return 2 * n * case.w_shape[0] * ho * wo * int(np.prod(case.w_shape[1:]))


def conv_calls(case: ConvCase, dtype: type, contender: str, torch: ModuleType | None) -> tuple:
    """(forward, forward + backward) callables of one contender on a convolution case."""
    x, w, b, param, dout = _conv_data(case, dtype)
    if contender == "torch":
        conv2d = torch.nn.functional.conv2d
        xt, wt, bt, dt = (torch.from_numpy(a) for a in (x, w, b, dout))
        xg, wg, bg = (t.clone().requires_grad_() for t in (xt, wt, bt))

        def torch_fwd() -> None:
            with torch.no_grad():
                conv2d(xt, wt, bt, stride=case.stride, padding=case.pad)

        return torch_fwd, lambda: conv2d(xg, wg, bg, stride=case.stride, padding=case.pad).backward(
            dt
        )
    forward, backward = {
        "fast": (conv.conv_forward, conv.conv_backward),
        "naive": (conv.conv_forward_naive, conv.conv_backward_naive),
    }[contender]
    return (
        lambda: forward(x, w, b, param),
        lambda: backward(dout, forward(x, w, b, param)[1]),
    )


def pool_calls(case: PoolCase, dtype: type, contender: str, torch: ModuleType | None) -> tuple:
    """(forward, forward + backward) callables of one contender on a 2x2/2 max-pool case."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(case.x_shape).astype(dtype)
    param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, _ = pool.max_pool_forward(x, param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    if contender == "torch":
        max_pool2d = torch.nn.functional.max_pool2d
        xt, dt = torch.from_numpy(x), torch.from_numpy(dout)
        xg = xt.clone().requires_grad_()

        def torch_fwd() -> None:
            with torch.no_grad():
                max_pool2d(xt, 2, 2)

        return torch_fwd, lambda: max_pool2d(xg, 2, 2).backward(dt)
    forward, backward = {
        "fast": (pool.max_pool_forward, pool.max_pool_backward),
        "naive": (pool.max_pool_forward_naive, pool.max_pool_backward_naive),
    }[contender]
    return lambda: forward(x, param), lambda: backward(dout, forward(x, param)[1])


def naive_cases(cases: Sequence[str]) -> list[str]:
    """The cases the naive loops are timed on (the small ones marked ``naive``)."""
    return [name for name in cases if CASES[name].naive]


def time_contender(
    contender: str, cases: Sequence[str], dtype: type, reps: int
) -> dict[str, dict[str, list[float]]]:
    """Per case, the seconds of every fwd and fwd+bwd repetition of one contender.

    Runs in the contender's own process (:func:`child_main`); each (case, pass) is one block of
    repetitions. The naive conv gets one repetition of fwd and of bwd (fwd+bwd is their sum),
    the naive max pool ``reps // 5``.
    """
    torch = load_torch() if contender == "torch" else None
    results = {}
    for name in naive_cases(cases) if contender == "naive" else cases:
        case = CASES[name]
        calls = conv_calls if isinstance(case, ConvCase) else pool_calls
        fwd, both = calls(case, dtype, contender, torch)
        if contender == "naive":  # minutes-slow: few repetitions, no warm-up
            n = 1 if isinstance(case, ConvCase) else max(1, reps // 5)
            results[name] = {"fwd": block(fwd, n, 0), "fwd+bwd": block(both, n, 0)}
        else:
            results[name] = {"fwd": block(fwd, reps), "fwd+bwd": block(both, reps)}
    return results


def _row(case: str, dtype: type, mode: str, times: dict[str, list[float]], flops: float) -> dict:
    """One table row: median ms per contender with its spread, the ratios, GFLOPS if ``flops``."""
    stats = {k: timing.summarise(v) for k, v in times.items()}
    t = {k: s["median_s"] for k, s in stats.items()}
    row = {
        "case": case,
        "dtype": np.dtype(dtype).name,
        "mode": mode,
        "ms": {k: v * 1e3 for k, v in t.items()},
        "spread": {k: timing.spread(s) for k, s in stats.items()},
        "timings_s": stats,
        "fast/torch": t["fast"] / t["torch"] if "torch" in t else None,
        "naive/fast": t["naive"] / t["fast"] if "naive" in t else None,
    }
    if flops:
        row["gflops"] = {k: flops / v / 1e9 for k, v in t.items()}
    return row


def _cell(value: float | None, width: int, fmt: str) -> str:
    """``value`` formatted right-aligned in ``width`` characters, or '-' when it is None."""
    return f"{'-':>{width}s}" if value is None else f"{value:{width}{fmt}}"


def format_table(rows: list[dict]) -> str:
    """The rows as a fixed-width text table ('-' where a contender was not timed)."""
    head = (
        f"{'case':42s} {'dtype':7s} {'mode':7s} {'naive ms':>9s} {'fast ms':>8s} "
        f"{'torch ms':>8s} {'fast/torch':>10s} {'naive/fast':>10s} {'GF fast':>7s} {'GF torch':>8s}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        ms, gf = r["ms"], r.get("gflops", {})
        lines.append(
            " ".join(
                [
                    f"{r['case']:42s} {r['dtype']:7s} {r['mode']:7s}",
                    _cell(ms.get("naive"), 9, ".1f"),
                    _cell(ms["fast"], 8, ".2f"),
                    _cell(ms.get("torch"), 8, ".2f"),
                    _cell(r["fast/torch"], 10, ".2f"),
                    _cell(r["naive/fast"], 10, ".0f"),
                    _cell(gf.get("fast"), 7, ".1f"),
                    _cell(gf.get("torch"), 8, ".1f"),
                ]
            )
        )
    return "\n".join(lines)


def _child_cmd(contender: str, cases: Sequence[str], dtype: type, reps: int) -> list[str]:
    """Command line of the timing child for one contender (:func:`child_main`)."""
    cmd = [sys.executable, "-m", "cnnlab.benchmark", contender, np.dtype(dtype).name, str(reps)]
    return cmd + list(cases)


def run(
    cases: Sequence[str],
    dtypes: Sequence[type],
    reps: int,
    json_path: Path | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Time ``cases`` (names from :data:`CASES`) in each dtype, print the table, return the results.

    Every contender (naive, fast, torch) and the GEMM reference run in their own process with
    ``threads`` threads in every pool (default: all cores); see :mod:`cnnlab.timing`. The
    results (machine, thread pools, GEMM rates, rows) are also written to ``json_path``.
    """
    if reps < 1:
        raise ValueError(f"benchmark run: reps must be at least 1, got {reps}")
    threads = threads or os.cpu_count() or 1
    torch = load_torch()
    contenders = ["fast"] + (["torch"] if torch is not None else [])
    contenders += ["naive"] if naive_cases(cases) else []
    info = timing.machine()
    gemm = timing.run_child(_child_cmd("gemm", [], np.float32, reps), threads)
    print(timing.describe(info, gemm["pools"]))
    if torch is None:
        print(f"{NO_TORCH} numpy {np.__version__}")
    else:
        print(f"torch {torch.__version__}; numpy {np.__version__}; {threads} threads everywhere")
    for k, v in gemm["rates"].items():
        print(f"np.matmul float32 {k}: {v:.1f} GFLOPS")
    print("each contender timed alone in its own process (median of the repetitions)")

    rows: list[dict] = []
    for dtype in dtypes:
        times = {
            c: timing.run_child(_child_cmd(c, cases, dtype, reps), threads)["times"]
            for c in contenders
        }
        for name in cases:
            case = CASES[name]
            flops = conv_flops(case) if isinstance(case, ConvCase) else 0
            for mode, mode_flops in (("fwd", flops), ("fwd+bwd", 3 * flops)):
                per = {c: times[c][name][mode] for c in contenders if name in times[c]}
                rows.append(_row(name, dtype, mode, per, mode_flops))
    print(format_table(rows))
    if any(isinstance(CASES[name], ConvCase) and CASES[name].naive for name in cases):
        print(NAIVE_CONV_NOTE)
    spreads = {
        f"{r['case']} {r['dtype']} {r['mode']} {c}": r["timings_s"][c]
        for r in rows
        for c in r["timings_s"]
        if c != "naive" and r["timings_s"][c]["n"] >= 3
    }
    warning = timing.spread_warning(spreads)
    if warning:
        print(warning)
    results = {
        "machine": info,
        "cpus": info["cpus"],
        "torch": torch.__version__ if torch is not None else None,
        "torch_threads": threads if torch is not None else None,
        "threads": threads,
        "reps": reps,
        "gemm_gflops": gemm["rates"],
        "pools": gemm["pools"],
        "warning": warning,
        "rows": rows,
    }
    if json_path is not None:
        write_json(json_path, results)
        print(f"wrote {json_path}")
    return results


def child_main(argv: Sequence[str]) -> int:
    """Timing child: ``CONTENDER DTYPE REPS [CASE ...]``; prints one JSON line.

    ``gemm`` as the contender measures :func:`gemm_rates` and reports the thread pools.
    """
    contender, dtype, reps, *cases = argv
    if contender in ("torch", "gemm"):
        load_torch()  # loaded first, so that the thread limits cover (and report) its pool
    with timing.limit_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))):
        if contender == "gemm":
            conv.conv_forward(*(np.ones(s, np.float32) for s in ((1, 8, 3, 3), (1, 8, 3, 3))))
            result = {"rates": gemm_rates(int(reps)), "pools": timing.thread_pools()}
        else:
            result = {"times": time_contender(contender, cases, np.dtype(dtype).type, int(reps))}
    print(json.dumps(result))
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser, default_json: Path | None = None) -> None:
    """Add the benchmark's options (shared by ``cnnlab bench`` and benchmarks/bench_ops.py)."""
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_REPS} repetitions (smoke run)"
    )
    parser.add_argument(
        "--reps",
        type=_positive_int,
        metavar="N",
        help=f"timed repetitions per contender (default {DEFAULT_REPS}; overrides --quick)",
    )
    parser.add_argument(
        "--case",
        action="append",
        metavar="NAME",
        help="time only the cases whose name contains NAME (repeatable; default all): "
        + "; ".join(CASES),
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        metavar="N",
        help="threads in every pool, the same for each contender (default: all cores)",
    )
    parser.add_argument(
        "--dtype", choices=tuple(DTYPES), default="both", help="dtype(s) to time (default both)"
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="PATH",
        default=default_json,
        help=f"write the results to this JSON file (default {default_json or 'none'})",
    )


def run_args(args: argparse.Namespace) -> int:
    """Run the benchmark with the options of :func:`add_arguments`; return the exit code."""
    reps = args.reps or (QUICK_REPS if args.quick else DEFAULT_REPS)
    run(select_cases(args.case), DTYPES[args.dtype], reps, args.json, args.threads)
    return 0


def main(argv: Sequence[str] | None = None, default_json: Path | None = None) -> int:
    """Command-line entry of the benchmark script (JSON to ``default_json`` unless --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, default_json)
    args = parser.parse_args(argv)
    try:
        return run_args(args)
    except ValueError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    raise SystemExit(child_main(sys.argv[1:]))
