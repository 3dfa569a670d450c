"""keep_freed_memory: a step's freed buffers come back without fresh page faults (glibc)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

PROBE = """
import json, resource, sys
import numpy as np
from cnnlab.training.allocator import keep_freed_memory
took = keep_freed_memory() if sys.argv[1] == "keep" else None
faults = []
for _ in range(3):  # three "steps", each allocating and touching ten 10 MB buffers
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    blocks = [np.ones(10 << 18, dtype=np.float32) for _ in range(10)]
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    del blocks
print(json.dumps({"took": took, "faults": faults}))
"""


def _run(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_freed_buffers_are_reused_without_page_faults():
    kept = _run("keep")
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        assert kept["took"] is False  # no glibc mallopt: says so, changes nothing
        return
    assert kept["took"] is True
    first = kept["faults"][0]  # the fresh 100 MB: thousands of faults (fault-around batches)
    assert first > 1000, kept
    # the next steps reuse the heap: hardly a fault (Python's own bookkeeping at most)
    assert max(kept["faults"][1:]) < first // 10, kept
    # the control: glibc's defaults hand the 100 MB back and fault it in again every step
    default = _run("default")
    assert min(default["faults"][1:]) > default["faults"][0] // 2, default
