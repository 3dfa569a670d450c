"""Time the conv and pool ops: naive vs fast (cnnlab) vs PyTorch CPU, side by side.

Run: ``cnnlab bench [--quick] [--reps N] [--case NAME ...] [--dtype ...] [--json PATH]`` (or
``python benchmarks/bench_ops.py``, which writes ``benchmarks/out/ops.json`` by default).

All contenders of one case run in one process, repetitions interleaved round-robin (so background
load hits each of them alike), after a warm-up; the table gives medians and the ratios
fast/torch and naive/fast, plus achieved GFLOPS for the convolutions. The naive convolution is
minutes-slow on the bigger layers, so it is timed on the seed's case only, with one repetition
(forward and backward timed separately, fwd+bwd is their sum); the naive max pool only on the
seed's 100x3x32x32 case. PyTorch keeps its default thread count. Also printed for reference: the
machine's float32 GEMM rate (np.matmul) on a large square product and on the im2col-forward shape
of the CIFAR-scale layer.

PyTorch is optional: without it the torch column shows '-' and the ratios to torch are left out.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info

from cnnlab.functional import conv, pool
from cnnlab.runs import write_json

NO_TORCH = "PyTorch is not installed: no torch column (pip install torch to compare)."
NAIVE_CONV_NOTE = "naive conv: seed case only, 1 repetition each of fwd and bwd (fwd+bwd = sum)."
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


def interleaved(contenders: dict[str, Callable[[], object]], reps: int, warmup: int = 3) -> dict:
    """Median seconds of each contender, repetitions interleaved round-robin.

    Three warm-up rounds: with one, the first case of a new size ran 2-4x slow for every
    contender (the C allocator was still returning big blocks to the OS: page faults).
    """
    for _ in range(warmup):
        for fn in contenders.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(reps):
        for name, fn in contenders.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(ts)) for name, ts in times.items()}


def once(fn: Callable[[], object]) -> float:
    """Seconds of one call."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def gemm_rates(reps: int) -> dict[str, float]:
    """float32 np.matmul GFLOPS on a 2048^3 product and on the CIFAR im2col-forward shape."""
    rng = np.random.default_rng(0)
    sq = rng.standard_normal((2048, 2048), dtype=np.float32)
    w = rng.standard_normal((64, 576), dtype=np.float32)
    cols = rng.standard_normal((576, 64 * 32 * 32), dtype=np.float32)
    t = interleaved({"square": lambda: sq @ sq, "im2col": lambda: w @ cols}, reps)
    return {
        "square 2048^3": 2 * 2048**3 / t["square"] / 1e9,
        "im2col fwd (64x576)@(576x65536)": 2 * 64 * 576 * 65536 / t["im2col"] / 1e9,
    }


def bench_conv(
    name: str, case: ConvCase, dtype: type, reps: int, torch: ModuleType | None
) -> list[dict]:
    """Rows (fwd, fwd+bwd) for one convolution case."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(case.x_shape).astype(dtype)
    w = rng.standard_normal(case.w_shape).astype(dtype)
    b = rng.standard_normal(case.w_shape[0]).astype(dtype)
    param = {"stride": case.stride, "pad": case.pad}
    out, _ = conv.conv_forward(x, w, b, param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    n, f, ho, wo = out.shape
    flops = 2 * n * f * ho * wo * int(np.prod(case.w_shape[1:]))

    fwd: dict[str, Callable[[], object]] = {"fast": lambda: conv.conv_forward(x, w, b, param)}
    fb: dict[str, Callable[[], object]] = {
        "fast": lambda: conv.conv_backward(dout, conv.conv_forward(x, w, b, param)[1])
    }
    if torch is not None:
        conv2d = torch.nn.functional.conv2d
        xt, wt, bt, dt = (torch.from_numpy(a) for a in (x, w, b, dout))
        xg, wg, bg = (t.clone().requires_grad_() for t in (xt, wt, bt))

        def torch_fwd() -> None:
            with torch.no_grad():
                conv2d(xt, wt, bt, stride=case.stride, padding=case.pad)

        fwd["torch"] = torch_fwd
        fb["torch"] = lambda: conv2d(xg, wg, bg, stride=case.stride, padding=case.pad).backward(dt)

    t_fwd, t_fb = interleaved(fwd, reps), interleaved(fb, reps)
    if case.naive:
        t_fwd["naive"] = once(lambda: conv.conv_forward_naive(x, w, b, param))
        cache = conv.conv_forward_naive(x, w, b, param)[1]
        t_fb["naive"] = t_fwd["naive"] + once(lambda: conv.conv_backward_naive(dout, cache))
    return [
        _row(name, dtype, "fwd", t_fwd, flops),
        _row(name, dtype, "fwd+bwd", t_fb, 3 * flops),
    ]


def bench_pool(
    name: str, case: PoolCase, dtype: type, reps: int, torch: ModuleType | None
) -> list[dict]:
    """Rows (fwd, fwd+bwd) for one 2x2/2 max-pool case."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(case.x_shape).astype(dtype)
    param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, _ = pool.max_pool_forward(x, param)
    dout = rng.standard_normal(out.shape).astype(dtype)

    def fb(forward: Callable, backward: Callable) -> Callable[[], object]:
        return lambda: backward(dout, forward(x, param)[1])

    fwd: dict[str, Callable[[], object]] = {"fast": lambda: pool.max_pool_forward(x, param)}
    both: dict[str, Callable[[], object]] = {
        "fast": fb(pool.max_pool_forward, pool.max_pool_backward)
    }
    if torch is not None:
        max_pool2d = torch.nn.functional.max_pool2d
        xt, dt = torch.from_numpy(x), torch.from_numpy(dout)
        xg = xt.clone().requires_grad_()

        def torch_fwd() -> None:
            with torch.no_grad():
                max_pool2d(xt, 2, 2)

        fwd["torch"] = torch_fwd
        both["torch"] = lambda: max_pool2d(xg, 2, 2).backward(dt)

    t_fwd, t_both = interleaved(fwd, reps), interleaved(both, reps)
    if case.naive:
        naive_reps = max(1, reps // 5)
        t_fwd["naive"] = interleaved(
            {"naive": lambda: pool.max_pool_forward_naive(x, param)}, naive_reps, 0
        )["naive"]
        t_both["naive"] = interleaved(
            {"naive": fb(pool.max_pool_forward_naive, pool.max_pool_backward_naive)},
            naive_reps,
            0,
        )["naive"]
    return [_row(name, dtype, "fwd", t_fwd, 0), _row(name, dtype, "fwd+bwd", t_both, 0)]


def _row(case: str, dtype: type, mode: str, t: dict[str, float], flops: float) -> dict:
    """One table row: milliseconds per contender, the ratios, GFLOPS when ``flops`` is given."""
    row = {
        "case": case,
        "dtype": np.dtype(dtype).name,
        "mode": mode,
        "ms": {k: v * 1e3 for k, v in t.items()},
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


def blas_info() -> list[str]:
    """The BLAS libraries loaded in this process and the kernels they use (via threadpoolctl)."""
    return [
        f"{Path(d['filepath']).name}: {d.get('internal_api')} {d.get('version')} "
        f"kernels={d.get('architecture')} threads={d['num_threads']}"
        for d in threadpool_info()
    ]


def run(
    cases: Sequence[str], dtypes: Sequence[type], reps: int, json_path: Path | None = None
) -> dict[str, Any]:
    """Time ``cases`` (names from :data:`CASES`) in each dtype, print the table, return the results.

    The results (machine, BLAS, GEMM rates, rows) are also written to ``json_path`` when given.
    """
    if reps < 1:
        raise ValueError(f"benchmark run: reps must be at least 1, got {reps}")
    torch = load_torch()
    rates = gemm_rates(reps)
    conv.conv_forward(*(np.ones(s, np.float32) for s in ((1, 8, 3, 3), (1, 8, 3, 3), (1,))))
    blas = blas_info()  # after one fast conv, so that SciPy's BLAS is loaded too
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    torch_threads = torch.get_num_threads() if torch is not None else None
    if torch is None:
        print(f"{NO_TORCH} numpy {np.__version__}")
    else:
        print(f"torch {torch.__version__}, threads {torch_threads}; numpy {np.__version__}")
    print(f"OPENBLAS_CORETYPE={coretype}; " + "; ".join(blas))
    for k, v in rates.items():
        print(f"np.matmul float32 {k}: {v:.1f} GFLOPS")

    rows: list[dict] = []
    for dtype in dtypes:
        for name in cases:
            case = CASES[name]
            if isinstance(case, ConvCase):
                rows += bench_conv(name, case, dtype, reps, torch)
            else:
                rows += bench_pool(name, case, dtype, reps, torch)
    print(format_table(rows))
    if any(isinstance(CASES[name], ConvCase) and CASES[name].naive for name in cases):
        print(NAIVE_CONV_NOTE)
    results = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__ if torch is not None else None,
        "torch_threads": torch_threads,
        "reps": reps,
        "gemm_gflops": rates,
        "openblas_coretype_env": coretype,
        "blas": blas,
        "rows": rows,
    }
    if json_path is not None:
        write_json(json_path, results)
        print(f"wrote {json_path}")
    return results


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
    run(select_cases(args.case), DTYPES[args.dtype], reps, args.json)
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
