"""layer_activations: running part of a Sequential on one image."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import nn
from cnnlab.viz.features import layer_activations


def make_net() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, dtype=np.float64, rng=0),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.MaxPool2d(2),
        nn.Flatten(),
    )


def test_activations_equal_the_layers_applied_by_hand(rng: np.random.Generator) -> None:
    net = make_net()
    image = rng.standard_normal((3, 6, 6))
    conv = net[0]
    by_hand = np.maximum(conv.forward(image[None]), 0)[0]
    np.testing.assert_array_equal(layer_activations(net, image, 1), by_hand)
    np.testing.assert_array_equal(layer_activations(net, image[None], -4), by_hand)


def test_dropout_is_off_and_the_mode_is_restored(rng: np.random.Generator) -> None:
    net = make_net()
    image = rng.standard_normal((1, 3, 6, 6))
    relu_out = layer_activations(net, image, 1)
    np.testing.assert_array_equal(layer_activations(net, image, 2), relu_out)  # eval: identity
    assert net.training and net[2].training
    net.eval()
    layer_activations(net, image, 0)
    assert not net.training


def test_bad_layer_and_shapes(rng: np.random.Generator) -> None:
    net = make_net()
    image = rng.standard_normal((3, 6, 6))
    with pytest.raises(ValueError, match=r"layer_activations: layer 5 out of range .* 5 layers"):
        layer_activations(net, image, 5)
    with pytest.raises(
        ValueError,
        match=r"layer_activations: layer 4 \(Flatten\) gives shape "
        r"\(1, 36\)",
    ):
        layer_activations(net, image, 4)
    with pytest.raises(ValueError, match=r"layer_activations: image must be .* got \(2, 3, 6, 6\)"):
        layer_activations(net, np.zeros((2, 3, 6, 6)), 0)
