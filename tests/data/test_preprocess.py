"""Input normalisation (cnnlab.data.preprocess): statistics of the training images, applied to
every split."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.data.preprocess import apply_preprocess, fit_preprocess


def test_fit_and_apply_preprocess(rng):
    X = rng.integers(0, 256, (6, 3, 4, 5), dtype=np.uint8)
    Xf = X.astype(np.float64)
    channel = fit_preprocess(X, "channel")
    for c in range(3):
        assert channel["mean"][c, 0, 0] == pytest.approx(Xf[:, c].mean(), rel=1e-12)
        assert channel["std"][c, 0, 0] == pytest.approx(Xf[:, c].std(), rel=1e-12)
    out = apply_preprocess(X, channel, np.float64)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, rtol=1e-12)
    image = fit_preprocess(X, "mean_image")
    out = apply_preprocess(X, image, np.float32)
    assert out.dtype == np.float32 and out.shape == X.shape
    np.testing.assert_allclose(out, Xf - Xf.mean(axis=0), atol=1e-4)


def test_fit_preprocess_bad_input(rng):
    X = rng.integers(0, 256, (6, 3, 4, 5), dtype=np.uint8)
    with pytest.raises(ValueError, match="fit_preprocess: kind must be one of"):
        fit_preprocess(X, "whiten")
    with pytest.raises(ValueError, match=r"fit_preprocess: .*\(6, 3, 4\)"):
        fit_preprocess(X[..., 0], "mean_image")
    with pytest.raises(ValueError, match=r"channel_mean_std: .*\(6, 3, 4\)"):
        fit_preprocess(X[..., 0], "channel")
