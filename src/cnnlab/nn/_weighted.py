"""The base of the layers with a weight and an optional bias (Linear, Conv2d)."""

from __future__ import annotations

import numpy as np

from .init import Initializer, as_generator, get_initializer
from .module import Module


class WeightBias(Module):
    """A layer computing ``op(x, weight, bias, *op_args)`` with a functional op pair.

    Subclasses set ``_ops`` (the functional forward and backward, which take ``b=None`` and
    then return ``db=None``), call ``super().__init__`` with the weight's shape and may
    override :meth:`op_args`.
    Without a bias the op gets ``b=None``: no zero bias is allocated, no gradient computed.
    """

    decay = ("weight",)
    _ops: tuple = ()

    def __init__(
        self,
        shape: tuple[int, ...],
        bias_size: int | None,
        weight_init: str | float | Initializer,
        dtype: type,
        rng: np.random.Generator | int | None,
    ) -> None:
        """Draw ``weight`` (shape) with ``weight_init``; zero ``bias`` (bias_size,) unless None."""
        super().__init__()
        self.params["weight"] = get_initializer(weight_init)(shape, as_generator(rng), dtype)
        if bias_size is not None:
            self.params["bias"] = np.zeros(bias_size, dtype=dtype)
        self._cache = None

    def op_args(self) -> tuple:
        """Arguments the op takes after ``(x, w, b)`` (e.g. the ``conv_param``)."""
        return ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The op's forward pass on ``x`` with this layer's weight and bias."""
        w, b = self.params["weight"], self.params.get("bias")
        out, self._cache = self._ops[0](x, w, b, *self.op_args())
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """The op's backward pass: stores the weight and bias gradients, returns dx.

        dx is None, and not computed, when ``input_grad`` is False.
        """
        dx, self.grads["weight"], db = self._ops[1](dout, self._cache, need_dx=self.input_grad)
        if db is not None:
            self.grads["bias"] = db
        return dx
