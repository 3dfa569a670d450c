"""``MiniAlexNet``: the Keras practical's small AlexNet for CIFAR-10."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnlab.nn import BatchNorm2d, Dropout, Flatten, Linear, MaxPool2d, ReLU
from cnnlab.nn.init import Initializer
from cnnlab.nn.summary import output_size

from ._stack import ConvStack
from .classifier import Classifier


class MiniAlexNet(Classifier):
    """The Keras practical's small AlexNet: five 3x3 'same' convolutions, three pools, three FCs.

    Each convolution is followed by ReLU, a 3x3 max pool (stride 3) follows the first, the second
    and the fifth, then flatten - FC 1024 - relu - dropout 0.5 - FC 1024 - relu - FC.
    With ``batchnorm=True`` (the practical's task 2) each convolution ``conv<i>`` (then without
    a bias, which the normalisation would cancel) is followed by ``bn<i>``, a BatchNorm2d,
    before its ReLU.

    Defaults follow the practical: widths 48, 128, 192, 192, 128 on (3, 32, 32) inputs (spatial
    32 -> 10 -> 3 -> 1), Glorot-uniform weights and zero biases (Keras's defaults). ``dropout``
    is the drop probability (Keras ``rate``).

    Args:
        input_dim: (C, H, W) of one image.
        num_classes: number of class scores.
        widths: filters of the five convolutions.
        hidden_dims: units of the hidden FC layers.
        dropout: drop probability after the first hidden FC layer; 0 for none.
        pool_after: indices (from 0) of the convolutions followed by a max pool.
        batchnorm: batch normalisation between each convolution and its ReLU.
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
        widths: Sequence[int] = (48, 128, 192, 192, 128),
        hidden_dims: Sequence[int] = (1024, 1024),
        dropout: float = 0.5,
        pool_after: Sequence[int] = (0, 1, 4),
        batchnorm: bool = False,
        weight_init: str | float | Initializer = "xavier_uniform",
        reg: float = 0.0,
        dtype: type = np.float32,
        seed: np.random.Generator | int | None = None,
    ) -> None:
        stack = ConvStack(input_dim[0], weight_init, dtype, seed)
        layers = stack.layers
        for i, width in enumerate(widths, start=1):
            if batchnorm:
                stack.conv(f"conv{i}", width, 3, padding="same", bias=False)
                layers[f"bn{i}"] = BatchNorm2d(width, dtype=dtype)
                layers[f"relu{i}"] = ReLU()
            else:
                stack.conv_relu(i, width, 3, padding="same")
            if i - 1 in pool_after:
                layers[f"pool{i}"] = MaxPool2d(3)
        layers["flatten"] = Flatten()
        features = output_size(stack.net(), input_dim, dtype)
        for j, hidden in enumerate(hidden_dims, start=1):
            layers[f"fc{j}"] = Linear(features, hidden, **stack.kw)
            layers[f"fc{j}_relu"] = ReLU()
            if j == 1 and dropout > 0:
                layers["dropout"] = Dropout(dropout, rng=stack.rng.spawn(1)[0])
            features = hidden
        layers["out"] = Linear(features, num_classes, **stack.kw)
        super().__init__(stack.net(), reg=reg, dtype=dtype, input_shape=input_dim)
