"""nn.Dropout beyond the layer table (cases.py): the drop rate, the scaling, the seeding of
its masks and its argument check."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import nn


def test_dropout_drops_at_rate_p_scales_by_keep_and_is_identity_in_eval():
    layer = nn.Dropout(0.25, rng=0)
    x = np.ones((200, 100))
    out = layer.forward(x)
    dropped = np.mean(out == 0)
    # 20000 Bernoulli(0.25) draws: standard deviation of the mean is 0.003
    assert abs(dropped - 0.25) < 0.015
    np.testing.assert_allclose(out[out != 0], 1 / 0.75)
    layer.eval()
    assert np.array_equal(layer.forward(x), x)


def test_dropout_same_seed_same_masks_different_passes_different_masks():
    a, b = nn.Dropout(0.5, rng=3), nn.Dropout(0.5, rng=3)
    x = np.ones((4, 50))
    first_a, first_b = a.forward(x), b.forward(x)
    assert np.array_equal(first_a, first_b)
    assert not np.array_equal(first_a, a.forward(x))


def test_dropout_rejects_p_of_one():
    with pytest.raises(ValueError, match="drop probability"):
        nn.Dropout(1.0)
