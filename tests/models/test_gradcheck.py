"""Every model's loss gradients against central differences (float64, tiny models).

For each parameter, up to 20 entries (all of them for small arrays, else a fixed random
sample) are perturbed by +-h. Error analysis of the central difference in float64: rounding
gives ~1e-16 |L| / h ~ 1e-10 for losses of a few units with h = 1e-6, truncation O(h^2) less,
hence ``atol=1e-8``; ``rtol=1e-6`` covers the rest. ReLU and max pooling have kinks, and the
small step keeps the chance that a perturbation straddles one low.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import nn
from tests.models.specs import SPECS

H = 1e-6


def _entries(shape, rng, limit=20):
    every = list(np.ndindex(shape))
    if len(every) <= limit:
        return every
    return [every[i] for i in rng.choice(len(every), size=limit, replace=False)]


@pytest.mark.parametrize(
    "build, shape, classes", [(s[1], s[3], s[4]) for s in SPECS], ids=[s[0] for s in SPECS]
)
def test_loss_gradients_match_central_differences(build, shape, classes, rng):
    model = build()
    for w in model.params.values():
        # off the initial point: zero biases put a unit exactly on ReLU's kink whenever a
        # sample's previous layer is all zero, where no finite difference can agree
        w += 0.05 * rng.standard_normal(w.shape)
    X = rng.standard_normal((3, *shape))
    y = rng.integers(classes, size=3)
    drops = [m for _, m in model.net.named_modules() if isinstance(m, nn.Dropout)]

    def loss():
        for d in drops:  # the same dropout masks on every call
            d.buffers["rng_state"][1] = 0
        return model.loss(X, y)

    _, grads = loss()
    for name, w in model.params.items():
        ixs = _entries(w.shape, rng)
        numerical = []
        for ix in ixs:
            old = w[ix]
            w[ix] = old + H
            plus = loss()[0]
            w[ix] = old - H
            minus = loss()[0]
            w[ix] = old
            numerical.append((plus - minus) / (2 * H))
        analytic = [grads[name][ix] for ix in ixs]
        np.testing.assert_allclose(analytic, numerical, rtol=1e-6, atol=1e-8, err_msg=name)
