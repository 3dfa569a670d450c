"""First-order update rules, CS231n style.

Every rule has the signature::

    next_w, config = rule(w, dw, config=None)

- w: ndarray of any shape, the current parameter value.
- dw: ndarray of the same shape as w, the gradient of the loss with respect to w.
- config: dict of hyperparameters (``learning_rate``, ``momentum``, ...) and of the rule's
  state arrays (``velocity``, ``cache``, ``m``, ``v``, ``t``). Missing hyperparameters are
  filled in from :data:`DEFAULTS`; missing state starts at zero. The dict is updated in place
  and also returned (as in CS231n).

A rule never modifies ``w``, ``dw`` or a state array in place: new state arrays are stored in
``config``. The caller (the Solver) writes ``next_w`` back into the model.

Conventions (all match CS231n's ``optim.py``):

- ``sgd``:           w - lr * dw
- ``sgd_momentum``:  v = momentum * v - lr * dw;  w + v  (Nesterov: w + momentum * v - lr * dw)
- ``rmsprop``:       cache = decay_rate * cache + (1 - decay_rate) * dw**2;
                     w - lr * dw / (sqrt(cache) + epsilon)
- ``adam``:          bias-corrected first and second moments, t counts the updates made
- ``adamw``:         Adam plus decoupled weight decay: w * (1 - lr * weight_decay) before the step
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cnnlab.functional import _parallel

UpdateRule = Callable[
    [np.ndarray, np.ndarray, "dict[str, Any] | None"], "tuple[np.ndarray, dict[str, Any]]"
]

DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9, "nesterov": False},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "adamw": {
        "learning_rate": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "weight_decay": 1e-2,
    },
}
"""Default hyperparameters of each rule (``adamw``'s weight decay is PyTorch's default)."""


def _prepare(
    name: str, w: np.ndarray, dw: np.ndarray, config: dict[str, Any] | None
) -> dict[str, Any]:
    """Check shapes and fill the rule's default hyperparameters into ``config``."""
    if np.shape(w) != np.shape(dw):
        raise ValueError(f"{name}: w has shape {np.shape(w)} but dw has shape {np.shape(dw)}")
    config = {} if config is None else config
    for key, value in DEFAULTS[name].items():
        config.setdefault(key, value)
    return config


def _state(config: dict[str, Any], key: str, w: np.ndarray) -> np.ndarray:
    """The state array ``config[key]``, zeros shaped like ``w`` on the first call."""
    value = config.get(key)
    return np.zeros_like(w) if value is None else value


def sgd(
    w: np.ndarray, dw: np.ndarray, config: dict[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Vanilla stochastic gradient descent: ``w - learning_rate * dw``."""
    config = _prepare("sgd", w, dw, config)
    return w - config["learning_rate"] * dw, config


def _fresh(w: np.ndarray, dw: np.ndarray, count: int) -> list[np.ndarray]:
    """``count`` new C-contiguous arrays shaped like w, in the dtype of w and dw combined."""
    dtype = np.result_type(w, dw)
    return [np.empty(np.shape(w), dtype=dtype) for _ in range(count)]


def sgd_momentum(
    w: np.ndarray, dw: np.ndarray, config: dict[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """SGD with (optionally Nesterov) momentum; state ``velocity`` shaped like w.

    ``v = momentum * v - lr * dw``; the step is ``v`` (classical) or
    ``momentum * v - lr * dw`` with the new v (Nesterov, written for the look-ahead weights).
    Computed block by block on every core (:func:`cnnlab.functional._parallel.elementwise`).
    """
    config = _prepare("sgd_momentum", w, dw, config)
    lr, mu, nesterov = config["learning_rate"], config["momentum"], config["nesterov"]
    next_w, v = _fresh(w, dw, 2)

    def block(next_w: np.ndarray, v: np.ndarray, v_old: np.ndarray, w: np.ndarray, dw: np.ndarray):
        np.multiply(v_old, mu, out=v)
        np.multiply(dw, lr, out=next_w)  # next_w holds lr * dw for a moment
        v -= next_w
        if nesterov:
            np.subtract(w, next_w, out=next_w)
            next_w += mu * v
        else:
            np.add(w, v, out=next_w)

    _parallel.elementwise(block, next_w, v, _state(config, "velocity", w), w, dw)
    config["velocity"] = v
    return next_w, config


def rmsprop(
    w: np.ndarray, dw: np.ndarray, config: dict[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """RMSProp; state ``cache`` (moving average of squared gradients) shaped like w."""
    config = _prepare("rmsprop", w, dw, config)
    rho = config["decay_rate"]
    cache = rho * _state(config, "cache", w) + (1 - rho) * dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def _adam_step(w: np.ndarray, dw: np.ndarray, config: dict[str, Any]) -> np.ndarray:
    """Update the moments ``m``, ``v`` and the counter ``t``; return the Adam step for w.

    Written as torch.optim.Adam computes it, ``-lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t)
    + eps)``. A dozen passes over arrays shaped like w: they run block by block, each block's
    passes in the core's cache, on every core (:func:`cnnlab.functional._parallel.elementwise`).
    """
    b1, b2, eps = config["beta1"], config["beta2"], config["epsilon"]
    t = config.get("t", 0) + 1
    v_scale, lr = np.sqrt(1 - b2**t), -config["learning_rate"] / (1 - b1**t)
    step, m, v = _fresh(w, dw, 3)

    def block(step, m, v, m_old, v_old, dw) -> None:  # each a block of the arrays it is named for
        np.multiply(dw, 1 - b1, out=step)  # step holds scratch values until the last lines
        np.multiply(m_old, b1, out=m)
        m += step
        np.multiply(dw, dw, out=v)
        v *= 1 - b2
        np.multiply(v_old, b2, out=step)
        v += step
        np.sqrt(v, out=step)
        step /= v_scale
        step += eps
        np.divide(m, step, out=step)
        step *= lr

    _parallel.elementwise(block, step, m, v, _state(config, "m", w), _state(config, "v", w), dw)
    config.update(m=m, v=v, t=t)
    return step


def adam(
    w: np.ndarray, dw: np.ndarray, config: dict[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Adam with bias correction; state ``m``, ``v`` shaped like w and the step count ``t``."""
    config = _prepare("adam", w, dw, config)
    step = _adam_step(w, dw, config)
    step += w
    return step, config


def adamw(
    w: np.ndarray, dw: np.ndarray, config: dict[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """AdamW: Adam plus weight decay decoupled from the gradient (Loshchilov & Hutter).

    ``w`` first shrinks by ``1 - learning_rate * weight_decay``, then takes the Adam step
    (computed from ``dw`` alone), as in ``torch.optim.AdamW``.
    """
    config = _prepare("adamw", w, dw, config)
    decayed = w * (1 - config["learning_rate"] * config["weight_decay"])
    return decayed + _adam_step(w, dw, config), config


RULES: dict[str, UpdateRule] = {
    "sgd": sgd,
    "sgd_momentum": sgd_momentum,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamw": adamw,
}
"""The update rules by name, as accepted by ``Solver(update_rule=...)``."""


def get_rule(rule: str | UpdateRule) -> UpdateRule:
    """Return the update rule named ``rule`` (or ``rule`` itself if it is callable)."""
    if callable(rule):
        return rule
    if rule not in RULES:
        raise ValueError(f"optim: unknown update rule {rule!r}; choose from {sorted(RULES)}")
    return RULES[rule]
