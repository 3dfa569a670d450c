"""cnnlab.validation: every check passes good input through and names the op in its error."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnnlab import validation as v

GOOD = np.zeros((2, 3))


def test_check_array() -> None:
    assert v.check_array("op", GOOD) is GOOD
    assert v.check_array("op", np.float64(1.0)) == 1.0  # a NumPy scalar is a 0-d array
    with pytest.raises(ValueError, match=r"^op: x must be a NumPy array, got list$"):
        v.check_array("op", [1.0], "x")


def test_check_float() -> None:
    assert v.check_float("op", GOOD) is GOOD
    assert v.check_float("op", np.zeros(2, np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match=r"^relu: x must be a floating-point array, got str$"):
        v.check_float("relu", "abc", "x")
    with pytest.raises(ValueError, match=r"^op: input must be a floating-point array, got dtype "):
        v.check_float("op", np.zeros(2, np.int64))


def test_check_ndim() -> None:
    assert v.check_ndim("op", GOOD, 2) is GOOD
    with pytest.raises(
        ValueError, match=r"^conv2d: input x must be 4-D \(N, C, H, W\), got shape \(2, 3\)$"
    ):
        v.check_ndim("conv2d", GOOD, 4, "input x", "(N, C, H, W)")
    with pytest.raises(ValueError, match=r"^op: input must be 2-D, got NoneType$"):
        v.check_ndim("op", None, 2)


def test_check_batch_axis() -> None:
    assert v.check_batch_axis("op", GOOD) is GOOD
    with pytest.raises(ValueError, match=r"^Flatten: x must have a batch dimension, got shape"):
        v.check_batch_axis("Flatten", np.zeros(()))
    with pytest.raises(ValueError, match=r"^op: x must have a batch dimension, got int$"):
        v.check_batch_axis("op", 3)


def test_check_shape() -> None:
    assert v.check_shape("op", GOOD, [2, 3], "b") is GOOD
    with pytest.raises(ValueError, match=r"^affine: b must have shape \(5,\), got \(2, 3\)$"):
        v.check_shape("affine", GOOD, (5,), "b")
    with pytest.raises(ValueError, match=r"^affine: b must have shape \(5,\), got list$"):
        v.check_shape("affine", [0.0] * 5, (5,), "b")


def test_check_dout_casts_to_the_forward_dtype() -> None:
    out = v.check_dout("op", GOOD, (2, 3), np.float32)
    assert out.dtype == np.float32 and out.shape == (2, 3)
    assert v.check_dout("op", GOOD, (2, 3)) is GOOD
    with pytest.raises(ValueError, match=r"^pool: dout must have shape \(3, 2\), got \(2, 3\)$"):
        v.check_dout("pool", GOOD, (3, 2))
    with pytest.raises(ValueError, match=r"^pool: dout must be a floating-point array, got None"):
        v.check_dout("pool", None, (2, 3))


def test_check_cache() -> None:
    cache = (1, 2)
    assert v.check_cache("op", cache, tuple) is cache
    with pytest.raises(
        ValueError,
        match=r"^conv2d: cache must be the one its forward pass returned \(tuple\), got NoneType$",
    ):
        v.check_cache("conv2d", None, tuple)
    with pytest.raises(ValueError, match=r"\(ndarray or NoneType\), got str$"):
        v.check_cache("dropout", "mask", (np.ndarray, type(None)))


def test_check_params() -> None:
    params = {"stride": 2}
    assert v.check_params("conv2d", params, "conv_param", ("stride", "pad")) is params
    assert v.check_params("conv2d", None, "conv_param", ("stride",)) == {}
    with pytest.raises(
        ValueError,
        match=re.escape(
            "conv2d: unknown conv_param key(s) ['strides']; the allowed keys are ['pad', 'stride']"
        ),
    ):
        v.check_params("conv2d", {"strides": 2}, "conv_param", ("stride", "pad"))
    with pytest.raises(ValueError, match=r"^conv2d: conv_param must be a dict, got list$"):
        v.check_params("conv2d", [("stride", 2)], "conv_param", ("stride",))


def test_pairs() -> None:
    assert v.pair("op", 3, "stride") == (3, 3)
    assert v.pair("op", (np.int64(1), 2), "stride") == (1, 2)
    assert v.positive_pair("op", [1, 2], "stride") == (1, 2)
    assert v.nonnegative_pair("op", 0, "pad") == (0, 0)
    for bad in (1.5, (1, 2, 3), "2", True, (1, None)):
        with pytest.raises(ValueError, match=r"^op: stride must be an int or a pair of ints, got"):
            v.pair("op", bad, "stride")
    with pytest.raises(ValueError, match=r"^op: stride must be positive, got \(1, 0\)$"):
        v.positive_pair("op", (1, 0), "stride")
    with pytest.raises(ValueError, match=r"^op: pad must be non-negative, got -1$"):
        v.nonnegative_pair("op", -1, "pad")


def test_check_choice() -> None:
    assert v.check_choice("knn", "metric", "l1", ("l2", "l1")) == "l1"
    with pytest.raises(
        ValueError, match=re.escape("knn: metric must be one of ('l2', 'l1'), got 'l3'")
    ):
        v.check_choice("knn", "metric", "l3", ("l2", "l1"))


def test_check_labels() -> None:
    labels = v.check_labels("op", np.array([0, 2, 1], np.int32), 3, 3)
    assert labels.dtype == np.int64 and labels.tolist() == [0, 2, 1]
    assert v.check_labels("op", np.zeros(0, int), 0, 3).shape == (0,)
    for bad in (np.array([0, 1]), np.array([0.0, 1.0, 2.0]), np.array([True, False, True])):
        with pytest.raises(ValueError, match=r"^plot: y_true must be 3 integer labels; got "):
            v.check_labels("plot", bad, 3, 3, "y_true")
    with pytest.raises(ValueError, match=r"^op: labels must lie in \[0, 3\); got values from -1"):
        v.check_labels("op", np.array([0, -1, 2]), 3, 3)
    with pytest.raises(ValueError, match=r"got values from 0 to 3$"):
        v.check_labels("op", np.array([0, 3, 2]), 3, 3)


def test_check_samples_and_X_y() -> None:
    X = v.check_samples("knn", np.ones((4, 2, 3), np.float32))
    assert X.shape == (4, 6) and X.dtype == np.float64
    assert v.check_samples("knn", [1, 2, 3]).shape == (3, 1)
    with pytest.raises(ValueError, match=r"^knn: X must have a sample axis, got a scalar"):
        v.check_samples("knn", 3.0)
    with pytest.raises(ValueError, match=r"^knn: X must be an array of numbers"):
        v.check_samples("knn", ["a", "b"])
    X, y = v.check_X_y("fit", np.ones((3, 2)), [0, 1, 0])
    assert X.shape == (3, 2) and y.tolist() == [0, 1, 0]
    with pytest.raises(
        ValueError,
        match=re.escape(
            "fit: X has 3 samples (shape (3, 2)) but y has shape (2,); expected y of shape (3,)"
        ),
    ):
        v.check_X_y("fit", np.ones((3, 2)), [0, 1])


def test_check_finite() -> None:
    assert v.check_finite("op", GOOD) is GOOD
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match=r"^predict: X \(2, 3\) contains NaN or infinity$"):
            v.check_finite("predict", np.where(GOOD == 0, bad, 0.0))
