"""Weight initialisers.

Every initialiser has the signature ``init(shape, rng, dtype) -> array`` and uses cnnlab's weight
layouts to find the fans:

* fully connected ``(D, M)`` (the CS231n ``affine`` layout, input first): fan_in = D, fan_out = M;
* convolution ``(F, C, HH, WW)``: fan_in = C * HH * WW, fan_out = F * HH * WW.

``get_initializer`` turns a name, a float (the CS231n ``weight_scale``) or a callable into one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

Initializer = Callable[[tuple[int, ...], np.random.Generator, "np.dtype | type"], np.ndarray]


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A Generator from a Generator (returned as is), an int seed, or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be a numpy Generator, an int seed or None, got {rng!r}")


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a ``(D, M)`` or ``(F, C, HH, WW)`` weight."""
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    if len(shape) == 4:
        receptive = int(shape[2]) * int(shape[3])
        return int(shape[1]) * receptive, int(shape[0]) * receptive
    raise ValueError(f"init: cannot find fans of a weight with shape {tuple(shape)}")


def scaled_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype=np.float32, weight_scale: float = 1e-2
) -> np.ndarray:
    """``weight_scale * N(0, 1)``: the CS231n models' initialisation."""
    return (weight_scale * rng.standard_normal(shape)).astype(dtype)


def kaiming_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype=np.float32, gain: float = 2.0
) -> np.ndarray:
    """He initialisation: ``N(0, gain / fan_in)``, i.e. std ``sqrt(2 / fan_in)`` for ReLU nets.

    This is the seeds' ``kaiming_normal`` and ``variance_scaling_initializer(scale=2)``.
    """
    fan_in, _ = fans(shape)
    return scaled_normal(shape, rng, dtype, np.sqrt(gain / fan_in))


def xavier_uniform(
    shape: tuple[int, ...], rng: np.random.Generator, dtype=np.float32
) -> np.ndarray:
    """Glorot initialisation: ``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``.

    This is Keras's default ``glorot_uniform``.
    """
    fan_in, fan_out = fans(shape)
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def zeros(shape: tuple[int, ...], rng: np.random.Generator | None = None, dtype=np.float32):
    """All zeros (biases); ``rng`` is accepted for a uniform signature and unused."""
    return np.zeros(shape, dtype=dtype)


def ones(shape: tuple[int, ...], rng: np.random.Generator | None = None, dtype=np.float32):
    """All ones (normalisation scales)."""
    return np.ones(shape, dtype=dtype)


_NAMED: dict[str, Initializer] = {
    "kaiming_normal": kaiming_normal,
    "he_normal": kaiming_normal,
    "xavier_uniform": xavier_uniform,
    "glorot_uniform": xavier_uniform,
    "zeros": zeros,
}


def get_initializer(spec: str | float | Initializer) -> Initializer:
    """Resolve ``spec`` to an initialiser ``init(shape, rng, dtype) -> array``.

    Args:
        spec: a name (``kaiming_normal``/``he_normal``, ``xavier_uniform``/``glorot_uniform``,
            ``zeros``), a float ``weight_scale`` (scaled normal) or a callable (returned as is).

    Returns:
        The initialiser.

    Raises:
        ValueError: an unknown name or a spec of another kind.
    """
    if isinstance(spec, str):
        if spec not in _NAMED:
            raise ValueError(f"init: unknown initialiser {spec!r}; choose from {sorted(_NAMED)}")
        return _NAMED[spec]
    if isinstance(spec, (float, int, np.floating)) and not isinstance(spec, bool):
        return partial(scaled_normal, weight_scale=float(spec))
    if callable(spec):
        return spec
    raise ValueError(f"init: expected a name, a weight scale or a callable, got {spec!r}")
