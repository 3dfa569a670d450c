"""Batch-norm layers beyond the layer table (cases.py): the running statistics' update rule."""

from __future__ import annotations

import numpy as np

from cnnlab import nn

F64 = np.float64


def test_batchnorm_eval_uses_running_statistics(rng):
    layer = nn.BatchNorm1d(3, momentum=0.5, dtype=F64)
    x = rng.standard_normal((8, 3)) * 2 + 5
    layer.forward(x)
    # one update from mean 0 / var 1 with momentum 0.5 (CS231n convention, biased variance)
    np.testing.assert_allclose(layer.buffers["running_mean"], 0.5 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_var"], 0.5 + 0.5 * x.var(0), rtol=1e-12)
    layer.eval()
    expected = (x - layer.buffers["running_mean"]) / np.sqrt(layer.buffers["running_var"] + 1e-5)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12)
