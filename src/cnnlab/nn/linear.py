"""Fully-connected layer."""

from __future__ import annotations

import numpy as np

from cnnlab.functional.linear import affine_backward, affine_forward

from ._weighted import WeightBias
from .init import Initializer


class Linear(WeightBias):
    """``out = x.reshape(N, D) @ weight + bias``.

    ``weight`` is (in_features, out_features) - the CS231n ``affine`` layout, the transpose of
    ``torch.nn.Linear.weight``; ``bias`` is (out_features,). Input (N, d1, ..., dk) with
    ``d1 * ... * dk == in_features``; output (N, out_features).

    Args:
        in_features: D, the flattened input size.
        out_features: M, the output size.
        bias: whether to add a bias (False: none allocated).
        weight_init: initialiser name, float ``weight_scale`` or callable, as
            :func:`cnnlab.nn.init.get_initializer` takes.
        dtype: dtype of the parameters.
        rng: Generator or int seed for the weight draw; None for fresh entropy.
    """

    _ops = (affine_forward, affine_backward)

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        weight_init: str | float | Initializer = "kaiming_normal",
        dtype: type = np.float32,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        shape = (int(in_features), int(out_features))
        super().__init__(shape, shape[1] if bias else None, weight_init, dtype, rng)
        self.in_features, self.out_features = shape

    def extra_repr(self) -> str:
        """Sizes and bias, for the module's repr."""
        return f"{self.in_features}, {self.out_features}, bias={'bias' in self.params}"
