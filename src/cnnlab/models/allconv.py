"""``AllConvNet``: a fully convolutional network without pooling layers.

The practical's task 1, after Springenberg et al., "Striving for simplicity: the all
convolutional net".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnlab.nn import GlobalAvgPool2d
from cnnlab.nn.init import Initializer

from ._stack import ConvStack
from .classifier import Classifier


class AllConvNet(Classifier):
    """Convolutions only: downsampling is done by stride-2 convolutions instead of pools.

    For each width ``c`` in ``widths``: conv3x3(c, 'same') - relu - conv3x3(c, stride 2,
    pad 1) - relu (halving H and W). Then conv3x3(c_last, pad 1) - relu - conv1x1(c_last) -
    relu - conv1x1(num_classes), and the class maps are averaged over space (All-CNN-C's
    global averaging, no weights) to scores (N, num_classes). Kaiming-normal weights.

    Args:
        input_dim: (C, H, W) of one image.
        num_classes: number of class scores.
        widths: the width of each downsampling pair of convolutions.
        weight_init: initialiser name, float ``weight_scale`` or callable
            (:func:`cnnlab.nn.init.get_initializer`).
        reg: L2 strength of the loss's weight penalty (see :class:`Classifier`).
        dtype: dtype of the parameters.
        seed: seed or Generator of the weights.
    """

    def __init__(
        self,
        input_dim: tuple[int, int, int] = (3, 32, 32),
        num_classes: int = 10,
        widths: Sequence[int] = (48, 96),
        weight_init: str | float | Initializer = "kaiming_normal",
        reg: float = 0.0,
        dtype: type = np.float32,
        seed: np.random.Generator | int | None = None,
    ) -> None:
        stack = ConvStack(input_dim[0], weight_init, dtype, seed)
        for i, width in enumerate(widths, start=1):
            stack.conv_relu(f"{i}a", width, 3, padding=1)
            stack.conv_relu(f"{i}b", width, 3, stride=2, padding=1)
        stack.conv_relu("_top", stack.channels, 3, padding=1)
        stack.conv_relu("_1x1", stack.channels, 1)
        stack.conv("classes", num_classes, 1)
        stack.layers["gap"] = GlobalAvgPool2d()
        super().__init__(stack.net(), reg=reg, dtype=dtype, input_shape=input_dim)
