"""cnnlab.viz.compare.plot_accuracy_comparison."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.viz.compare import plot_accuracy_comparison


def test_one_colour_per_run_solid_validation_dashed_training(tmp_path):
    histories = {
        "plain": {"val_acc_history": [0.1, 0.4, 0.5], "train_acc_history": [0.1, 0.5, 0.7]},
        "bn": {"val_acc_history": [0.1, 0.5, 0.6]},
    }
    fig = plot_accuracy_comparison(histories, title="t", path=tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(lines) == ["plain, validation", "plain, training", "bn, validation"]
    np.testing.assert_array_equal(lines["bn, validation"].get_ydata(), [0.1, 0.5, 0.6])
    assert lines["plain, training"].get_linestyle() == "--"
    assert lines["plain, training"].get_color() == lines["plain, validation"].get_color()
    assert lines["bn, validation"].get_color() != lines["plain, validation"].get_color()


def test_a_run_without_validation_history_is_refused():
    with pytest.raises(ValueError, match="plot_accuracy_comparison: 'x' has no val_acc_history"):
        plot_accuracy_comparison({"x": {"train_acc_history": [0.1]}})
