"""Three-layer convolutional networks: CS231n's ``ThreeLayerConvNet`` and a TensorFlow variant.

The variant, ``TFThreeLayerConvNet``, is the TensorFlow notebook's network.
"""

from __future__ import annotations

import numpy as np

from cnnlab.nn import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from cnnlab.nn.init import as_generator
from cnnlab.nn.summary import output_size

from .classifier import Classifier


class ThreeLayerConvNet(Classifier):
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax (CS231n assignment 2).

    The convolution has ``num_filters`` filters of ``filter_size`` x ``filter_size``, stride 1
    and zero padding ``(filter_size - 1) // 2`` (so odd filters keep H and W); the pool halves H
    and W. Weights are ``weight_scale * N(0, 1)``, biases zero. Input (N, C, H, W).

    ``params``: W1 (F, C, fs, fs), b1 (F,), W2 (F * H/2 * W/2, hidden_dim), b2 (hidden_dim,),
    W3 (hidden_dim, num_classes), b3 (num_classes,) - the layers' own arrays.

    Args:
        input_dim: (C, H, W) of one image.
        num_filters: F, filters of the convolution.
        filter_size: the (odd) side of the square filters.
        hidden_dim: units of the hidden affine layer.
        num_classes: number of class scores.
        weight_scale: standard deviation of the normal weights.
        reg: L2 strength of the loss's weight penalty (see :class:`Classifier`).
        dtype: dtype of the parameters.
        seed: seed or Generator of the weights.
    """

    def __init__(
        self,
        input_dim: tuple[int, int, int] = (3, 32, 32),
        num_filters: int = 32,
        filter_size: int = 7,
        hidden_dim: int = 100,
        num_classes: int = 10,
        weight_scale: float = 1e-3,
        reg: float = 0.0,
        dtype: type = np.float32,
        seed: np.random.Generator | int | None = None,
    ) -> None:
        rng = as_generator(seed)
        c = input_dim[0]
        kw = {"weight_init": weight_scale, "dtype": dtype, "rng": rng}
        features = Sequential(
            {
                "conv": Conv2d(c, num_filters, filter_size, padding=(filter_size - 1) // 2, **kw),
                "relu1": ReLU(),
                "pool": MaxPool2d(2, stride=2),
            }
        )
        flat = output_size(features, input_dim, dtype)
        net = Sequential(
            {
                **dict(features.named_children()),
                "fc1": Linear(flat, hidden_dim, **kw),
                "relu2": ReLU(),
                "fc2": Linear(hidden_dim, num_classes, **kw),
            }
        )
        names = {
            "conv.weight": "W1",
            "conv.bias": "b1",
            "fc1.weight": "W2",
            "fc1.bias": "b2",
            "fc2.weight": "W3",
            "fc2.bias": "b3",
        }
        super().__init__(net, reg=reg, dtype=dtype, input_shape=input_dim, names=names)


class TFThreeLayerConvNet(Classifier):
    """The TensorFlow notebook's three-layer ConvNet (CS231n assignment 2, TensorFlow part).

    conv ``channel_1`` x 5x5, zero padding 2 - relu - conv ``channel_2`` x 3x3, zero padding 1
    - relu - flatten - fully connected to ``num_classes``. Weights are Kaiming-normal
    (``variance_scaling_initializer(scale=2)``: std ``sqrt(2 / fan_in)``), biases zero.
    Input (N, C, H, W); the fully-connected layer has ``channel_2 * H * W`` inputs.

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
        rng = as_generator(seed)
        c, h, w = input_dim
        kw = {"weight_init": "kaiming_normal", "dtype": dtype, "rng": rng}
        net = Sequential(
            {
                "conv1": Conv2d(c, channel_1, 5, padding=2, **kw),
                "relu1": ReLU(),
                "conv2": Conv2d(channel_1, channel_2, 3, padding=1, **kw),
                "relu2": ReLU(),
                "flatten": Flatten(),
                "fc": Linear(channel_2 * h * w, num_classes, **kw),
            }
        )
        super().__init__(net, reg=reg, dtype=dtype, input_shape=input_dim)
