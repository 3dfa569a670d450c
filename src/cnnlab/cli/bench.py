"""``cnnlab bench``: the op speed table (conv and max pool, naive vs fast vs PyTorch CPU).

The measurements are :mod:`cnnlab.benchmark`'s; PyTorch is optional (without it the torch column
shows '-').
"""

from __future__ import annotations

import argparse

from cnnlab import benchmark


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``bench`` sub-command."""
    parser = sub.add_parser(
        "bench",
        help="time the conv and max-pool ops: naive vs fast vs PyTorch CPU",
        description="Time the convolution and max-pool ops side by side in one process "
        "(repetitions interleaved round-robin after a warm-up; medians), naive vs fast vs "
        "PyTorch CPU when PyTorch is installed, and print the ratio table.",
    )
    benchmark.add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark with the parsed options."""
    return benchmark.run_args(args)
