"""Packing the Solver's state into checkpoint arrays + JSON, and back.

A Solver checkpoint (see :mod:`cnnlab.training.checkpoint`) holds these arrays:

- ``model/<name>``: the model's state (``model.state_dict()`` when the model has one, which
  includes buffers such as batchnorm running statistics; else ``model.params``);
- ``best/<name>``: the same for the best model seen so far (by validation accuracy), only
  when it differs from the current model (header ``best_is_model`` says which);
- ``optim/<param>/<key>``: every array in the optimiser config of parameter ``<param>``
  (``velocity``, ``cache``, ``m``, ``v``, ...);
- ``sampler/order`` (only for a checkpoint taken in the middle of an epoch): that epoch's
  sample order;

and the JSON header gives the optimiser configs' non-array entries (``learning_rate``, ``t``,
...), the RNG state (``numpy.random.Generator.bit_generator.state``), the history and the
counters, and the per-epoch metrics rows (``metrics``), from which a run folder's metrics.csv
is rebuilt. Floats go through JSON exactly (Python writes the shortest repr that round-trips).
"""

from __future__ import annotations

from typing import Any

import numpy as np

MODEL, BEST, OPTIM = "model/", "best/", "optim/"


def get_model_state(model: Any) -> dict[str, np.ndarray]:
    """A copy of the model's state: ``state_dict()`` if the model has one, else ``params``."""
    state = model.state_dict() if hasattr(model, "state_dict") else model.params
    return {name: np.array(value, copy=True) for name, value in state.items()}


def set_model_state(model: Any, state: dict[str, np.ndarray]) -> None:
    """Load ``state`` into the model.

    With ``load_state_dict`` if it has one, else by copying the arrays into ``model.params`` in
    place (so that modules sharing those arrays see the values).
    """
    if hasattr(model, "load_state_dict"):
        model.load_state_dict(state)
        return
    if set(state) != set(model.params):
        raise ValueError(
            f"Solver: checkpoint parameters {sorted(state)} do not match the "
            f"model's {sorted(model.params)}"
        )
    for name, value in state.items():
        target = model.params[name]
        if target.shape != value.shape:
            raise ValueError(
                f"Solver: checkpoint parameter {name!r} has shape {value.shape} "
                f"but the model's has shape {target.shape}"
            )
        target[...] = value


def _json_scalar(value: Any) -> Any:
    """Plain Python version of a NumPy scalar (JSON cannot encode np.int64 / np.float32)."""
    return value.item() if isinstance(value, np.generic) else value


def pack_optim_configs(
    configs: dict[str, dict[str, Any]],
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    """Split per-parameter optimiser configs into arrays and the JSON-able rest.

    The arrays are named ``optim/<param>/<key>``; the rest is ``{param: {key: scalar}}``.
    """
    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for param, config in configs.items():
        scalars[param] = {}
        for key, value in config.items():
            if isinstance(value, np.ndarray):
                arrays[f"{OPTIM}{param}/{key}"] = value
            else:
                scalars[param][key] = _json_scalar(value)
    return arrays, scalars


def unpack_optim_configs(
    arrays: dict[str, np.ndarray], scalars: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Inverse of :func:`pack_optim_configs`."""
    configs = {param: dict(values) for param, values in scalars.items()}
    for name, value in arrays.items():
        if name.startswith(OPTIM):
            param, key = name[len(OPTIM) :].rsplit("/", 1)
            configs[param][key] = value
    return configs


def with_prefix(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``{prefix + name: array}``."""
    return {prefix + name: value for name, value in arrays.items()}


def strip_prefix(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The entries whose name starts with ``prefix``, with the prefix removed."""
    return {name[len(prefix) :]: value for name, value in arrays.items() if name.startswith(prefix)}
