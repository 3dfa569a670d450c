"""Element-wise activation layers over the ops in :mod:`cnnlab.functional.activation`."""

from __future__ import annotations

import numpy as np

from cnnlab.functional import activation as A

from .module import Module


class _Elementwise(Module):
    """An activation: ``_ops`` is the functional (forward, backward) pair.

    ``_kwargs`` holds the ops' keyword arguments. Input and output have the same shape.
    """

    _ops: tuple = ()

    def __init__(self, **kwargs: float) -> None:
        super().__init__()
        self._kwargs = kwargs
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Apply the activation to ``x`` (any shape); the output has the same shape."""
        out, self._cache = self._ops[0](x, **self._kwargs)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Gradient dx from dout, both shaped like the last forward input."""
        return self._ops[1](dout, self._cache)

    def extra_repr(self) -> str:
        """The keyword arguments, for the module's repr."""
        return ", ".join(f"{k}={v}" for k, v in self._kwargs.items())


class ReLU(_Elementwise):
    """Rectified linear unit, ``max(x, 0)``, element-wise on any shape."""

    _ops = (A.relu_forward, A.relu_backward)


class LeakyReLU(_Elementwise):
    """Leaky ReLU, ``x`` where ``x > 0`` else ``negative_slope * x``, element-wise on any shape.

    Args:
        negative_slope: the slope for negative inputs.
    """

    _ops = (A.leaky_relu_forward, A.leaky_relu_backward)

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__(negative_slope=negative_slope)


class ELU(_Elementwise):
    """ELU, ``x`` where ``x > 0`` else ``alpha * (exp(x) - 1)``, element-wise on any shape.

    Args:
        alpha: scale of the negative part; the output tends to ``-alpha`` as ``x -> -inf``.
    """

    _ops = (A.elu_forward, A.elu_backward)

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=alpha)


class Sigmoid(_Elementwise):
    """Logistic sigmoid, ``1 / (1 + exp(-x))``, element-wise on any shape."""

    _ops = (A.sigmoid_forward, A.sigmoid_backward)


class Tanh(_Elementwise):
    """Hyperbolic tangent, element-wise on any shape."""

    _ops = (A.tanh_forward, A.tanh_backward)
