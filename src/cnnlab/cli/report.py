"""``cnnlab report RUN`` and ``cnnlab figures RUN``: a training run's HTML report and figures."""

from __future__ import annotations

import argparse

from cnnlab.cli._common import RUN_FOLDER, add_command
from cnnlab.report import write_figures, write_report


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` and ``figures`` sub-commands."""
    report = add_command(subparsers, "report", run_report)
    figures = add_command(subparsers, "figures", run_figures)
    for parser in (report, figures):
        parser.add_argument("run", metavar="RUN", help=RUN_FOLDER)
    figures.add_argument(
        "--filters",
        metavar="LAYER",
        action="append",
        default=[],
        help="also draw this convolution layer's filters (e.g. conv2; repeatable)",
    )


def run_report(args: argparse.Namespace) -> int:
    """Write RUN/report.html, one self-contained page about a training run.

    The page holds the run's configuration, final metrics, curves, confusion matrix,
    per-class accuracy, first-layer filters and sample predictions in one HTML file that opens
    offline. Prints its path.
    """
    print(write_report(args.run))
    return 0


def run_figures(args: argparse.Namespace) -> int:
    """Write every figure of a training run as PNG files in RUN/figures/.

    The curves, confusion matrix, per-class accuracy, filters and predictions, each one a PNG
    file; prints their paths, one a line. --filters LAYER adds figures/filters_LAYER.png, the
    filters of any convolution layer (as colour pictures on 3 input channels, else one grey
    tile per filter and input channel).
    """
    for path in write_figures(args.run, args.filters):
        print(path)
    return 0
