"""Pooling layers: MaxPool2d, AvgPool2d, GlobalAvgPool2d."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnlab.functional import pool as P
from cnnlab.validation import nonnegative_pair, positive_pair

from .module import Module


class _Pool2d(Module):
    """Shared pooling window logic; ``_ops`` is the functional (forward, backward) pair."""

    _ops: tuple = ()

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = positive_pair(name, kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else positive_pair(name, stride, "stride")
        self.padding = nonnegative_pair(name, padding, "padding")
        self.ceil_mode = bool(ceil_mode)
        self._cache = None

    @property
    def pool_param(self) -> dict:
        """The functional op's ``pool_param``: window, stride, pad and ceil_mode."""
        return {
            "pool_height": self.kernel_size[0],
            "pool_width": self.kernel_size[1],
            "stride": self.stride,
            "pad": self.padding,
            "ceil_mode": self.ceil_mode,
        }

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Pool x (N, C, H, W) to (N, C, Ho, Wo)."""
        out, self._cache = self._ops[0](x, self.pool_param)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Gradient dx (N, C, H, W) from dout (N, C, Ho, Wo)."""
        return self._ops[1](dout, self._cache)

    def extra_repr(self) -> str:
        """Window, stride, padding and ceil_mode, for the module's repr."""
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"ceil_mode={self.ceil_mode}"
        )


class MaxPool2d(_Pool2d):
    """Max over (kernel) windows of x (N, C, H, W); stride defaults to the window (as Keras).

    Args:
        kernel_size: the window (HH, WW), or one int for both.
        stride: int or (h, w) pair; None for the window.
        padding: int or (h, w) pair, at most half the window.
        ceil_mode: round the output size up (PyTorch's rule).

    Raises:
        ValueError: a non-positive window or stride, or a negative padding.
    """

    _ops = (P.max_pool_forward, P.max_pool_backward)


class AvgPool2d(_Pool2d):
    """Mean over (kernel) windows of x (N, C, H, W); stride defaults to the window.

    Takes MaxPool2d's arguments and, as a keyword, ``count_include_pad`` (as in
    torch.nn.AvgPool2d): divide by the whole window, padding included (True), or only by the
    real pixels in it (False).

    Args:
        *args: MaxPool2d's arguments: kernel_size, the window (HH, WW) or one int for both;
            stride, an int or (h, w) pair, None for the window; padding, an int or (h, w)
            pair, at most half the window; ceil_mode, round the output size up.
        count_include_pad: divide by the whole window (True) or the real pixels (False).
        **kwargs: the same arguments of MaxPool2d by name.

    Raises:
        ValueError: a non-positive window or stride, or a negative padding.
    """

    _ops = (P.avg_pool_forward, P.avg_pool_backward)

    def __init__(self, *args: Any, count_include_pad: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count_include_pad = bool(count_include_pad)

    @property
    def pool_param(self) -> dict:
        """The functional op's ``pool_param``, with ``count_include_pad``."""
        return {**super().pool_param, "count_include_pad": self.count_include_pad}


class GlobalAvgPool2d(Module):
    """Mean over H and W: x (N, C, H, W) -> (N, C)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Average x (N, C, H, W) over H and W to (N, C)."""
        out, self._cache = P.global_avg_pool_forward(x)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Gradient dx (N, C, H, W) from dout (N, C), spread evenly over each channel's pixels."""
        return P.global_avg_pool_backward(dout, self._cache)
