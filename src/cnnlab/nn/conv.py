"""2-D convolution layer."""

from __future__ import annotations

import numpy as np

from cnnlab.functional._common import nonnegative_pair, positive_pair
from cnnlab.functional.conv import conv_backward, conv_forward

from .init import Initializer, as_generator, get_initializer
from .module import Module


def _same_padding(kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    """Padding that keeps H and W at stride 1 (odd effective kernels only)."""
    spans = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    if any(s % 2 for s in spans):
        raise ValueError(f"Conv2d: padding='same' needs an odd kernel, got kernel {kernel}")
    return spans[0] // 2, spans[1] // 2


class Conv2d(Module):
    """Convolution of x (N, C, H, W) with ``weight`` (F, C, HH, WW) plus ``bias`` (F,).

    ``padding`` is an int, a pair, ``'valid'`` (0) or ``'same'`` (stride 1, odd kernel: output
    keeps H and W, like Keras's ``padding='same'``). Output (N, F, H', W') with PyTorch's size
    rule ``H' = (H + 2 pad - dilation (HH - 1) - 1) // stride + 1``.
    """

    decay = ("weight",)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        bias: bool = True,
        weight_init: str | float | Initializer = "kaiming_normal",
        dtype: type = np.float32,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__()
        kernel = positive_pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = positive_pair(stride, "stride", "Conv2d")
        self.dilation = positive_pair(dilation, "dilation", "Conv2d")
        if padding == "same":
            if self.stride != (1, 1):
                raise ValueError(f"Conv2d: padding='same' needs stride 1, got {stride}")
            padding = _same_padding(kernel, self.dilation)
        elif padding == "valid":
            padding = 0
        self.padding = nonnegative_pair(padding, "padding", "Conv2d")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = kernel
        shape = (self.out_channels, self.in_channels, *kernel)
        self.params["weight"] = get_initializer(weight_init)(shape, as_generator(rng), dtype)
        if bias:
            self.params["bias"] = np.zeros(self.out_channels, dtype=dtype)
        self._cache = None

    @property
    def conv_param(self) -> dict[str, tuple[int, int]]:
        return {"stride": self.stride, "pad": self.padding, "dilation": self.dilation}

    def forward(self, x: np.ndarray) -> np.ndarray:
        w = self.params["weight"]
        b = self.params.get("bias")
        if b is None:
            b = np.zeros(w.shape[0], dtype=w.dtype)
        out, self._cache = conv_forward(x, w, b, self.conv_param)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dw, db = conv_backward(dout, self._cache)
        self.grads["weight"] = dw
        if "bias" in self.params:
            self.grads["bias"] = db
        return dx

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
            f"bias={'bias' in self.params}"
        )
