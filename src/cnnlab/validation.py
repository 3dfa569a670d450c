"""Input checks for every op, layer, model and helper of cnnlab, in one place.

Modelled on scikit-learn's ``utils.validation``: small functions that check one thing at the
boundary and raise ``ValueError``. Every check takes the name of the op (or layer, or function)
first, and its message starts with that name and gives the shapes involved, e.g.
``conv2d: input has 4 channels but the weights expect 3 (x (2, 4, 8, 8), w (5, 3, 3, 3))``.

This module imports only NumPy and the standard library, so any layer of the package can use it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

# NumPy arrays and NumPy scalars (what operations on 0-d arrays return) both count as arrays.
_ARRAYS = (np.ndarray, np.generic)


def _what(x: Any) -> str:
    """``shape (2, 3)`` for an array, the type's name for anything else."""
    if isinstance(x, _ARRAYS):
        return f"shape {x.shape}"
    return type(x).__name__


def check_array(op: str, x: Any, name: str = "input") -> np.ndarray:
    """Raise unless ``x`` is a NumPy array (or NumPy scalar); return it.

    Raises:
        ValueError: ``<op>: <name> must be a NumPy array, got <type>``.
    """
    if not isinstance(x, _ARRAYS):
        raise ValueError(f"{op}: {name} must be a NumPy array, got {type(x).__name__}")
    return x


def check_float(op: str, x: Any, name: str = "input") -> np.ndarray:
    """Raise unless ``x`` is an array of floating-point numbers (any shape); return it.

    Raises:
        ValueError: ``<op>: <name> must be a floating-point array, got dtype <dtype>`` (or the
            type of a non-array).
    """
    if not isinstance(x, _ARRAYS):
        raise ValueError(f"{op}: {name} must be a floating-point array, got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{op}: {name} must be a floating-point array, got dtype {x.dtype}")
    return x


def check_ndim(op: str, x: Any, ndim: int, name: str = "input", layout: str = "") -> np.ndarray:
    """Raise unless ``x`` is an array with ``ndim`` dimensions; return it.

    Args:
        op: the op's name, first word of the message.
        x: the array to check.
        ndim: the number of dimensions it must have.
        name: what ``x`` is called in the message.
        layout: the expected axes, e.g. ``"(N, C, H, W)"``, added to the message.

    Raises:
        ValueError: ``<op>: <name> must be <ndim>-D <layout>, got shape <shape>``.
    """
    if not isinstance(x, _ARRAYS) or x.ndim != ndim:
        want = f" {layout}" if layout else ""
        raise ValueError(f"{op}: {name} must be {ndim}-D{want}, got {_what(x)}")
    return x


def check_batch_axis(op: str, x: Any, name: str = "x") -> np.ndarray:
    """Raise unless ``x`` is an array with at least one axis (the batch axis N); return it.

    Raises:
        ValueError: ``<op>: <name> must have a batch dimension, got shape ()``.
    """
    if not isinstance(x, _ARRAYS) or x.ndim < 1:
        raise ValueError(f"{op}: {name} must have a batch dimension, got {_what(x)}")
    return x


def check_shape(op: str, x: Any, shape: Sequence[int], name: str) -> np.ndarray:
    """Raise unless ``x`` is an array of exactly ``shape``; return it.

    Raises:
        ValueError: ``<op>: <name> must have shape <shape>, got <shape of x>``.
    """
    shape = tuple(shape)
    if not isinstance(x, _ARRAYS) or x.shape != shape:
        got = x.shape if isinstance(x, _ARRAYS) else type(x).__name__
        raise ValueError(f"{op}: {name} must have shape {shape}, got {got}")
    return x


def check_dout(
    op: str, dout: Any, shape: Sequence[int], dtype: np.dtype | None = None
) -> np.ndarray:
    """Check the upstream gradient of a backward pass against the forward output.

    Args:
        op: the op's name.
        dout: the gradient of the loss with respect to the op's output.
        shape: the shape of the forward output.
        dtype: when given, ``dout`` is cast to it (float32 ops stay float32).

    Returns:
        ``dout`` (cast to ``dtype`` when given).

    Raises:
        ValueError: ``dout`` is not a floating-point array of ``shape``.
    """
    check_float(op, dout, "dout")
    check_shape(op, dout, shape, "dout")
    return dout if dtype is None else dout.astype(dtype, copy=False)


def check_cache(op: str, cache: Any, kind: type | tuple[type, ...]) -> Any:
    """Raise unless ``cache`` is what the op's forward pass returns (an instance of ``kind``).

    Raises:
        ValueError: ``<op>: cache must be the one its forward pass returned (<kind>), got
            <type>``.
    """
    if not isinstance(cache, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        names = " or ".join(k.__name__ for k in kinds)
        raise ValueError(
            f"{op}: cache must be the one its forward pass returned ({names}), got "
            f"{type(cache).__name__}"
        )
    return cache


def check_params(
    op: str, params: Mapping[str, Any] | None, name: str, allowed: Collection[str]
) -> Mapping[str, Any]:
    """Check a CS231n-style parameter dict (``conv_param``, ``pool_param``, ``bn_param`` ...).

    Args:
        op: the op's name.
        params: the dict, or None for all defaults.
        name: what the dict is called, e.g. ``"conv_param"``.
        allowed: the keys the op understands.

    Returns:
        ``params`` itself (ops that write back, such as batchnorm, keep the caller's dict), or an
        empty dict for None.

    Raises:
        ValueError: ``params`` is not a dict, or holds a key outside ``allowed`` (a typo such as
            ``{"strides": 2}`` would otherwise be ignored silently).
    """
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise ValueError(f"{op}: {name} must be a dict, got {type(params).__name__}")
    unknown = sorted(str(key) for key in params if key not in allowed)
    if unknown:
        raise ValueError(
            f"{op}: unknown {name} key(s) {unknown}; the allowed keys are {sorted(allowed)}"
        )
    return params


def _is_int(value: Any) -> bool:
    """Whether ``value`` is a Python or NumPy integer (booleans are not)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def pair(op: str, value: Any, name: str) -> tuple[int, int]:
    """Turn an int or a pair of ints into ``(h, w)``.

    Raises:
        ValueError: ``<op>: <name> must be an int or a pair of ints, got <value>``.
    """
    if _is_int(value):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(map(_is_int, value)):
        return int(value[0]), int(value[1])
    raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")


def positive_pair(op: str, value: Any, name: str) -> tuple[int, int]:
    """Like :func:`pair`, and every entry must be >= 1.

    Raises:
        ValueError: ``<op>: <name> must be positive, got <value>`` (or as :func:`pair`).
    """
    p = pair(op, value, name)
    if min(p) < 1:
        raise ValueError(f"{op}: {name} must be positive, got {value!r}")
    return p


def nonnegative_pair(op: str, value: Any, name: str) -> tuple[int, int]:
    """Like :func:`pair`, and every entry must be >= 0.

    Raises:
        ValueError: ``<op>: <name> must be non-negative, got <value>`` (or as :func:`pair`).
    """
    p = pair(op, value, name)
    if min(p) < 0:
        raise ValueError(f"{op}: {name} must be non-negative, got {value!r}")
    return p


def check_choice(op: str, name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Raise unless ``value`` is one of ``choices``; return it.

    Raises:
        ValueError: ``<op>: <name> must be one of <choices>, got <value>``.
    """
    if value not in choices:
        raise ValueError(f"{op}: {name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_labels(
    op: str, labels: Any, n: int, num_classes: int, name: str = "labels"
) -> np.ndarray:
    """Class labels: ``n`` integers in ``[0, num_classes)``.

    Args:
        op: the function's name.
        labels: array-like (n,) of integer labels.
        n: how many labels there must be (one per sample).
        num_classes: the number of classes C.
        name: what the labels are called in the message (``"y"``, ``"y_pred"`` ...).

    Returns:
        The labels as an int64 array (n,).

    Raises:
        ValueError: not ``n`` integers (``<op>: <name> must be <n> integer labels; got <dtype>
            of shape <shape>``) or a value outside ``[0, C)``.
    """
    labels = np.asarray(labels)
    if labels.shape != (n,) or labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{op}: {name} must be {n} integer labels; got {labels.dtype} of shape {labels.shape}"
        )
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"{op}: {name} must lie in [0, {num_classes}); got values from "
            f"{labels.min()} to {labels.max()}"
        )
    return labels.astype(np.int64)


def check_samples(op: str, X: Any, name: str = "X") -> np.ndarray:
    """Samples as a float64 matrix: ``X`` (N, d1, ..., dk) becomes (N, d1 * ... * dk).

    A 1-D ``X`` is N samples of one feature.

    Raises:
        ValueError: ``X`` is a scalar or does not convert to float64.
    """
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{op}: {name} must be an array of numbers ({err})") from err
    if X.ndim == 0:
        raise ValueError(f"{op}: {name} must have a sample axis, got a scalar (shape {X.shape})")
    return X.reshape(X.shape[0], -1)


def check_X_y(op: str, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Samples and one target each: ``X`` (N, ...) as a float64 (N, D) matrix, ``y`` (N,).

    Returns:
        ``(X (N, D) float64, y (N,))``; ``y`` keeps its dtype.

    Raises:
        ValueError: as :func:`check_samples`, or ``y`` is not (N,).
    """
    X = check_samples(op, X)
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"{op}: X has {X.shape[0]} samples (shape {X.shape}) but y has shape {y.shape}; "
            f"expected y of shape ({X.shape[0]},)"
        )
    return X, y


def check_finite(op: str, x: np.ndarray, name: str = "X") -> np.ndarray:
    """Raise if the array ``x`` holds a NaN or an infinity; return it.

    Raises:
        ValueError: ``<op>: <name> <shape> contains NaN or infinity``.
    """
    if not np.isfinite(x).all():
        raise ValueError(f"{op}: {name} {x.shape} contains NaN or infinity")
    return x
