"""Time the conv and pool ops: naive vs fast (cnnlab) vs PyTorch CPU, side by side.

Run: ``python benchmarks/bench_ops.py [--quick] [--json PATH]`` (also --reps, --case, --dtype, as
``cnnlab bench``). The measurements live in :mod:`cnnlab.benchmark`; results go to
``benchmarks/out/ops.json`` unless --json says otherwise.
"""

from __future__ import annotations

from pathlib import Path

from cnnlab.benchmark import main

OUT = Path(__file__).resolve().parent / "out" / "ops.json"

if __name__ == "__main__":
    raise SystemExit(main(default_json=OUT))
