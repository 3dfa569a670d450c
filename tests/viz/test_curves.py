"""The bias-corrected EMA used to smooth the loss curve, against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.viz.curves import auto_beta, default_num_epochs, ema, epoch_axis, plot_training_curves


def test_ema_by_hand() -> None:
    # beta 0.5: s1 = 0.5 * 4 = 2 -> 2 / 0.5 = 4; s2 = 0.5 * 2 + 0.5 * 0 = 1 -> 1 / 0.75;
    # s3 = 0.5 * 1 + 0.5 * 8 = 4.5 -> 4.5 / 0.875
    np.testing.assert_allclose(ema([4.0, 0.0, 8.0], beta=0.5), [4.0, 4 / 3, 36 / 7])


def test_ema_keeps_a_constant_and_beta_zero_is_the_identity() -> None:
    np.testing.assert_allclose(ema(np.full(50, 2.5), beta=0.95), 2.5)
    x = np.array([3.0, -1.0, 7.0])
    np.testing.assert_array_equal(ema(x, beta=0.0), x)


def test_auto_beta_window() -> None:
    assert auto_beta(10) == pytest.approx(1 - 1 / 5)  # at least 5 points
    assert auto_beta(3000) == pytest.approx(1 - 1 / 100)  # n / 30
    assert auto_beta(10**6) == pytest.approx(1 - 1 / 200)  # at most 200


@pytest.mark.parametrize(
    ("values", "beta", "message"),
    [
        (np.zeros((2, 2)), 0.9, "values must be 1-D"),
        ([1.0, 2.0], 1.0, r"beta must be in \[0, 1\)"),
    ],
)
def test_ema_bad_input(values, beta, message) -> None:
    with pytest.raises(ValueError, match=f"ema: {message}"):
        ema(values, beta)


def test_epoch_axis_aligns_series_at_their_end() -> None:
    np.testing.assert_array_equal(epoch_axis(3, 3), [1, 2, 3])
    np.testing.assert_array_equal(epoch_axis(4, 3), [0, 1, 2, 3])  # checked before training too
    np.testing.assert_array_equal(epoch_axis(2, 5), [4, 5])
    with pytest.raises(ValueError, match="epoch_axis: 5 per-epoch values for 3 epochs"):
        epoch_axis(5, 3)


def test_default_num_epochs() -> None:
    assert default_num_epochs({"lr_history": [1, 1, 1], "val_acc_history": [0] * 4}) == 3
    assert default_num_epochs({"lr_history": None, "train_acc_history": [0] * 4}) == 4
    assert default_num_epochs({}) == 0


def test_accuracy_starts_at_epoch_zero_when_checked_before_training() -> None:
    history = {
        "loss_history": np.linspace(2, 1, 30),
        "train_acc_history": np.array([0.1, 0.3, 0.5]),
        "val_acc_history": [0.1, 0.2, 0.4],
        "lr_history": [1e-3, 5e-4],
    }
    fig = plot_training_curves(history)
    loss_ax, acc_ax, lr_ax = fig.axes
    np.testing.assert_array_equal(acc_ax.lines[0].get_xdata(), [0, 1, 2])
    np.testing.assert_array_equal(acc_ax.lines[0].get_ydata(), [0.1, 0.3, 0.5])
    np.testing.assert_array_equal(lr_ax.lines[0].get_xdata(), [1, 2])
    np.testing.assert_array_equal(
        loss_ax.lines[1].get_ydata(), ema(history["loss_history"], auto_beta(30))
    )
    with pytest.raises(
        ValueError, match="plot_training_curves: per-epoch series of 3 values for 1 epochs"
    ):
        plot_training_curves(history, num_epochs=1)
