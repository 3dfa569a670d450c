"""cnnlab.viz.predictions.plot_confidence_cases and its place in the run report."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.metrics import CONFIDENCE_CASES, confidence_cases
from cnnlab.report import write_report
from cnnlab.report.figures import make_figures
from cnnlab.report.run import load_run
from cnnlab.viz.predictions import plot_confidence_cases
from tests.report.test_report import make_run


def rows_of(fig):
    """(title, [(x label, y label) per image]) of each case's row."""
    return [
        (row._suptitle.get_text(), [(ax.get_xlabel(), ax.get_ylabel()) for ax in row.axes])
        for row in fig.subfigs
    ]


def test_each_row_shows_its_case_with_the_loss(rng, tmp_path):
    probs = rng.dirichlet(np.full(5, 0.4), size=30)
    labels = rng.integers(5, size=30)
    names = list("abcde")
    images = rng.integers(0, 256, (30, 3, 8, 8), dtype=np.uint8)
    fig = plot_confidence_cases(images, labels, probs, names, per_case=3, path=tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    cases = confidence_cases(probs, labels, 3)
    rows = rows_of(fig)
    assert [title for title, _ in rows] == list(CONFIDENCE_CASES)
    for (_, shown), chosen in zip(rows, cases.values(), strict=True):
        expected = [
            (
                f"{names[probs[i].argmax()]} ({probs[i].max():.3f})\n"
                f"loss {-np.log(probs[i, labels[i]]):.3f}",
                names[labels[i]],
            )
            for i in chosen
        ]
        assert shown == expected


def test_a_missing_case_says_so(rng):
    probs = np.eye(4)[[0, 1, 2, 3]] * 0.7 + 0.075  # all right
    fig = plot_confidence_cases(rng.random((4, 1, 5, 5)), np.arange(4), probs, per_case=2)
    rows = rows_of(fig)
    assert [len(shown) for _, shown in rows] == [2, 2, 0, 0]
    assert "no such prediction" in [t.get_text() for t in fig.subfigs[2].texts]


def test_probs_must_match_the_images(rng):
    with pytest.raises(
        ValueError, match=r"plot_confidence_cases: probs must be \(N, K\) with N = 3"
    ):
        plot_confidence_cases(rng.random((3, 3, 4, 4)), [0, 1, 0], rng.random((4, 2)))


def test_report_shows_the_cases_of_its_samples(tmp_path):
    run_dir = make_run(tmp_path)
    figures, _ = make_figures(load_run(run_dir))
    samples = load_run(run_dir).samples
    cases = confidence_cases(samples["probs"], samples["y_true"], 3)
    assert [len(row.axes) for row in figures["confidence_cases"].subfigs] == [
        len(c) for c in cases.values()
    ]
    page = write_report(run_dir).read_text(encoding="utf-8")
    assert "loss is -log p(true class)" in page


def test_report_without_samples_notes_the_missing_file(tmp_path):
    run_dir = make_run(tmp_path, omit=("samples.npz",))
    _, notes = make_figures(load_run(run_dir))
    assert notes["confidence_cases"] == "not drawn: needs samples.npz"
