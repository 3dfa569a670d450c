"""Every layer's backward pass against central differences (float64, tiny shapes).

For a random upstream gradient ``dout`` the backward pass must return the gradient of
``sum(forward(x) * dout)`` with respect to the input and to every parameter. Central differences
with h = 1e-5 in float64 are accurate to ~1e-9 absolute for these O(1) sums, hence the
tolerances.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import nn
from cnnlab.gradcheck import eval_numerical_gradient_array

F64 = np.float64


def _randomise_affine(layer: nn.Module, rng: np.random.Generator) -> nn.Module:
    """Give normalisation layers non-trivial scales and shifts so their gradients are tested."""
    for value in layer.params.values():
        value[...] = rng.standard_normal(value.shape)
    return layer


# (id, factory(rng) -> module, input shape)
CASES = [
    ("linear", lambda r: nn.Linear(6, 4, dtype=F64, rng=r), (3, 6)),
    ("linear-4d-input", lambda r: nn.Linear(2 * 3 * 2, 5, dtype=F64, rng=r), (2, 2, 3, 2)),
    ("linear-no-bias", lambda r: nn.Linear(6, 4, bias=False, dtype=F64, rng=r), (3, 6)),
    ("conv", lambda r: nn.Conv2d(3, 4, 3, padding=1, dtype=F64, rng=r), (2, 3, 5, 6)),
    (
        "conv-stride-dilation",
        lambda r: nn.Conv2d(
            2, 3, (3, 2), stride=(2, 1), padding=(1, 2), dilation=2, dtype=F64, rng=r
        ),
        (2, 2, 7, 6),
    ),
    (
        "conv-same-no-bias",
        lambda r: nn.Conv2d(2, 3, 5, padding="same", bias=False, dtype=F64, rng=r),
        (1, 2, 6, 5),
    ),
    ("maxpool", lambda r: nn.MaxPool2d(2), (2, 3, 4, 6)),
    ("maxpool-overlap-pad", lambda r: nn.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 5)),
    ("avgpool", lambda r: nn.AvgPool2d(2), (2, 3, 4, 6)),
    ("avgpool-ceil", lambda r: nn.AvgPool2d(2, ceil_mode=True), (1, 2, 5, 5)),
    (
        "avgpool-pad-exclude",
        lambda r: nn.AvgPool2d(3, 2, padding=1, count_include_pad=False),
        (2, 2, 5, 6),
    ),
    ("global-avgpool", lambda r: nn.GlobalAvgPool2d(), (2, 3, 4, 5)),
    ("relu", lambda r: nn.ReLU(), (3, 7)),
    ("leaky-relu", lambda r: nn.LeakyReLU(0.1), (3, 7)),
    ("elu", lambda r: nn.ELU(0.7), (3, 7)),
    ("sigmoid", lambda r: nn.Sigmoid(), (3, 7)),
    ("tanh", lambda r: nn.Tanh(), (3, 7)),
    ("batchnorm1d", lambda r: _randomise_affine(nn.BatchNorm1d(5, dtype=F64), r), (6, 5)),
    ("batchnorm2d", lambda r: _randomise_affine(nn.BatchNorm2d(3, dtype=F64), r), (4, 3, 2, 3)),
    (
        "batchnorm2d-eval",
        lambda r: _randomise_affine(nn.BatchNorm2d(3, dtype=F64), r).eval(),
        (2, 3, 2, 3),
    ),
    ("layernorm", lambda r: _randomise_affine(nn.LayerNorm(5, dtype=F64), r), (3, 5)),
    (
        "layernorm-chw",
        lambda r: _randomise_affine(nn.LayerNorm((2, 3, 2), dtype=F64), r),
        (3, 2, 3, 2),
    ),
    ("groupnorm", lambda r: _randomise_affine(nn.GroupNorm(2, 4, dtype=F64), r), (2, 4, 3, 3)),
    ("flatten", lambda r: nn.Flatten(), (2, 3, 2, 2)),
    (
        "sequential",
        lambda r: nn.Sequential(
            nn.Conv2d(2, 3, 3, dtype=F64, rng=r),
            nn.Tanh(),
            nn.Flatten(),
            nn.Linear(3 * 3 * 2, 4, dtype=F64, rng=r),
        ),
        (2, 2, 5, 4),
    ),
    ("residual-identity", lambda r: nn.Residual(_conv_bn_block_same(r, 3)), (3, 3, 4, 4)),
    (
        "residual-projection-no-relu",
        lambda r: nn.Residual(
            nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1, dtype=F64, rng=r), nn.Tanh()),
            nn.Conv2d(3, 4, 1, stride=2, dtype=F64, rng=r),
            relu=False,
        ),
        (2, 3, 5, 5),
    ),
]


def _conv_bn_block_same(rng: np.random.Generator, channels: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding=1, dtype=F64, rng=rng),
        _randomise_affine(nn.BatchNorm2d(channels, dtype=F64), rng),
        nn.ReLU(),
        nn.Conv2d(channels, channels, 3, padding=1, dtype=F64, rng=rng),
    )


@pytest.mark.parametrize("factory, shape", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_backward_matches_numerical_gradient(factory, shape, rng):
    layer = factory(rng)
    x = rng.standard_normal(shape)
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)

    dx_num = eval_numerical_gradient_array(layer.forward, x, dout)
    np.testing.assert_allclose(dx, dx_num, rtol=1e-6, atol=1e-8)
    for name, module, key in layer.slots("params"):
        assert module.grads.keys() == module.params.keys(), name
        num = eval_numerical_gradient_array(lambda _: layer.forward(x), module.params[key], dout)
        np.testing.assert_allclose(module.grads[key], num, rtol=1e-6, atol=1e-8, err_msg=name)


def test_dropout_backward_uses_the_forward_mask(rng):
    layer = nn.Dropout(0.4, rng=1)
    x = rng.standard_normal((5, 8))

    def forward(x):
        layer.buffers["rng_state"][1] = 0  # rewind: the same mask on every call
        return layer.forward(x)

    out = forward(x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, eval_numerical_gradient_array(forward, x, dout), atol=1e-8)


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
