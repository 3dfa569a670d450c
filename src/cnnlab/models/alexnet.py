"""``MiniAlexNet``: the Keras practical's small AlexNet for CIFAR-10."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnlab.nn import Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential
from cnnlab.nn.init import Initializer, as_generator
from cnnlab.nn.summary import output_shape

from .classifier import Classifier


class MiniAlexNet(Classifier):
    """Five 3x3 'same' convolutions with ReLU, 3x3 max pools (stride 3) after the first, the
    second and the fifth, then flatten - FC 1024 - relu - dropout 0.5 - FC 1024 - relu - FC.

    Defaults follow the practical: widths 48, 128, 192, 192, 128 on (3, 32, 32) inputs (spatial
    32 -> 10 -> 3 -> 1), Glorot-uniform weights and zero biases (Keras's defaults). ``dropout``
    is the drop probability (Keras ``rate``).
    """

    def __init__(
        self,
        input_dim: tuple[int, int, int] = (3, 32, 32),
        num_classes: int = 10,
        widths: Sequence[int] = (48, 128, 192, 192, 128),
        hidden_dims: Sequence[int] = (1024, 1024),
        dropout: float = 0.5,
        pool_after: Sequence[int] = (0, 1, 4),
        weight_init: str | float | Initializer = "xavier_uniform",
        reg: float = 0.0,
        dtype: type = np.float32,
        seed: np.random.Generator | int | None = None,
    ) -> None:
        rng = as_generator(seed)
        kw = {"weight_init": weight_init, "dtype": dtype, "rng": rng}
        layers: dict = {}
        channels = input_dim[0]
        for i, width in enumerate(widths, start=1):
            layers[f"conv{i}"] = Conv2d(channels, width, 3, padding="same", **kw)
            layers[f"relu{i}"] = ReLU()
            if i - 1 in pool_after:
                layers[f"pool{i}"] = MaxPool2d(3)
            channels = width
        layers["flatten"] = Flatten()
        features = int(np.prod(output_shape(Sequential(layers), input_dim, dtype)[1:]))
        for j, hidden in enumerate(hidden_dims, start=1):
            layers[f"fc{j}"] = Linear(features, hidden, **kw)
            layers[f"fc{j}_relu"] = ReLU()
            if j == 1 and dropout > 0:
                layers["dropout"] = Dropout(dropout, rng=rng.spawn(1)[0])
            features = hidden
        layers["out"] = Linear(features, num_classes, **kw)
        super().__init__(Sequential(layers), reg=reg, dtype=dtype, input_shape=input_dim)
