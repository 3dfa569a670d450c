"""Time the conv and pool ops: naive vs fast (cnnlab) vs PyTorch CPU, side by side.

Run: ``python benchmarks/bench_ops.py [--quick] [--json PATH]``.

All contenders of one case run in one process, repetitions interleaved round-robin (so background
load hits each of them alike), after a warm-up; the table gives medians and the ratios
fast/torch and naive/fast, plus achieved GFLOPS for the convolutions. The naive convolution is
minutes-slow on the bigger layers, so it is timed on the seed's case only, with one repetition
(forward and backward timed separately, fwd+bwd is their sum); the naive max pool only on the
seed's 100x3x32x32 case. PyTorch keeps its default thread count. Also printed for reference: the
machine's float32 GEMM rate (np.matmul) on a large square product and on the im2col-forward shape
of the CIFAR-scale layer. Results go to ``benchmarks/out/ops.json`` (or ``--json PATH``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as tF

from cnnlab.functional import conv, pool

OUT = Path(__file__).resolve().parent / "out" / "ops.json"

CONV_CASES = {
    # name: (x shape, w shape, stride, pad, time naive?)
    "seed conv 100x3x31x31 w25x3x3x3 s2p1": ((100, 3, 31, 31), (25, 3, 3, 3), 2, 1, True),
    "cifar conv 64x64x32x32 w64x64x3x3 s1p1": ((64, 64, 32, 32), (64, 64, 3, 3), 1, 1, False),
    "first layer 50x3x32x32 w32x3x7x7 s1p3": ((50, 3, 32, 32), (32, 3, 7, 7), 1, 3, False),
}
POOL_CASES = {
    # name: (x shape, time naive?)
    "maxpool 2x2/2 100x3x32x32": ((100, 3, 32, 32), True),
    "maxpool 2x2/2 64x64x32x32": ((64, 64, 32, 32), False),
}


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


def bench_conv(name: str, spec: tuple, dtype: type, reps: int) -> list[dict]:
    """Rows (fwd, fwd+bwd) for one convolution case."""
    x_shape, w_shape, stride, pad, with_naive = spec
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    param = {"stride": stride, "pad": pad}
    out, _ = conv.conv_forward(x, w, b, param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    n, f, ho, wo = out.shape
    flops = 2 * n * f * ho * wo * w_shape[1] * w_shape[2] * w_shape[3]

    xt, wt, bt, dt = (torch.from_numpy(a) for a in (x, w, b, dout))
    xg, wg, bg = (t.clone().requires_grad_() for t in (xt, wt, bt))

    def torch_fwd() -> None:
        with torch.no_grad():
            tF.conv2d(xt, wt, bt, stride=stride, padding=pad)

    def torch_fb() -> None:
        tF.conv2d(xg, wg, bg, stride=stride, padding=pad).backward(dt)

    def fast_fb() -> None:
        conv.conv_backward(dout, conv.conv_forward(x, w, b, param)[1])

    fwd = interleaved({"fast": lambda: conv.conv_forward(x, w, b, param), "torch": torch_fwd}, reps)
    fb = interleaved({"fast": fast_fb, "torch": torch_fb}, reps)
    if with_naive:
        t_fwd = once(lambda: conv.conv_forward_naive(x, w, b, param))
        cache = conv.conv_forward_naive(x, w, b, param)[1]
        fwd["naive"] = t_fwd
        fb["naive"] = t_fwd + once(lambda: conv.conv_backward_naive(dout, cache))
    return [
        _row(name, dtype, "fwd", fwd, flops),
        _row(name, dtype, "fwd+bwd", fb, 3 * flops),
    ]


def bench_pool(name: str, spec: tuple, dtype: type, reps: int) -> list[dict]:
    """Rows (fwd, fwd+bwd) for one 2x2/2 max-pool case."""
    x_shape, with_naive = spec
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(dtype)
    param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, _ = pool.max_pool_forward(x, param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    xt, dt = torch.from_numpy(x), torch.from_numpy(dout)
    xg = xt.clone().requires_grad_()

    def torch_fwd() -> None:
        with torch.no_grad():
            tF.max_pool2d(xt, 2, 2)

    def fb(forward: Callable, backward: Callable) -> Callable[[], None]:
        return lambda: backward(dout, forward(x, param)[1])

    fwd = interleaved({"fast": lambda: pool.max_pool_forward(x, param), "torch": torch_fwd}, reps)
    both = interleaved(
        {
            "fast": fb(pool.max_pool_forward, pool.max_pool_backward),
            "torch": lambda: tF.max_pool2d(xg, 2, 2).backward(dt),
        },
        reps,
    )
    if with_naive:
        naive_reps = max(1, reps // 5)
        fwd["naive"] = interleaved(
            {"naive": lambda: pool.max_pool_forward_naive(x, param)}, naive_reps, 0
        )["naive"]
        both["naive"] = interleaved(
            {"naive": fb(pool.max_pool_forward_naive, pool.max_pool_backward_naive)},
            naive_reps,
            0,
        )["naive"]
    return [_row(name, dtype, "fwd", fwd, 0), _row(name, dtype, "fwd+bwd", both, 0)]


def _row(case: str, dtype: type, mode: str, t: dict, flops: float) -> dict:
    row = {
        "case": case,
        "dtype": np.dtype(dtype).name,
        "mode": mode,
        "ms": {k: v * 1e3 for k, v in t.items()},
        "fast/torch": t["fast"] / t["torch"],
        "naive/fast": t["naive"] / t["fast"] if "naive" in t else None,
    }
    if flops:
        row["gflops"] = {k: flops / v / 1e9 for k, v in t.items()}
    return row


def blas_info() -> list[str]:
    """The BLAS libraries loaded in this process and the kernels they use (via threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["(threadpoolctl not installed)"]
    return [
        f"{Path(d['filepath']).name}: {d.get('internal_api')} {d.get('version')} "
        f"kernels={d.get('architecture')} threads={d['num_threads']}"
        for d in threadpool_info()
    ]


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'case':42s} {'dtype':7s} {'mode':7s} {'naive ms':>9s} {'fast ms':>8s} "
        f"{'torch ms':>8s} {'fast/torch':>10s} {'naive/fast':>10s} {'GF fast':>7s} {'GF torch':>8s}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        ms, gf = r["ms"], r.get("gflops", {})
        naive = f"{ms['naive']:9.1f}" if "naive" in ms else f"{'-':>9s}"
        nf = f"{r['naive/fast']:10.0f}" if r["naive/fast"] else f"{'-':>10s}"
        gfs = f"{gf['fast']:7.1f} {gf['torch']:8.1f}" if gf else f"{'-':>7s} {'-':>8s}"
        print(
            f"{r['case']:42s} {r['dtype']:7s} {r['mode']:7s} {naive} {ms['fast']:8.2f} "
            f"{ms['torch']:8.2f} {r['fast/torch']:10.2f} {nf} {gfs}"
        )


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` atomically (temp file in the same directory, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=1)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions (smoke run)")
    parser.add_argument("--json", type=Path, default=OUT, help=f"output file (default {OUT})")
    args = parser.parse_args(argv)
    reps = 3 if args.quick else 15

    rates = gemm_rates(reps)
    conv.conv_forward(*(np.ones(s, np.float32) for s in ((1, 8, 3, 3), (1, 8, 3, 3), (1,))))
    blas = blas_info()  # after one fast conv, so that SciPy's BLAS is loaded too
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; numpy {np.__version__}")
    print(f"OPENBLAS_CORETYPE={coretype}; " + "; ".join(blas))
    for k, v in rates.items():
        print(f"np.matmul float32 {k}: {v:.1f} GFLOPS")
    rows: list[dict] = []
    for dtype in (np.float32, np.float64):
        for name, spec in CONV_CASES.items():
            rows += bench_conv(name, spec, dtype, reps)
        for name, spec in POOL_CASES.items():
            rows += bench_pool(name, spec, dtype, reps)
    print_table(rows)
    print("naive conv: seed case only, 1 repetition each of fwd and bwd (fwd+bwd = sum).")
    write_json(
        args.json,
        {
            "machine": platform.platform(),
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "reps": reps,
            "gemm_gflops": rates,
            "openblas_coretype_env": coretype,
            "blas": blas,
            "rows": rows,
        },
    )
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
