"""Fully-connected layer and Flatten."""

from __future__ import annotations

import numpy as np

from cnnlab.functional.linear import affine_backward, affine_forward

from .init import Initializer, as_generator, get_initializer
from .module import Module


class Linear(Module):
    """``out = x.reshape(N, D) @ weight + bias``.

    ``weight`` is (in_features, out_features) - the CS231n ``affine`` layout, the transpose of
    ``torch.nn.Linear.weight``; ``bias`` is (out_features,). Input (N, d1, ..., dk) with
    ``d1 * ... * dk == in_features``; output (N, out_features).
    """

    decay = ("weight",)

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        weight_init: str | float | Initializer = "kaiming_normal",
        dtype: type = np.float32,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        shape = (self.in_features, self.out_features)
        self.params["weight"] = get_initializer(weight_init)(shape, as_generator(rng), dtype)
        if bias:
            self.params["bias"] = np.zeros(self.out_features, dtype=dtype)
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        w = self.params["weight"]
        b = self.params.get("bias")
        out, self._cache = affine_forward(x, w, np.zeros(w.shape[1], w.dtype) if b is None else b)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dw, db = affine_backward(dout, self._cache)
        self.grads["weight"] = dw
        if "bias" in self.params:
            self.grads["bias"] = db
        return dx

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={'bias' in self.params}"


class Flatten(Module):
    """(N, d1, ..., dk) -> (N, d1 * ... * dk)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        if np.ndim(x) < 1:
            raise ValueError(f"Flatten: input must have a batch dimension, got shape {np.shape(x)}")
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout.reshape(self._shape)
