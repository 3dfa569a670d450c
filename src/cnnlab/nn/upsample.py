"""Upsampling layer over :mod:`cnnlab.functional.upsample`."""

from __future__ import annotations

import numpy as np

from cnnlab.functional.upsample import (
    check_scale_factor,
    upsample_nearest_backward,
    upsample_nearest_forward,
)
from cnnlab.validation import check_choice

from .module import Module


class Upsample(Module):
    """Nearest-neighbour upsampling of x (N, C, H, W) to (N, C, k H, k W) by an integer k.

    The same as ``torch.nn.Upsample(scale_factor=k, mode="nearest")``.

    Args:
        scale_factor: the integer factor k >= 1 for both spatial axes.
        mode: only ``"nearest"``.

    Raises:
        ValueError: the scale factor is not a positive int, or mode is not ``"nearest"``.
    """

    def __init__(self, scale_factor: int, mode: str = "nearest") -> None:
        super().__init__()
        self.scale_factor = check_scale_factor("Upsample", scale_factor)
        self.mode = check_choice("Upsample", "mode", mode, ("nearest",))
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Repeat each pixel of x (N, C, H, W) into a k x k block: (N, C, k H, k W)."""
        out, self._cache = upsample_nearest_forward(x, self.scale_factor)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Gradient dx (N, C, H, W) from dout (N, C, k H, k W): each k x k block summed."""
        return upsample_nearest_backward(dout, self._cache)

    def extra_repr(self) -> str:
        """Scale factor and mode, for the module's repr."""
        return f"scale_factor={self.scale_factor}, mode={self.mode!r}"
