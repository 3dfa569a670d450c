"""Honest timing of contenders that use thread pools: each one alone, same threads, spread.

Why: after a NumPy BLAS call, OpenBLAS's worker threads keep spinning for a while and take the
cores from whatever runs next (PyTorch's OpenMP pool, say). Timing two libraries call by call
in one process therefore slows down the second; on 2 cores PyTorch's conv ran 2x slow that way.
So every benchmark of this project times each contender in its own fresh process
(:func:`run_child`), all with the same thread count (environment variables for the pools that
read them at start-up, then :func:`limit_threads`), and reports the median with its spread
(:func:`summarise`), warning when the spread says the machine was busy (:func:`spread_warning`).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Interquartile range over median above which the machine is called busy.
BUSY_SPREAD = 0.10

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else :func:`platform.processor`."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """Platform, CPU model, core count, load average and the OpenBLAS environment settings."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "load_average": load,
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
    }


def thread_pools() -> list[dict[str, Any]]:
    """The thread pools loaded in this process (threadpoolctl): library, kernels, threads."""
    from threadpoolctl import threadpool_info

    keys = ("internal_api", "version", "architecture", "num_threads", "filepath")
    return [
        {k: (Path(p[k]).name if k == "filepath" else p.get(k)) for k in keys if k in p}
        for p in threadpool_info()
    ]


def describe(info: dict[str, Any], pools: Sequence[dict[str, Any]]) -> str:
    """Two printable lines: the machine and the thread pools with their kernels."""
    env = ", ".join(f"{k}={v}" for k, v in info["env"].items())
    load = info["load_average"]
    lines = [
        f"CPU {info['cpu']} ({info['cpus']} cores), load {load[0]:.2f}; {env}"
        if load
        else f"CPU {info['cpu']} ({info['cpus']} cores); {env}"
    ]
    lines.append(
        "thread pools: "
        + "; ".join(
            f"{p.get('filepath')} {p.get('internal_api')} {p.get('version') or ''} "
            f"kernels={p.get('architecture', '-')} threads={p.get('num_threads')}"
            for p in pools
        )
    )
    return "\n".join(lines)


@contextlib.contextmanager
def limit_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` threads in every pool (threadpoolctl, and torch if loaded)."""
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(threads):
        if torch is not None:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(before)


def child_env(threads: int) -> dict[str, str]:
    """This process's environment with every pool's start-up thread count set to ``threads``."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    return env


def run_child(cmd: Sequence[str], threads: int) -> Any:
    """Run ``cmd`` (a timing entry point) in a fresh process; its last stdout line as JSON.

    Raises:
        RuntimeError: the child failed (its stderr is in the message).
    """
    done = subprocess.run(
        list(cmd), env=child_env(threads), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"timing child {' '.join(cmd[1:])} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(times: Sequence[float]) -> dict[str, float]:
    """Median, quartiles, min and max (seconds) of repeated timings, and their count."""
    t = np.asarray(times, dtype=float)
    p25, p50, p75 = np.percentile(t, [25, 50, 75])
    return {
        "median_s": float(p50),
        "p25_s": float(p25),
        "p75_s": float(p75),
        "min_s": float(t.min()),
        "max_s": float(t.max()),
        "n": int(t.size),
    }


def spread(summary: dict[str, float]) -> float:
    """Interquartile range over median of a :func:`summarise` result."""
    return (summary["p75_s"] - summary["p25_s"]) / summary["median_s"]


def spread_warning(summaries: dict[str, dict[str, float]]) -> str | None:
    """A warning naming the timings whose spread exceeds :data:`BUSY_SPREAD`, or None."""
    noisy = {name: spread(s) for name, s in summaries.items() if spread(s) > BUSY_SPREAD}
    if not noisy:
        return None
    listed = ", ".join(f"{name} {100 * v:.0f} %" for name, v in noisy.items())
    return (
        f"WARNING: timings spread more than {100 * BUSY_SPREAD:.0f} % (IQR / median: {listed}); "
        "the machine is probably busy, ratios are unreliable"
    )
