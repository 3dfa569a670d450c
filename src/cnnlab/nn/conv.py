"""2-D convolution layer."""

from __future__ import annotations

import numpy as np

from cnnlab.functional.conv import conv_backward, conv_forward
from cnnlab.validation import nonnegative_pair, positive_pair

from ._weighted import WeightBias
from .init import Initializer


def _same_padding(kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    """Padding that keeps H and W at stride 1 (odd effective kernels only)."""
    spans = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    if any(s % 2 for s in spans):
        raise ValueError(f"Conv2d: padding='same' needs an odd kernel, got kernel {kernel}")
    return spans[0] // 2, spans[1] // 2


class Conv2d(WeightBias):
    """Convolution of x (N, C, H, W) with ``weight`` (F, C, HH, WW) plus ``bias`` (F,).

    ``padding`` is an int, a pair, ``'valid'`` (0) or ``'same'`` (stride 1, odd kernel: output
    keeps H and W, like Keras's ``padding='same'``). Output (N, F, H', W') with PyTorch's size
    rule ``H' = (H + 2 pad - dilation (HH - 1) - 1) // stride + 1``.

    Args:
        in_channels: C.
        out_channels: F, the number of filters.
        kernel_size: (HH, WW), or one int for both.
        stride: int or (h, w) pair.
        padding: int, (h, w) pair, ``'valid'`` or ``'same'``.
        dilation: int or (h, w) pair.
        bias: whether to add a bias (False: none allocated, as ``bias=False`` in PyTorch).
        weight_init: initialiser name, float ``weight_scale`` or callable, as
            :func:`cnnlab.nn.init.get_initializer` takes.
        dtype: dtype of the parameters.
        rng: Generator or int seed for the weight draw; None for fresh entropy.

    Raises:
        ValueError: bad kernel, stride, padding or dilation, or ``'same'`` with a stride or an
            even effective kernel.
    """

    _ops = (conv_forward, conv_backward)

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
        kernel = positive_pair("Conv2d", kernel_size, "kernel_size")
        stride = positive_pair("Conv2d", stride, "stride")
        dilation = positive_pair("Conv2d", dilation, "dilation")
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"Conv2d: padding='same' needs stride 1, got {stride}")
            padding = _same_padding(kernel, dilation)
        elif padding == "valid":
            padding = 0
        padding = nonnegative_pair("Conv2d", padding, "padding")
        shape = (int(out_channels), int(in_channels), *kernel)
        super().__init__(shape, shape[0] if bias else None, weight_init, dtype, rng)
        self.out_channels, self.in_channels, self.kernel_size = shape[0], shape[1], kernel
        self.stride, self.dilation, self.padding = stride, dilation, padding

    @property
    def conv_param(self) -> dict[str, tuple[int, int]]:
        """The functional op's ``conv_param``: stride, pad and dilation as (h, w) pairs."""
        return {"stride": self.stride, "pad": self.padding, "dilation": self.dilation}

    def op_args(self) -> tuple[dict[str, tuple[int, int]]]:
        """The op's argument after ``(x, w, b)``: ``(conv_param,)``."""
        return (self.conv_param,)

    def extra_repr(self) -> str:
        """Channels, kernel, stride, padding, dilation and bias, for the module's repr."""
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
            f"bias={'bias' in self.params}"
        )
