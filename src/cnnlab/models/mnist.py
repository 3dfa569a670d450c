"""``MNISTNet``: the small MNIST network of the NumPy-ops assignment (seed 004, 3.1.5)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnlab.nn import AvgPool2d, Conv2d, Flatten, ReLU, Sequential
from cnnlab.nn.init import Initializer, as_generator
from cnnlab.nn.summary import output_shape

from .classifier import Classifier


class MNISTNet(Classifier):
    """The small MNIST network: three 'valid' convolutions, each followed by a 2x2 average pool.

    conv5x5(16) - avgpool2 - relu - conv5x5(16) - avgpool2 - relu - conv3x3(10) - avgpool2 -
    softmax, all convolutions 'valid' (no padding), stride 1.

    On (1, 28, 28): 28 -> 24 -> 12 -> 8 -> 4 -> 2 -> 1, so the last pool leaves the 10 class
    scores. As in the assignment the convolutions have no bias and weights ``N(0, 0.1**2)``
    (``bias=True`` / ``weight_init`` change that).

    Args:
        input_dim: (C, H, W) of one image.
        num_classes: number of class scores.
        filters: filters of the first two convolutions.
        bias: give the convolutions a (zero) bias.
        weight_init: initialiser name, float ``weight_scale`` or callable
            (:func:`cnnlab.nn.init.get_initializer`).
        reg: L2 strength of the loss's weight penalty (see :class:`Classifier`).
        dtype: dtype of the parameters.
        seed: seed or Generator of the weights.

    Raises:
        ValueError: an input size whose last pool does not end at 1 x 1.
    """

    def __init__(
        self,
        input_dim: tuple[int, int, int] = (1, 28, 28),
        num_classes: int = 10,
        filters: Sequence[int] = (16, 16),
        bias: bool = False,
        weight_init: str | float | Initializer = 0.1,
        reg: float = 0.0,
        dtype: type = np.float32,
        seed: np.random.Generator | int | None = None,
    ) -> None:
        rng = as_generator(seed)
        kw = {"bias": bias, "weight_init": weight_init, "dtype": dtype, "rng": rng}
        f1, f2 = filters
        net = Sequential(
            {
                "conv1": Conv2d(input_dim[0], f1, 5, **kw),
                "pool1": AvgPool2d(2),
                "relu1": ReLU(),
                "conv2": Conv2d(f1, f2, 5, **kw),
                "pool2": AvgPool2d(2),
                "relu2": ReLU(),
                "conv3": Conv2d(f2, num_classes, 3, **kw),
                "pool3": AvgPool2d(2),
                "flatten": Flatten(),
            }
        )
        out = output_shape(net, input_dim, dtype)
        if out[1:] != (num_classes,):
            raise ValueError(
                f"MNISTNet: input {tuple(input_dim)} gives outputs {out[1:]}, not "
                f"({num_classes},) scores; the layout needs 28 x 28 inputs (or any size that "
                "ends at 1 x 1)"
            )
        super().__init__(net, reg=reg, dtype=dtype, input_shape=input_dim)
