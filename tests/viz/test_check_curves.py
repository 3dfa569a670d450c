"""Seed 004's curves: loss per iteration, validation accuracy at the checks, the stop marked."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.viz.curves import plot_check_curves

HISTORY = {
    "loss_history": list(np.linspace(2.3, 1.5, 40)),
    "check_iterations": [10, 20, 30, 40],
    "check_val_acc": [0.2, 0.45, 0.4, 0.41],
}


def _dashed_x(ax):
    return [line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"]


def test_the_stop_is_marked_on_both_panels_and_the_best_check_circled(tmp_path):
    fig = plot_check_curves(HISTORY, stopped_at=40, path=tmp_path / "c.png")
    ax_loss, ax_acc = fig.axes
    assert _dashed_x(ax_loss) == [40] and _dashed_x(ax_acc) == [40]
    (circle,) = ax_acc.collections
    np.testing.assert_array_equal(circle.get_offsets(), [[20, 0.45]])
    checks = next(line for line in ax_acc.get_lines() if line.get_linestyle() == "-")
    np.testing.assert_array_equal(checks.get_xdata(), HISTORY["check_iterations"])
    assert (tmp_path / "c.png").stat().st_size > 0


def test_without_a_stop_or_checks_the_panels_say_so():
    fig = plot_check_curves({"loss_history": [1.0, 0.5]})
    ax_loss, ax_acc = fig.axes
    assert _dashed_x(ax_loss) == []
    assert "no checks" in ax_acc.texts[0].get_text()


def test_check_series_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="plot_check_curves: 2 check_iterations but 1"):
        plot_check_curves({"check_iterations": [1, 2], "check_val_acc": [0.5]})
