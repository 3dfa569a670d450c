"""The TensorFlow notebook's Keras-style models (seed 002, Part III) as forward-only modules.

``TwoLayerFC`` and ``ThreeLayerConvNet`` define ``forward`` alone, as a ``tf.keras.Model``
defines ``call``; the tape supplies their backward pass (see :mod:`cnnlab.nn.module`). Their
layers are cnnlab's, so they take cnnlab's layouts: images (N, C, H, W), conv weights
(F, C, KH, KW), linear weights (in, out), and the flatten before a fully connected layer orders
the features (C, H, W). The notebook's Keras layers take (N, H, W, C) images, hold
(KH, KW, Cin, Cout) kernels and flatten in (H, W, C) order; the numbers of weights and the
computation are the same up to those permutations. Weights are drawn as the notebook's
``tf.variance_scaling_initializer(scale=2.0)`` (:func:`variance_scaling`), biases are zero (the
Keras defaults).

``KerasTwoLayerFC`` and ``KerasThreeLayerConvNet`` are the Classifiers wrapping them (the
registry's ``two_layer_fc`` and ``keras_three_layer``).
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Tensor
from cnnlab.autograd import functional as F
from cnnlab.nn import Conv2d, Linear, Module
from cnnlab.nn.init import as_generator, fans

from .classifier import Classifier

#: Standard deviation of N(0, 1) truncated to [-2, 2] (TensorFlow divides by it).
TRUNCATED_NORMAL_STD = 0.87962566103423978


def variance_scaling(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: type = np.float32, scale: float = 2.0
) -> np.ndarray:
    """TensorFlow 1.x's ``variance_scaling_initializer(scale)`` for cnnlab's weight layouts.

    TensorFlow's defaults are kept: mode 'fan_in', truncated normal. Draws N(0, 1) truncated to
    [-2, 2] (values outside are drawn again) and scales it by
    ``sqrt(scale / fan_in) / TRUNCATED_NORMAL_STD``, so the weights have standard deviation
    ``sqrt(scale / fan_in)``: Kaiming's for ``scale=2``.

    Args:
        shape: (D, M) or (F, C, KH, KW); fan_in is D or C * KH * KW.
        rng: the generator to draw from.
        dtype: dtype of the result.
        scale: the variance times fan_in.

    Returns:
        Array of ``shape`` and ``dtype``.

    Raises:
        ValueError: for a shape that is neither 2-D nor 4-D.
    """
    fan_in, _ = fans(shape)
    z = rng.standard_normal(shape)
    outside = np.abs(z) > 2.0
    while outside.any():
        z[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(z) > 2.0
    return (z * (np.sqrt(scale / fan_in) / TRUNCATED_NORMAL_STD)).astype(dtype)


class TwoLayerFC(Module):
    """flatten - dense ``hidden_size`` - relu - dense ``num_classes``, forward only.

    The notebook's ``TwoLayerFC(tf.keras.Model)``.

    Args:
        hidden_size: units of the hidden layer (the notebook trains 4000).
        num_classes: number of scores.
        input_dim: D, the number of features of one input after flattening (Keras infers it
            at the first call; cnnlab needs it up front); default 3 * 32 * 32.
        bias: give both dense layers a (zero) bias, as ``tf.layers.Dense`` does by default.
        dtype: dtype of the weights.
        seed: seed or generator of the weights.

    Input (N, d1, ..., dk) with d1 * ... * dk = input_dim; output scores (N, num_classes).
    """

    def __init__(
        self,
        hidden_size: int,
        num_classes: int,
        input_dim: int = 3 * 32 * 32,
        bias: bool = True,
        dtype: type = np.float32,
        seed: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__()
        kw = {"bias": bias, "weight_init": variance_scaling, "dtype": dtype}
        rng = as_generator(seed)
        self.fc1 = Linear(input_dim, hidden_size, rng=rng, **kw)
        self.fc2 = Linear(hidden_size, num_classes, rng=rng, **kw)

    def forward(self, x: Tensor) -> Tensor:
        """Scores (N, num_classes) from x (N, d1, ..., dk); the tape records the backward pass."""
        return self.fc2(F.relu(self.fc1(F.flatten(x))))


class ThreeLayerConvNet(Module):
    """The notebook's ``ThreeLayerConvNet(tf.keras.Model)``: two convolutions and a dense layer.

    conv ``channel_1`` 5x5 pad 2 - relu - conv ``channel_2`` 3x3 pad 1 - relu - flatten -
    dense ``num_classes``, forward only.

    Args:
        channel_1: filters of the first convolution.
        channel_2: filters of the second convolution.
        num_classes: number of scores.
        input_dim: (C, H, W) of one image; the dense layer has ``channel_2 * H * W`` inputs.
        dtype: dtype of the weights.
        seed: seed or generator of the weights.

    Input (N, C, H, W); output scores (N, num_classes). The parameters are named as in
    :class:`cnnlab.models.TFThreeLayerConvNet` (``conv1.weight``, ..., ``fc.bias``), whose
    explicit-backward network this is.
    """

    def __init__(
        self,
        channel_1: int,
        channel_2: int,
        num_classes: int,
        input_dim: tuple[int, int, int] = (3, 32, 32),
        dtype: type = np.float32,
        seed: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__()
        c, h, w = input_dim
        kw = {"weight_init": variance_scaling, "dtype": dtype, "rng": as_generator(seed)}
        self.conv1 = Conv2d(c, channel_1, 5, padding=2, **kw)
        self.conv2 = Conv2d(channel_1, channel_2, 3, padding=1, **kw)
        self.fc = Linear(channel_2 * h * w, num_classes, **kw)

    def forward(self, x: Tensor) -> Tensor:
        """Scores (N, num_classes) from x (N, C, H, W); the tape records the backward pass."""
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return self.fc(F.flatten(x))


class KerasTwoLayerFC(Classifier):
    """:class:`TwoLayerFC` as a Classifier (softmax loss); registered as ``two_layer_fc``.

    ``input_dim`` is the flat input size D; inputs (N, D) or images that flatten to D.
    The other arguments are :class:`TwoLayerFC`'s and the Classifier's.

    Args:
        input_dim: D, the number of features of one input.
        hidden_size: units of the hidden layer.
        num_classes: number of class scores.
        bias: give both dense layers a (zero) bias.
        reg: L2 strength of the loss's weight penalty (see :class:`Classifier`).
        dtype: dtype of the parameters.
        seed: seed or Generator of the weights.
    """

    def __init__(
        self,
        input_dim: int = 3 * 32 * 32,
        hidden_size: int = 4000,
        num_classes: int = 10,
        bias: bool = True,
        reg: float = 0.0,
        dtype: type = np.float32,
        seed: np.random.Generator | int | None = None,
    ) -> None:
        net = TwoLayerFC(hidden_size, num_classes, input_dim, bias, dtype, seed)
        super().__init__(net, reg=reg, dtype=dtype, input_shape=(input_dim,))


class KerasThreeLayerConvNet(Classifier):
    """:class:`ThreeLayerConvNet` as a Classifier (softmax loss), registry's ``keras_three_layer``.

    Input (N, C, H, W) with (C, H, W) = ``input_dim``.

    Args:
        input_dim: (C, H, W) of one image.
        channel_1: filters of the first convolution.
        channel_2: filters of the second convolution.
        num_classes: number of class scores.
        reg: L2 strength of the loss's weight penalty (see :class:`Classifier`).
        dtype: dtype of the parameters.
        seed: seed or Generator of the weights.
    """

    def __init__(
        self,
        input_dim: tuple[int, int, int] = (3, 32, 32),
        channel_1: int = 32,
        channel_2: int = 16,
        num_classes: int = 10,
        reg: float = 0.0,
        dtype: type = np.float32,
        seed: np.random.Generator | int | None = None,
    ) -> None:
        net = ThreeLayerConvNet(channel_1, channel_2, num_classes, tuple(input_dim), dtype, seed)
        super().__init__(net, reg=reg, dtype=dtype, input_shape=input_dim)
