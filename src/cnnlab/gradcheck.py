"""Numerical gradients by central differences, and the relative error used to compare them.

Every function perturbs the array ``x`` IN PLACE, one entry at a time, by ``+h`` and ``-h``,
calls ``f`` and puts the original value back (also when ``f`` raises), so ``x`` is unchanged
afterwards. ``f`` must therefore read ``x`` itself (the array object), not a copy made earlier.
Use float64 arrays: in float32 the difference quotient loses most of its digits.

:func:`check` does the same for any function written with :mod:`cnnlab.autograd` Tensors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def _central_difference(
    f: Callable[[np.ndarray], object], x: np.ndarray, ix: tuple[int, ...], h: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(f(x + h e_ix), f(x - h e_ix))``, copying array results, restoring ``x[ix]``."""
    old = x[ix]
    try:
        x[ix] = old + h
        plus = np.array(f(x), copy=True)
        x[ix] = old - h
        minus = np.array(f(x), copy=True)
    finally:
        x[ix] = old
    return plus, minus


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, verbose: bool = True, h: float = 1e-5
) -> np.ndarray:
    """Numerical gradient of a scalar function ``f`` at ``x``.

    Inputs:
    - f: takes the array ``x`` and returns a scalar
    - x: float array of any shape, the point to differentiate at (modified, then restored)
    - verbose: print each index and its gradient entry
    - h: step of the central difference ``(f(x + h) - f(x - h)) / (2 h)``

    Returns an array shaped like ``x``.
    """
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        plus, minus = _central_difference(f, x, ix, h)
        grad[ix] = (plus - minus) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Numerical gradient of ``sum(f(x) * df)`` for an array-valued ``f``.

    This is the gradient a layer's backward pass returns for upstream gradient ``df``.

    Inputs:
    - f: takes the array ``x`` and returns an array shaped like ``df``
    - x: float array of any shape (modified, then restored)
    - df: upstream gradient, shaped like ``f(x)``
    - h: step of the central difference

    Returns an array shaped like ``x``.
    """
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        plus, minus = _central_difference(f, x, ix, h)
        grad[ix] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def grad_check_sparse(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic_grad: np.ndarray,
    num_checks: int = 10,
    h: float = 1e-5,
    seed: int | None = None,
) -> np.ndarray:
    """Compare ``analytic_grad`` with central differences of ``f`` at a few random entries.

    Inputs:
    - f: takes the array ``x`` and returns a scalar
    - x: float array (modified, then restored)
    - analytic_grad: the gradient to check, shaped like ``x``
    - num_checks: number of random entries (drawn with replacement)
    - h: step of the central difference
    - seed: seeds the ``numpy.random.default_rng`` that picks the entries

    Prints one line per entry (numerical, analytic, relative error) and returns the relative
    errors, shape (num_checks,).
    """
    if analytic_grad.shape != x.shape:
        raise ValueError(
            f"grad_check_sparse: analytic_grad has shape {analytic_grad.shape} but x has shape"
            f" {x.shape}"
        )
    rng = np.random.default_rng(seed)
    errors = np.empty(num_checks)
    for k in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        plus, minus = _central_difference(f, x, ix, h)
        numerical = float((plus - minus) / (2 * h))
        analytic = float(analytic_grad[ix])
        errors[k] = abs(numerical - analytic) / max(abs(numerical) + abs(analytic), 1e-300)
        print(f"numerical: {numerical:f} analytic: {analytic:f}, relative error: {errors[k]:e}")
    return errors


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """Largest element-wise relative error ``|x - y| / max(1e-8, |x| + |y|)``."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


class GradcheckError(AssertionError):
    """Raised by :func:`check` when tape and numerical gradients disagree."""


def check(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check the tape gradients of ``fn`` against central differences.

    Like ``torch.autograd.gradcheck``.

    ``fn`` maps Tensors to a Tensor of any shape. The check reduces it to the scalar
    ``sum(fn(*inputs) * R)`` with fixed random weights R (a random vector-Jacobian product, which
    exercises every output entry), runs ``backward()`` once, and compares each input's gradient
    with central differences of that scalar, entry by entry:
    ``|tape - numerical| <= atol + rtol * |numerical|``.

    Args:
        fn: function of Tensors returning a Tensor.
        inputs: float64 arrays (checked; wrapped as leaf Tensors that alias them) or Tensors
            (checked when they require grad, else held constant).
        eps: step of the central difference.
        atol: absolute tolerance of the comparison.
        rtol: relative tolerance of the comparison.
        seed: seeds the weights R.

    Returns:
        True when every checked entry agrees.

    Raises:
        GradcheckError: naming the input, the worst entry and both values.
        ValueError: for an input that is not float64, or no input to check.
    """
    from cnnlab.autograd import Tensor, no_grad

    tensors = [x if isinstance(x, Tensor) else Tensor(x, requires_grad=True) for x in inputs]
    checked = [i for i, t in enumerate(tensors) if t.requires_grad]
    if not checked:
        raise ValueError("check: no input requires grad")
    for i in checked:
        if tensors[i].dtype != np.float64:
            raise ValueError(
                f"check: input {i} is {tensors[i].dtype}; numerical gradients need float64"
            )
        tensors[i].grad = None
    out = fn(*tensors)
    weights = np.random.default_rng(seed).normal(size=out.shape)
    (out * weights).sum().backward()

    def scalar(_: np.ndarray) -> float:
        with no_grad():
            return float(np.sum(fn(*tensors).data * weights))

    for i in checked:
        x = tensors[i].data
        tape = np.zeros_like(x) if tensors[i].grad is None else tensors[i].grad
        numerical = np.empty_like(x)
        for ix in np.ndindex(x.shape):
            plus, minus = _central_difference(scalar, x, ix, eps)
            numerical[ix] = (plus - minus) / (2 * eps)
        excess = np.abs(tape - numerical) - (atol + rtol * np.abs(numerical))
        if excess.size and excess.max() > 0:
            worst = tuple(int(k) for k in np.unravel_index(int(np.argmax(excess)), x.shape))
            raise GradcheckError(
                f"check: gradient of input {i} (shape {x.shape}) differs at {worst}: "
                f"tape {float(tape[worst])!r}, numerical {float(numerical[worst])!r} "
                f"(atol {atol}, rtol {rtol})"
            )
    return True
