"""``SpatialSumNet``: seed 004's simple CIFAR-10 network (part 3.2), forward only.

The seed's TensorFlow graph, layer by layer::

    conv2d(x, 16, 5, strides=2, relu) - conv2d(16, 5, relu) - conv2d(32, 5, relu)
    - reduce_sum over height and width - dense(10)

All convolutions are 'valid' (TensorFlow's default padding). On the seed's 24 x 24 crops:
24 -> 10 -> 6 -> 2, and the sum over the 2 x 2 positions leaves 32 features. Weights are drawn
as ``tf.layers``' default ``glorot_uniform`` (cnnlab's ``xavier_uniform``), biases are zero.
"""

from __future__ import annotations

import numpy as np

from cnnlab.autograd import Tensor
from cnnlab.autograd import functional as F
from cnnlab.nn import Conv2d, Linear, Module
from cnnlab.nn.init import Initializer, as_generator

from .classifier import Classifier


class SpatialSum(Module):
    """Scores from convolutions: three 'valid' conv-relu layers, a sum over positions, dense.

    Args:
        in_channels: channels of the input images.
        widths: filters of the three convolutions (the seed's 16, 16, 32).
        num_classes: number of scores.
        weight_init: initialiser name, float scale or callable (``nn.init``).
        dtype: dtype of the weights.
        seed: seed or generator of the weights.

    Input (N, C, H, W); output scores (N, num_classes).
    """

    def __init__(
        self,
        in_channels: int,
        widths: tuple[int, int, int],
        num_classes: int,
        weight_init: str | float | Initializer = "xavier_uniform",
        dtype: type = np.float32,
        seed: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__()
        kw = {"weight_init": weight_init, "dtype": dtype, "rng": as_generator(seed)}
        w1, w2, w3 = widths
        self.conv1 = Conv2d(in_channels, w1, 5, stride=2, **kw)
        self.conv2 = Conv2d(w1, w2, 5, **kw)
        self.conv3 = Conv2d(w2, w3, 5, **kw)
        self.fc = Linear(w3, num_classes, **kw)

    def forward(self, x: Tensor) -> Tensor:
        """Scores (N, num_classes) from x (N, C, H, W); the tape records the backward pass."""
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        return self.fc(F.sum(x, axis=(2, 3)))


class SpatialSumNet(Classifier):
    """:class:`SpatialSum` as a Classifier (softmax loss); registered as ``spatial_sum``.

    Args:
        input_dim: (C, H, W) of one image: the seed's 24 x 24 crops (3, 24, 24). Any size
            that leaves at least one position after the three convolutions works (H, W >= 21).
        widths: filters of the three convolutions.
        num_classes: number of class scores.
        weight_init: initialiser of the weights (default TensorFlow's glorot uniform).
        reg: L2 strength of the loss's weight penalty (see :class:`Classifier`).
        dtype: dtype of the parameters.
        seed: seed or Generator of the weights.

    Raises:
        ValueError: an input too small for the three 5 x 5 convolutions.
    """

    def __init__(
        self,
        input_dim: tuple[int, int, int] = (3, 24, 24),
        widths: tuple[int, int, int] = (16, 16, 32),
        num_classes: int = 10,
        weight_init: str | float | Initializer = "xavier_uniform",
        reg: float = 0.0,
        dtype: type = np.float32,
        seed: np.random.Generator | int | None = None,
    ) -> None:
        c, h, w = (int(d) for d in input_dim)
        if min(h, w) < 21:  # 5x5 stride 2, then two 5x5: (h - 5) // 2 + 1 - 8 >= 1
            raise ValueError(
                f"SpatialSumNet: input {tuple(input_dim)} is too small for its three 5x5 "
                "convolutions (the first with stride 2); it needs height and width >= 21"
            )
        net = SpatialSum(c, tuple(widths), num_classes, weight_init, dtype, seed)
        super().__init__(net, reg=reg, dtype=dtype, input_shape=(c, h, w))
