"""``ChallengeNet``: the open-ended challenge network of seed 002, question 2 (Part V).

The seed's ``model_init_fn`` (after jariasf's), block by block::

    conv 32 3x3 'same'  - batch norm - ELU - dropout - max pool 2x2
    conv 64 3x3 'valid' - batch norm - ELU - dropout - max pool 2x2
    conv 128 3x3 'valid' - batch norm - ELU - dropout - average pool 5x5 (stride 1)
    flatten - dense 50 - dense 50 - dense 10

On 32 x 32 images: 32 -> 16 -> 14 -> 7 -> 5 -> 1, so 128 features reach the dense layers,
which have no activation between them (as in the seed). The convolutions keep their bias (the
``tf.layers.conv2d`` default) and draw their weights from ``variance_scaling_initializer(2.0)``;
the dense layers use ``glorot_uniform``, their default. Batch norm uses TensorFlow's eps 1e-3
and keeps 99 % of the running statistics per update (``momentum=0.99``, cnnlab's convention).

Dropout: the seed calls ``tf.layers.dropout(x)`` without ``training=``, which leaves dropout
off in training too, so ``dropout=0.0`` (no layer) is the seed's network; give 0.5 (the
function's default rate) for the network as it reads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnlab.nn import ELU, AvgPool2d, BatchNorm2d, Dropout, Flatten, Linear, MaxPool2d
from cnnlab.nn.summary import output_size

from ._stack import ConvStack
from .classifier import Classifier
from .keras_style import variance_scaling


class ChallengeNet(Classifier):
    """Seed 002's challenge network; registered as ``tf_challenge``.

    Args:
        input_dim: (C, H, W) of one image.
        widths: filters of the three convolutions (the seed's 32, 64, 128).
        hidden_dims: units of the dense layers before the scores (the seed's 50, 50).
        num_classes: number of class scores.
        dropout: drop probability after each ELU (0: no dropout layers, the seed's network).
        reg: L2 strength of the loss's weight penalty (see :class:`Classifier`).
        dtype: dtype of the parameters.
        seed: seed or Generator of the weights and dropout masks.

    Raises:
        ValueError: an input too small for the layers (it needs at least 32 x 32).
    """

    def __init__(
        self,
        input_dim: tuple[int, int, int] = (3, 32, 32),
        widths: Sequence[int] = (32, 64, 128),
        hidden_dims: Sequence[int] = (50, 50),
        num_classes: int = 10,
        dropout: float = 0.0,
        reg: float = 0.0,
        dtype: type = np.float32,
        seed: np.random.Generator | int | None = None,
    ) -> None:
        c, h, w = (int(d) for d in input_dim)
        if min(h, w) < 32:  # ((h // 2 - 2) // 2 - 2) must reach the 5 x 5 average pool
            raise ValueError(
                f"ChallengeNet: input {tuple(input_dim)} is too small; its pools and 'valid' "
                "convolutions need height and width >= 32"
            )
        stack = ConvStack(c, variance_scaling, dtype, seed)
        layers = stack.layers
        for i, width in enumerate(widths, start=1):
            stack.conv(f"conv{i}", width, 3, padding="same" if i == 1 else 0)
            layers[f"bn{i}"] = BatchNorm2d(width, eps=1e-3, momentum=0.99, dtype=dtype)
            layers[f"elu{i}"] = ELU()
            if dropout > 0:
                layers[f"dropout{i}"] = Dropout(dropout, rng=stack.rng.spawn(1)[0])
            layers[f"pool{i}"] = MaxPool2d(2) if i < len(widths) else AvgPool2d(5, stride=1)
        layers["flatten"] = Flatten()
        features = output_size(stack.net(), (c, h, w), dtype)
        dense = {**stack.kw, "weight_init": "xavier_uniform"}
        for j, hidden in enumerate([*hidden_dims, num_classes], start=1):
            layers[f"fc{j}"] = Linear(features, hidden, **dense)
            features = hidden
        super().__init__(stack.net(), reg=reg, dtype=dtype, input_shape=(c, h, w))
