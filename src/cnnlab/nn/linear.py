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
        return f"{self.in_features}, {self.out_features}, bias={'bias' in self.params}"
