"""One-line saving and loading of a model: ``model.save(path)`` and ``cnnlab.load(path)``.

A saved model is a run's ``model.npz`` (:mod:`cnnlab.runs`): its state, the registry name and
constructor arguments that rebuild it, one input's shape, the class names and the input
normalisation, in an ``.npz`` with a JSON header (no pickle). ``load`` accepts such a file, a
run folder (its ``model.npz``) or a run's ``checkpoint.npz`` and returns a model ready to
predict: rebuilt, weights loaded, in eval mode, with its normalisation and class names
attached, so that ``load(run).predict_proba(read_image(path, (H, W)))`` gives what
``cnnlab predict run path`` prints.

The constructor arguments a model recorded (``Classifier.init_args``) are written as JSON:
``dtype`` by its name; ``seed`` only when it is an int or None (a Generator's draws are in the
weights already). A model whose class is not registered, or whose arguments JSON cannot hold
(an initializer object, a network passed in), is saved with its weights only; loading it then
needs an instance built the same way: ``load(path, model=instance)``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from cnnlab import models, runs
from cnnlab.data.preprocess import apply_preprocess
from cnnlab.models.classifier import Classifier
from cnnlab.training.checkpoint import CheckpointError

_JSON_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Normalization:
    """``(x - mean) / std``: the input normalisation of a trained model.

    Attributes:
        mean, std: float arrays broadcastable to one input, e.g. (C, H, W) or (C, 1, 1).
    """

    mean: np.ndarray
    std: np.ndarray

    def __call__(self, X: np.ndarray, dtype: DTypeLike) -> np.ndarray:
        """X (N, *input_shape) in 0..255 normalised, in ``dtype``."""
        return apply_preprocess(X, self.arrays(), dtype)

    def arrays(self) -> dict[str, np.ndarray]:
        """``{"mean": ..., "std": ...}``, as the model file stores them."""
        return {"mean": self.mean, "std": self.std}


def save(
    model: Classifier,
    path: str | os.PathLike[str],
    preprocess: Normalization | Mapping[str, np.ndarray] | None = None,
    class_names: Sequence[str] | None = None,
) -> Path:
    """Write ``model`` to ``path`` as a model file, atomically (``Classifier.save`` calls it).

    Args:
        model: the model; a registered one is recorded by name and constructor arguments.
        path: the ``.npz`` to write.
        preprocess: a :class:`Normalization` or its ``{"mean", "std"}`` arrays; default the
            model's own ``preprocess``.
        class_names: K names; default the model's own ``class_names``.

    Returns:
        The path written.

    Raises:
        ValueError: for a preprocessing that is not a normalisation (it could not be written).
    """
    spec = _spec(model, preprocess, class_names)
    return runs.save_model(path, model.state_dict(), *spec)


def save_spec(
    model: Classifier,
    path: str | os.PathLike[str],
    preprocess: Normalization | Mapping[str, np.ndarray] | None = None,
    class_names: Sequence[str] | None = None,
) -> Path:
    """:func:`save` without the weights: the ``model_spec.npz`` beside a run's checkpoint."""
    return runs.save_model_spec(path, *_spec(model, preprocess, class_names))


def load(source: str | os.PathLike[str], model: Classifier | None = None) -> Classifier:
    """Load a saved model, ready to predict.

    Args:
        source: a run folder (its ``model.npz``), a model file, or a run's ``checkpoint.npz``
            (the model at that point of training).
        model: an instance to load the weights into instead of rebuilding one from the
            registry (needed for a model saved from an unregistered class).

    Returns:
        The model in eval mode, with ``preprocess`` (a :class:`Normalization`, or None when the
        file has none), ``class_names`` and ``input_shape`` from the file.

    Raises:
        FileNotFoundError: ``source`` does not exist (or a checkpoint has no spec beside it).
        ValueError: ``source`` is not a model file or checkpoint; the file needs ``model=``;
            the weights do not fit the model (naming the keys or shapes).
    """
    path = runs.model_path(source)
    try:
        meta, state, prep = runs.read_model(path)
    except CheckpointError as err:
        raise ValueError(f"cnnlab.load: {path} is not a cnnlab model file ({err})") from err
    except ValueError as err:
        raise ValueError(f"cnnlab.load: {err}") from err
    if model is None:
        model = _rebuild(path, meta)
    model.load_state_dict(state)
    if meta["input_shape"] is not None:
        model.input_shape = tuple(meta["input_shape"])
    if meta["class_names"] is not None:
        model.class_names = tuple(meta["class_names"])
    model.preprocess = _normalization(prep, f"cnnlab.load: {path}") if prep else None
    return model.eval()


def encode_args(args: Mapping[str, Any]) -> dict[str, Any] | None:
    """Constructor arguments as JSON values, or None when one cannot be written.

    ``dtype`` becomes its name, a ``seed`` that is not an int becomes None, tuples become
    lists; anything else that is not a JSON scalar, list or dict makes the result None.
    """
    out = {}
    for key, value in args.items():
        if key == "dtype":
            value = np.dtype(value).name
        elif key == "seed" and not isinstance(value, int | np.integer):
            value = None
        encoded = _json_value(value)
        if encoded is _UNWRITABLE:
            return None
        out[key] = encoded
    return out


def decode_args(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`encode_args` (lists stay lists; ``dtype`` becomes the NumPy type)."""
    out = dict(kwargs)
    if "dtype" in out:
        out["dtype"] = np.dtype(out["dtype"]).type
    return out


_UNWRITABLE = object()


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, _JSON_SCALARS):
        return value
    if isinstance(value, list | tuple):
        items = [_json_value(v) for v in value]
        return _UNWRITABLE if any(v is _UNWRITABLE for v in items) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: _json_value(v) for k, v in value.items()}
        return _UNWRITABLE if any(v is _UNWRITABLE for v in items.values()) else items
    return _UNWRITABLE


def _spec(
    model: Classifier,
    preprocess: Normalization | Mapping[str, np.ndarray] | None,
    class_names: Sequence[str] | None,
) -> tuple[str | None, dict[str, Any] | None, Any, dict[str, np.ndarray], Any]:
    """``(name, kwargs, input_shape, preprocess arrays, class_names)`` for the model file."""
    name = models.name_of(model)
    kwargs = None if name is None or model.init_args is None else encode_args(model.init_args)
    if kwargs is None:
        name = None
    prep = model.preprocess if preprocess is None else preprocess
    if prep is None:
        arrays = {}
    elif isinstance(prep, Normalization):
        arrays = prep.arrays()
    elif isinstance(prep, Mapping):
        arrays = _normalization(prep, f"{type(model).__name__}.save").arrays()
    else:
        raise ValueError(
            f"{type(model).__name__}.save: preprocess {prep!r} cannot be written; give a "
            "Normalization or its {'mean', 'std'} arrays"
        )
    names = model.class_names if class_names is None else class_names
    return name, kwargs, model.input_shape, arrays, names


def _normalization(prep: Mapping[str, np.ndarray], where: str) -> Normalization:
    if set(prep) != {"mean", "std"}:
        raise ValueError(f"{where}: the preprocessing arrays {sorted(prep)} are not mean and std")
    return Normalization(np.asarray(prep["mean"]), np.asarray(prep["std"]))


def _rebuild(path: Path, meta: Mapping[str, Any]) -> Classifier:
    """The registered model ``meta`` names, built with its arguments (weights not loaded)."""
    if meta["model"] is None:
        raise ValueError(
            f"cnnlab.load: {path} holds the weights of a model that the registry cannot "
            "rebuild (its class is not registered, or it was built with arguments that "
            "cannot be written down); build the same model and pass it: "
            "cnnlab.load(path, model=instance)"
        )
    kwargs = decode_args(meta["model_kwargs"] or {})
    if meta["class_names"] is not None:
        kwargs.setdefault("num_classes", len(meta["class_names"]))
    if meta["input_shape"] is None:
        return models.build(meta["model"], **kwargs)
    return models.build_for(meta["model"], meta["input_shape"], **kwargs)
