"""Helpers shared by every op: parameter parsing, output sizes and input validation.

Every check raises ``ValueError`` whose message starts with the op's name and gives the shapes
involved, e.g. ``conv2d: input has 4 channels but the weights expect 3 (x (2, 4, 8, 8),
w (5, 3, 3, 3))``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def pair(value: Any, name: str, op: str) -> tuple[int, int]:
    """Turn an int or a pair of ints into ``(h, w)``; reject anything else."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) for v in value)
    ):
        return int(value[0]), int(value[1])
    raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")


def positive_pair(value: Any, name: str, op: str) -> tuple[int, int]:
    """Like :func:`pair` but every entry must be >= 1."""
    p = pair(value, name, op)
    if min(p) < 1:
        raise ValueError(f"{op}: {name} must be positive, got {value!r}")
    return p


def nonnegative_pair(value: Any, name: str, op: str) -> tuple[int, int]:
    """Like :func:`pair` but every entry must be >= 0."""
    p = pair(value, name, op)
    if min(p) < 0:
        raise ValueError(f"{op}: {name} must be non-negative, got {value!r}")
    return p


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


def check_ndim(x: np.ndarray, ndim: int, op: str, name: str = "input", layout: str = "") -> None:
    """Raise unless ``x`` is an array with ``ndim`` dimensions."""
    shape = getattr(x, "shape", None)
    if shape is None or len(shape) != ndim:
        got = "a non-array" if shape is None else f"shape {tuple(shape)}"
        want = f" {layout}" if layout else ""
        raise ValueError(f"{op}: {name} must be {ndim}-D{want}, got {got}")


def check_float(x: np.ndarray, op: str, name: str = "input") -> None:
    """Raise unless ``x`` holds floating-point numbers."""
    if not np.issubdtype(np.asarray(x).dtype, np.floating):
        raise ValueError(f"{op}: {name} must be a floating-point array, got dtype {x.dtype}")


def check_shape(x: np.ndarray, shape: tuple[int, ...], op: str, name: str) -> None:
    """Raise unless ``x.shape == shape``."""
    if tuple(np.shape(x)) != tuple(shape):
        raise ValueError(f"{op}: {name} must have shape {tuple(shape)}, got {tuple(np.shape(x))}")


def get_param(params: Mapping[str, Any] | None, key: str, default: Any, op: str) -> Any:
    """Read ``params[key]`` (a CS231n-style param dict), with ``default`` when absent."""
    if params is None:
        return default
    if not isinstance(params, Mapping):
        raise ValueError(f"{op}: parameters must be a dict, got {type(params).__name__}")
    return params.get(key, default)
