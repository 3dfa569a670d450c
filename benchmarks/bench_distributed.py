"""Epoch time of the challenge ResNet on the NumPy engine: 1 process vs N data-parallel ones.

Each contender is one ``cnnlab train`` run of its own (``--nproc N``), with the machine's cores
shared out: 1 process x C threads against N processes x C/N threads (``OMP_NUM_THREADS`` and
``OPENBLAS_NUM_THREADS``). The time is the ``seconds`` of the run's epochs in metrics.csv
(training and the epoch's evaluation). Results go to JSON.

    python benchmarks/bench_distributed.py                 # full: 1 epoch of CIFAR-10, lead only
    python benchmarks/bench_distributed.py --tiny          # smoke test: sample data, small net
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FULL = ["--model", "resnet", "--epochs", "1"]
TINY = ["--model", "resnet", "--epochs", "1", "--data", "sample", "--num-train", "256",
        "--num-val", "50", "--num-test", "50", "--set", "widths=[8,16,32]"]  # fmt: skip


def time_run(options: list[str], nproc: int, cores: int) -> dict[str, float]:
    """Epoch seconds of one ``cnnlab train --nproc nproc`` run (each rank cores/nproc threads)."""
    threads = str(max(1, cores // nproc))
    env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        argv = [sys.executable, "-m", "cnnlab", "train", *options, "--out", str(out)]
        argv += ["--nproc", str(nproc), "--quiet", "--no-report"]
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        with open(out / "metrics.csv", newline="") as f:
            epochs = [float(row["seconds"]) for row in csv.DictReader(f)]
    return {"nproc": nproc, "threads_per_process": int(threads), "epoch_s": epochs[-1],
            "wall_s": wall}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="seconds-long smoke run")
    parser.add_argument("--nproc", type=int, default=2, help="processes of the parallel run")
    parser.add_argument("--out", default="benchmarks/results/distributed.json")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    options = TINY if args.tiny else FULL
    rows = []
    for nproc in (1, args.nproc):
        rows.append(time_run(options, nproc, cores))
        print(json.dumps(rows[-1]))
        time.sleep(2)  # let the last run's BLAS threads go quiet
    speedup = rows[0]["epoch_s"] / rows[1]["epoch_s"]
    print(f"{args.nproc} processes: epoch {speedup:.2f}x as fast as 1 process ({cores} cores)")
    if not args.tiny:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        command = "python benchmarks/bench_distributed.py"
        record = {"command": command, "cores": cores, "runs": rows, "speedup": speedup}
        Path(args.out).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
