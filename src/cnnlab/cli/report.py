"""``cnnlab report RUN`` and ``cnnlab figures RUN``: a training run's HTML report and figures."""

from __future__ import annotations

import argparse

from cnnlab.report import write_figures, write_report


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` and ``figures`` sub-commands."""
    report = subparsers.add_parser(
        "report",
        help="write RUN/report.html, one self-contained page about a training run",
        description="Write RUN/report.html: the run's configuration, final metrics, curves, "
        "confusion matrix, per-class accuracy, first-layer filters and sample "
        "predictions in one HTML file that opens offline.",
    )
    report.add_argument("run", metavar="RUN", help="a run folder written by `cnnlab train`")
    report.set_defaults(func=run_report)
    figures = subparsers.add_parser(
        "figures",
        help="write every figure of a training run as PNG files in RUN/figures/",
        description="Write the run's figures (curves, confusion matrix, per-class accuracy, "
        "filters, predictions) as PNG files in RUN/figures/.",
    )
    figures.add_argument("run", metavar="RUN", help="a run folder written by `cnnlab train`")
    figures.set_defaults(func=run_figures)


def run_report(args: argparse.Namespace) -> int:
    """Write the report and print its path."""
    print(write_report(args.run))
    return 0


def run_figures(args: argparse.Namespace) -> int:
    """Write the figures and print their paths, one a line."""
    for path in write_figures(args.run):
        print(path)
    return 0
