"""Sliding-window geometry shared by convolution and pooling.

A 2-D sliding window is described by its kernel size, stride, zero padding, dilation and
rounding mode. :class:`Window2d` holds those numbers for one input size, validates them, computes
the output size with PyTorch's rule and hands out the strided slices that the naive loops and the
fast offset loops use:

* :meth:`Window2d.window` - the slice of one window (naive code: one output pixel at a time);
* :meth:`Window2d.offset` - for one offset ``(i, j)`` inside the kernel, the slice that picks that
  element of *every* window at once (fast code: one strided view per kernel offset).

Both index the *padded* input of shape ``(..., Hp + extra_h, Wp + extra_w)`` made by
:func:`pad_input`, where ``extra`` covers windows that stick out past the padding (ceil mode).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


def output_size(
    size: int, window: int, stride: int, pad_total: int, dilation: int = 1, ceil_mode: bool = False
) -> int:
    """Output length along one axis, PyTorch's rule.

    ``floor((size + pad_total - dilation * (window - 1) - 1) / stride) + 1``; with ``ceil_mode``
    the division rounds up, but (as in PyTorch) the last window must start inside the input or
    the left padding.
    """
    span = dilation * (window - 1) + 1
    room = size + pad_total - span
    if ceil_mode:
        out = -(-room // stride) + 1
        if (out - 1) * stride >= size + pad_total // 2:
            out -= 1
        return out
    return room // stride + 1


@dataclass(frozen=True)
class Window2d:
    """Geometry of a 2-D sliding window over an ``(H, W)`` input.

    Attributes are ``(h, w)`` pairs: ``size`` (input), ``kernel``, ``stride``, ``pad`` (on each
    side), ``dilation``, ``out`` (output size) and ``extra`` (rows/cols beyond the bottom/right
    padding that ceil-mode windows reach).
    """

    size: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    pad: tuple[int, int]
    dilation: tuple[int, int]
    out: tuple[int, int]
    extra: tuple[int, int]

    @classmethod
    def make(
        cls,
        op: str,
        size: tuple[int, int],
        kernel: tuple[int, int],
        stride: tuple[int, int],
        pad: tuple[int, int],
        dilation: tuple[int, int] = (1, 1),
        ceil_mode: bool = False,
        shapes: str = "",
    ) -> Window2d:
        """Validate the window against the input size and compute the output size.

        ``shapes`` is appended to the error message (e.g. ``"(x (2, 3, 4, 4), w (...))"``).
        Raises ``ValueError`` when the (dilated) window is larger than the padded input.
        """
        span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True))
        padded = tuple(s + 2 * p for s, p in zip(size, pad, strict=True))
        if span[0] > padded[0] or span[1] > padded[1]:
            raise ValueError(
                f"{op}: the {span[0]}x{span[1]} window (kernel {kernel[0]}x{kernel[1]}, "
                f"dilation {dilation[0]}x{dilation[1]}) is larger than the padded input "
                f"{padded[0]}x{padded[1]} (pad {pad}) {shapes}".rstrip()
            )
        out = tuple(
            output_size(s, k, st, 2 * p, d, ceil_mode)
            for s, k, st, p, d in zip(size, kernel, stride, pad, dilation, strict=True)
        )
        extra = tuple(
            max(0, (o - 1) * st + sp - pd)
            for o, st, sp, pd in zip(out, stride, span, padded, strict=True)
        )
        return cls(size, kernel, stride, pad, dilation, out, extra)  # type: ignore[arg-type]

    @property
    def padded(self) -> tuple[int, int]:
        """Size of the padded input, ``(H + 2 ph + extra_h, W + 2 pw + extra_w)``."""
        return (
            self.size[0] + 2 * self.pad[0] + self.extra[0],
            self.size[1] + 2 * self.pad[1] + self.extra[1],
        )

    def offsets(self) -> Iterator[tuple[int, int]]:
        """Kernel offsets ``(i, j)`` in row-major order."""
        for i in range(self.kernel[0]):
            for j in range(self.kernel[1]):
                yield i, j

    def window(self, r: int, c: int) -> tuple[slice, slice]:
        """Slices of the padded input covering the window of output pixel ``(r, c)``."""
        (sh, sw), (dh, dw), (kh, kw) = self.stride, self.dilation, self.kernel
        return (
            slice(r * sh, r * sh + dh * (kh - 1) + 1, dh),
            slice(c * sw, c * sw + dw * (kw - 1) + 1, dw),
        )

    def offset(self, i: int, j: int) -> tuple[slice, slice]:
        """Slices of the padded input picking kernel element ``(i, j)`` of every window.

        The view has the output's spatial size ``out``.
        """
        (sh, sw), (dh, dw), (ho, wo) = self.stride, self.dilation, self.out
        return (
            slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (wo - 1) + 1, sw),
        )

    def interior(self) -> tuple[slice, slice]:
        """Slices of the padded input that hold the original input."""
        (ph, pw), (h, w) = self.pad, self.size
        return slice(ph, ph + h), slice(pw, pw + w)


def pad_input(x: np.ndarray, geom: Window2d, value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of ``x`` as ``geom`` says (``geom.padded``), filling with ``value``.

    Returns ``x`` itself when no padding is needed.
    """
    if geom.padded == geom.size:
        return x
    xp = np.full((*x.shape[:-2], *geom.padded), value, dtype=x.dtype)
    xp[(..., *geom.interior())] = x
    return xp


def unpad(dxp: np.ndarray, geom: Window2d) -> np.ndarray:
    """Inverse of :func:`pad_input` for gradients: the interior of ``dxp`` (a copy if padded)."""
    if geom.padded == geom.size:
        return dxp
    return np.ascontiguousarray(dxp[(..., *geom.interior())])
