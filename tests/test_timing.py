"""cnnlab.timing: summaries, the busy-machine warning, children with fixed threads."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from cnnlab import timing


def test_summarise_quartiles_and_spread():
    s = timing.summarise([4.0, 1.0, 3.0, 2.0, 5.0])
    assert (s["median_s"], s["p25_s"], s["p75_s"]) == (3.0, 2.0, 4.0)
    assert (s["min_s"], s["max_s"], s["n"]) == (1.0, 5.0, 5)
    assert timing.spread(s) == pytest.approx(2 / 3)


def test_spread_warning_names_only_the_noisy_timings():
    steady = timing.summarise(np.full(9, 0.1) + np.linspace(0, 0.001, 9))
    noisy = timing.summarise([0.1, 0.2, 0.1, 0.3, 0.1])
    assert timing.spread_warning({"a": steady}) is None
    warning = timing.spread_warning({"a": steady, "b": noisy})
    assert warning is not None and "b " in warning and "a " not in warning


def test_run_child_fixes_threads_and_reads_the_last_line():
    code = "import os, json; print('noise'); print(json.dumps(os.environ['OMP_NUM_THREADS']))"
    assert timing.run_child([sys.executable, "-c", code], 3) == "3"


def test_run_child_failure_carries_stderr():
    with pytest.raises(RuntimeError, match="boom"):
        timing.run_child([sys.executable, "-c", "raise SystemExit('boom')"], 1)


def test_describe_names_cpu_kernels_and_threads():
    pools = [{"filepath": "libx.so", "internal_api": "openblas", "architecture": "Haswell",
              "num_threads": 2}]  # fmt: skip
    text = timing.describe(timing.machine(), pools)
    assert timing.cpu_model() in text and "kernels=Haswell threads=2" in text
