"""``cnnlab bench``: the op speed table (conv and max pool, naive vs fast vs PyTorch CPU).

The measurements are :mod:`cnnlab.benchmark`'s; PyTorch is optional (without it the torch column
shows '-').
"""

from __future__ import annotations

import argparse

from cnnlab import benchmark
from cnnlab.cli._common import add_command


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``bench`` sub-command."""
    parser = add_command(sub, "bench", run)
    benchmark.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Time the conv and max-pool ops: naive vs fast vs PyTorch CPU.

    Times the convolution and max-pool ops, naive vs fast vs PyTorch CPU when PyTorch is
    installed, each contender alone in its own process with the same thread count (medians of
    repetitions after a warm-up), and prints the ratio table with the CPU, the thread pools and
    a warning when the timings spread too much (:mod:`cnnlab.benchmark`).
    """
    return benchmark.run_args(args)
