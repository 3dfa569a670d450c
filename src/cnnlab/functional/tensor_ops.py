"""The small ops a forward pass is written with, as forward/backward pairs.

Same contract as every other op: ``out, cache = <op>_forward(...)`` and
``grads = <op>_backward(dout, cache)``, one gradient per array input (a tuple when there are
several). These are the steps :mod:`cnnlab.autograd` records for ``+ - * / @``, ``sum``,
``mean``, ``reshape``, ``transpose``, indexing, ``exp``, ``log``, ``maximum``, ``**`` and
concatenation; their maths lives here and nowhere else.

Binary element-wise ops broadcast as NumPy does. Their backward passes return gradients with the
shapes of the inputs: :func:`unbroadcast` sums the upstream gradient over the axes broadcasting
stretched. Gradients may share memory with ``dout`` (add passes it through unchanged), so treat
them as read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

Shape = tuple[int, ...]


def _broadcast(op: str, a: np.ndarray, b: np.ndarray) -> Shape:
    """The broadcast shape of ``a`` and ``b``, or ValueError naming ``op`` and the shapes."""
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} do not broadcast") from None


def unbroadcast(grad: np.ndarray, shape: Shape) -> np.ndarray:
    """Sum ``grad`` (broadcast shape) down to ``shape``, the shape of one broadcast input.

    Leading axes that broadcasting added are summed away; axes where ``shape`` has size 1 and
    ``grad`` does not are summed with the axis kept. Returns ``grad`` itself when the shapes
    already agree.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(axis=tuple(range(lead)) + stretched).reshape(shape)


# --- element-wise arithmetic -----------------------------------------------------------------


def add_forward(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple[Shape, Shape]]:
    """``a + b`` with broadcasting; cache: the two input shapes."""
    _broadcast("add", a, b)
    return a + b, (a.shape, b.shape)


def add_backward(dout: np.ndarray, cache: tuple[Shape, Shape]) -> tuple[np.ndarray, np.ndarray]:
    """Gradients ``(da, db)`` of ``a + b``: ``dout`` summed to each input's shape."""
    a_shape, b_shape = cache
    return unbroadcast(dout, a_shape), unbroadcast(dout, b_shape)


def sub_forward(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple[Shape, Shape]]:
    """``a - b`` with broadcasting; cache: the two input shapes."""
    _broadcast("sub", a, b)
    return a - b, (a.shape, b.shape)


def sub_backward(dout: np.ndarray, cache: tuple[Shape, Shape]) -> tuple[np.ndarray, np.ndarray]:
    """Gradients ``(da, db)`` of ``a - b``: ``dout`` and ``-dout``, summed to the shapes."""
    a_shape, b_shape = cache
    return unbroadcast(dout, a_shape), unbroadcast(-dout, b_shape)


def mul_forward(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """``a * b`` element-wise with broadcasting; cache ``(a, b)``."""
    _broadcast("mul", a, b)
    return a * b, (a, b)


def mul_backward(
    dout: np.ndarray, cache: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients ``(dout * b, dout * a)``, each summed to its input's shape."""
    a, b = cache
    return unbroadcast(dout * b, a.shape), unbroadcast(dout * a, b.shape)


def div_forward(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """``a / b`` element-wise with broadcasting; cache ``(a shape, b, out)``."""
    _broadcast("div", a, b)
    out = a / b
    return out, (a.shape, b, out)


def div_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of ``a / b``: ``da = dout / b`` and ``db = -dout a / b**2 = -da * out``."""
    a_shape, b, out = cache
    da = dout / b
    return unbroadcast(da, a_shape), unbroadcast(-da * out, b.shape)


def neg_forward(x: np.ndarray) -> tuple[np.ndarray, None]:
    """``-x``; no cache."""
    return -x, None


def neg_backward(dout: np.ndarray, cache: None) -> np.ndarray:
    """Gradient of ``-x``: ``-dout``."""
    return -dout


def pow_forward(x: np.ndarray, exponent: float) -> tuple[np.ndarray, tuple[np.ndarray, float]]:
    """``x ** exponent`` for a constant (Python or NumPy) scalar exponent; cache ``(x, exponent)``.

    Raises:
        ValueError: if ``exponent`` is not a scalar.
    """
    if np.ndim(exponent) != 0:
        raise ValueError(f"pow: the exponent must be a scalar, got shape {np.shape(exponent)}")
    return x**exponent, (x, exponent)


def pow_backward(dout: np.ndarray, cache: tuple[np.ndarray, float]) -> np.ndarray:
    """Gradient of ``x ** p``: ``dout * p * x ** (p - 1)``."""
    x, exponent = cache
    return dout * (exponent * x ** (exponent - 1))


def exp_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``exp(x)``; cache: the output, which is also the derivative."""
    out = np.exp(x)
    return out, out


def exp_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Gradient of ``exp(x)``: ``dout * exp(x)``."""
    return dout * cache


def log_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Natural logarithm ``log(x)`` (NaN / -inf outside x > 0, as NumPy); cache ``x``."""
    return np.log(x), x


def log_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Gradient of ``log(x)``: ``dout / x``."""
    return dout / cache


def maximum_forward(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Element-wise ``maximum(a, b)`` with broadcasting; cache ``(a shape, b shape, weight)``.

    ``weight`` is the share of the gradient that goes to ``a``: 1 where ``a > b``, 0 where
    ``a < b`` and 1/2 at ties (split evenly, as PyTorch does), so ``maximum(x, x)`` has
    gradient 1.
    """
    _broadcast("maximum", a, b)
    out = np.maximum(a, b)
    dtype = np.result_type(a, b)
    weight = (a > b).astype(dtype) + (a == b).astype(dtype) * dtype.type(0.5)
    return out, (a.shape, b.shape, weight)


def maximum_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Gradients ``(dout * weight, dout * (1 - weight))`` summed to the input shapes."""
    a_shape, b_shape, weight = cache
    da = dout * weight
    return unbroadcast(da, a_shape), unbroadcast(dout - da, b_shape)


# --- linear algebra and reductions -----------------------------------------------------------


def matmul_forward(
    a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Matrix product ``a @ b`` of a (..., n, k) and b (..., k, m) -> (..., n, m).

    Both inputs need at least 2 dimensions; leading (batch) dimensions broadcast.

    Raises:
        ValueError: naming the shapes, for 0-D/1-D inputs, inner sizes that differ or batch
            shapes that do not broadcast.
    """
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"matmul: inputs must be at least 2-D, got shapes {a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"matmul: inner sizes differ: {a.shape} @ {b.shape} ({a.shape[-1]} != {b.shape[-2]})"
        )
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: batch shapes of {a.shape} and {b.shape} do not broadcast"
        ) from None
    return a @ b, (a, b)


def matmul_backward(
    dout: np.ndarray, cache: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of ``a @ b``: ``(dout @ b^T, a^T @ dout)``, summed over broadcast batch axes."""
    a, b = cache
    da = dout @ np.swapaxes(b, -1, -2)
    db = np.swapaxes(a, -1, -2) @ dout
    return unbroadcast(da, a.shape), unbroadcast(db, b.shape)


Axis = int | tuple[int, ...] | None


def _axes(op: str, shape: Shape, axis: Axis) -> tuple[int, ...]:
    """``axis`` as a tuple of non-negative axes of ``shape`` (all of them for None)."""
    if axis is None:
        return tuple(range(len(shape)))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    try:
        normal = tuple(normalize_axis_index(int(a), len(shape)) for a in axes)
    except (np.exceptions.AxisError, TypeError):
        raise ValueError(f"{op}: axis {axis!r} is invalid for shape {shape}") from None
    if len(set(normal)) != len(normal):
        raise ValueError(f"{op}: repeated axis in {axis!r} for shape {shape}")
    return normal


def _spread(dout: np.ndarray, shape: Shape, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """``dout`` of a reduction over ``axes`` copied back out to the input ``shape``."""
    if not keepdims:
        dout = np.expand_dims(dout, axes)
    grad = np.empty(shape, dtype=dout.dtype)
    grad[...] = dout
    return grad


def sum_forward(
    x: np.ndarray, axis: Axis = None, keepdims: bool = False
) -> tuple[np.ndarray, tuple]:
    """Sum of ``x`` over ``axis`` (an int, a tuple or None for all); cache for the backward."""
    axes = _axes("sum", x.shape, axis)
    return np.sum(x, axis=axes, keepdims=keepdims), (x.shape, axes, keepdims)


def sum_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of a sum: ``dout`` copied to every summed position (shape of ``x``)."""
    shape, axes, keepdims = cache
    return _spread(dout, shape, axes, keepdims)


def mean_forward(
    x: np.ndarray, axis: Axis = None, keepdims: bool = False
) -> tuple[np.ndarray, tuple]:
    """Mean of ``x`` over ``axis`` (an int, a tuple or None for all); cache for the backward.

    Raises:
        ValueError: when the reduced axes are empty (the mean of nothing).
    """
    axes = _axes("mean", x.shape, axis)
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    if count == 0:
        raise ValueError(f"mean: no elements to average over axis {axis!r} of shape {x.shape}")
    return np.mean(x, axis=axes, keepdims=keepdims), (x.shape, axes, keepdims, count)


def mean_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of a mean: ``dout / count`` copied to every averaged position."""
    shape, axes, keepdims, count = cache
    return _spread(dout / dout.dtype.type(count), shape, axes, keepdims)


# --- shapes and selection --------------------------------------------------------------------


def reshape_forward(x: np.ndarray, shape: Sequence[int]) -> tuple[np.ndarray, Shape]:
    """``x`` viewed with a new ``shape`` (one entry may be -1); cache: the old shape.

    Raises:
        ValueError: when the sizes do not match.
    """
    try:
        return x.reshape(shape), x.shape
    except (ValueError, TypeError):
        raise ValueError(f"reshape: cannot reshape {x.shape} to {tuple(shape)}") from None


def reshape_backward(dout: np.ndarray, cache: Shape) -> np.ndarray:
    """Gradient of a reshape: ``dout`` reshaped back to the input's shape."""
    return dout.reshape(cache)


def transpose_forward(
    x: np.ndarray, axes: Sequence[int] | None = None
) -> tuple[np.ndarray, tuple[int, ...]]:
    """``x`` with its axes permuted (reversed for None); cache: the permutation.

    Raises:
        ValueError: if ``axes`` is not a permutation of ``range(x.ndim)``.
    """
    if axes is None:
        perm = tuple(range(x.ndim))[::-1]
    else:
        perm = _axes("transpose", x.shape, tuple(axes))
    if len(perm) != x.ndim:
        raise ValueError(f"transpose: axes {axes!r} are not a permutation for shape {x.shape}")
    return x.transpose(perm), perm


def transpose_backward(dout: np.ndarray, cache: tuple[int, ...]) -> np.ndarray:
    """Gradient of a transpose: ``dout`` with the inverse permutation."""
    return dout.transpose(np.argsort(cache))


def _is_basic(index: Any) -> bool:
    """True for basic indexing (ints, slices, None, Ellipsis): no position is selected twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts)


def getitem_forward(x: np.ndarray, index: Any) -> tuple[np.ndarray, tuple]:
    """``x[index]`` with NumPy's indexing (slices, ints, integer or boolean arrays).

    Raises:
        IndexError: naming the op, the shape and the index, for an index out of range.
    """
    try:
        out = x[index]
    except IndexError as err:
        raise IndexError(f"getitem: {err} (x {x.shape}, index {index!r})") from None
    return out, (x.shape, x.dtype, index)


def getitem_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of ``x[index]``: zeros of x's shape with ``dout`` added at the selected positions.

    Repeated positions of an integer-array index add up.
    """
    shape, dtype, index = cache
    grad = np.zeros(shape, dtype=np.result_type(dtype, dout))
    if _is_basic(index):
        grad[index] = dout
    else:
        np.add.at(grad, index, dout)
    return grad


def concatenate_forward(xs: Sequence[np.ndarray], axis: int = 0) -> tuple[np.ndarray, tuple]:
    """Join arrays of equal shape (except along ``axis``) along ``axis``.

    Raises:
        ValueError: naming every shape, for no arrays, different ranks or sizes off ``axis``.
    """
    shapes = [x.shape for x in xs]
    if not xs:
        raise ValueError("concatenate: needs at least one array")
    ndim = xs[0].ndim
    if ndim == 0 or any(x.ndim != ndim for x in xs):
        raise ValueError(f"concatenate: arrays must have the same rank >= 1, got shapes {shapes}")
    ax = _axes("concatenate", xs[0].shape, axis)[0]
    others = {s[:ax] + s[ax + 1 :] for s in shapes}
    if len(others) != 1:
        raise ValueError(
            f"concatenate: shapes {shapes} differ in sizes other than along axis {axis}"
        )
    return np.concatenate(xs, axis=ax), (ax, [s[ax] for s in shapes])


def concatenate_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Gradients of a concatenation: ``dout`` split back into the inputs' pieces."""
    axis, sizes = cache
    return tuple(np.split(dout, np.cumsum(sizes)[:-1], axis=axis))
