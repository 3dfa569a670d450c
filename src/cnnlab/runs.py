"""The run folder that ``cnnlab train`` writes, and the self-describing model file.

A run folder ``runs/NAME/`` holds:

- ``config.json``: the training configuration (:class:`cnnlab.experiment.TrainConfig` as a dict);
- ``history.json``: ``loss_history`` (per iteration), ``train_acc_history``,
  ``val_acc_history``, ``lr_history`` (per epoch);
- ``metrics.csv``: one row per epoch (epoch, loss, train_acc, val_acc, lr, seconds);
- ``checkpoint.npz``: the Solver's resumable training state;
- ``model.npz``: the trained model alone, with everything needed to use it (see below);
- ``model_spec.npz``: the same description without the weights, written when training starts,
  so that ``checkpoint.npz`` can be loaded as a model (``cnnlab.load``) before ``model.npz``
  exists;
- ``results.json``: val/test accuracy, per-class accuracy, confusion matrix, wall time;
- ``summary.txt``: the model's parameter table; ``samples.npz``: 25 test predictions;
- ``report.html``: the run's report.

Every file is written atomically (temporary file in the same folder, then ``os.replace``), so an
interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab._io import atomic_open
from cnnlab.training.checkpoint import load_checkpoint, save_checkpoint
from cnnlab.training.solver import FORMAT as SOLVER_FORMAT
from cnnlab.training.state import MODEL as SOLVER_MODEL_PREFIX
from cnnlab.training.state import strip_prefix

MODEL_FILE = "model.npz"
SPEC_FILE = "model_spec.npz"
CHECKPOINT_FILE = "checkpoint.npz"
MODEL_FORMAT = "cnnlab.model/1"
SPEC_FORMAT = "cnnlab.model_spec/1"
METRIC_FIELDS = ("epoch", "loss", "train_acc", "val_acc", "lr", "seconds")


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as f:
        f.write(text.encode("utf-8"))
    return path


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    return write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file, with an error naming the file when it is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc


def write_metrics(path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write the per-epoch metrics table as CSV (columns :data:`METRIC_FIELDS`)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=METRIC_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return write_text(path, buf.getvalue())


def save_model(
    path: str | os.PathLike[str],
    state: Mapping[str, np.ndarray],
    model: str | None,
    model_kwargs: Mapping[str, Any] | None,
    input_shape: Sequence[int] | None,
    preprocess: Mapping[str, np.ndarray],
    class_names: Sequence[str] | None,
) -> Path:
    """Save a trained model with what it takes to rebuild and feed it (atomically, no pickle).

    Args:
        path: the file to write (``.npz``).
        state: the model's ``state_dict()``.
        model: the name for :func:`cnnlab.models.build`, or None for a model the registry
            cannot rebuild (loading it then needs an instance to load the weights into).
        model_kwargs: its constructor arguments as JSON values (None with ``model`` None);
            ``input_dim`` and ``num_classes`` may be left to ``input_shape`` and ``class_names``.
        input_shape: one input's shape, e.g. (C, H, W), or None.
        preprocess: ``mean`` and ``std`` arrays broadcastable to one input, applied as
            ``(x - mean) / std`` to pixels in 0..255, or empty for none.
        class_names: the K class names, or None.

    Returns:
        The path written. The arrays are stored as ``state/<name>`` and ``preprocess/<name>``,
        the rest in the JSON header (``format`` :data:`MODEL_FORMAT`).
    """
    return _save(
        path, MODEL_FORMAT, state, model, model_kwargs, input_shape, preprocess, class_names
    )


def save_model_spec(
    path: str | os.PathLike[str],
    model: str | None,
    model_kwargs: Mapping[str, Any] | None,
    input_shape: Sequence[int] | None,
    preprocess: Mapping[str, np.ndarray],
    class_names: Sequence[str] | None,
) -> Path:
    """:func:`save_model` without the weights (``format`` :data:`SPEC_FORMAT`).

    Writes a run's ``model_spec.npz``, which describes the model its ``checkpoint.npz`` trains.
    """
    return _save(path, SPEC_FORMAT, {}, model, model_kwargs, input_shape, preprocess, class_names)


def load_model_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict, dict]:
    """Read a file written by :func:`save_model`.

    Returns ``(meta, state, preprocess)``. Raises ValueError when the file is not a model file
    (for example a Solver checkpoint), naming what it is.
    """
    return _unpack(path, *load_checkpoint(path), MODEL_FORMAT)


def read_model(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict, dict]:
    """Read a model file, or a run's Solver checkpoint as a model.

    Args:
        path: a file written by :func:`save_model`, or a ``checkpoint.npz`` (format
            ``cnnlab.solver/1``) with the ``model_spec.npz`` of its run folder beside it.

    Returns:
        ``(meta, state, preprocess)``: meta has the keys ``model``, ``model_kwargs``,
        ``input_shape``, ``class_names`` (and ``format``); for a checkpoint the state is the
        model's state at that point of training (``model/*``), the rest comes from the spec.

    Raises:
        ValueError: the file is neither (naming its format), or not a readable ``.npz``.
        FileNotFoundError: a checkpoint without the spec beside it.
    """
    path = Path(path)
    arrays, meta = load_checkpoint(path)
    if meta.get("format") != SOLVER_FORMAT:
        return _unpack(path, arrays, meta, MODEL_FORMAT)
    spec = path.parent / SPEC_FILE
    if not spec.is_file():
        raise FileNotFoundError(
            f"{path} is a Solver checkpoint, and the {SPEC_FILE} that tells which model it "
            f"trains is not beside it ({spec} does not exist; runs written by 'cnnlab train' "
            f"have one): load the run's {MODEL_FILE} instead"
        )
    spec_meta, _, prep = _unpack(spec, *load_checkpoint(spec), SPEC_FORMAT)
    return spec_meta, strip_prefix(SOLVER_MODEL_PREFIX, arrays), prep


def _save(
    path: str | os.PathLike[str],
    fmt: str,
    state: Mapping[str, np.ndarray],
    model: str | None,
    model_kwargs: Mapping[str, Any] | None,
    input_shape: Sequence[int] | None,
    preprocess: Mapping[str, np.ndarray],
    class_names: Sequence[str] | None,
) -> Path:
    arrays = {f"state/{k}": np.asarray(v) for k, v in state.items()}
    arrays.update({f"preprocess/{k}": np.asarray(v) for k, v in preprocess.items()})
    meta = {
        "format": fmt,
        "model": model,
        "model_kwargs": None if model_kwargs is None else dict(model_kwargs),
        "input_shape": None if input_shape is None else [int(d) for d in input_shape],
        "class_names": None if class_names is None else list(class_names),
    }
    return save_checkpoint(path, arrays, meta)


def _unpack(
    path: str | os.PathLike[str], arrays: dict[str, np.ndarray], meta: dict[str, Any], fmt: str
) -> tuple[dict[str, Any], dict, dict]:
    """``(meta, state, preprocess)`` of a file's content; ValueError unless it has format fmt."""
    if meta.get("format") != fmt:
        raise ValueError(
            f"{path} is not a cnnlab model file (format {meta.get('format')!r}, expected "
            f"{fmt!r}); pass a run folder, its {MODEL_FILE} or its {CHECKPOINT_FILE}"
        )
    return meta, strip_prefix("state/", arrays), strip_prefix("preprocess/", arrays)


def model_path(run_or_file: str | os.PathLike[str]) -> Path:
    """The model file of a run folder, or the file itself (a model file or a checkpoint)."""
    p = Path(run_or_file)
    if p.is_dir():
        p = p / MODEL_FILE
    if not p.is_file():
        raise FileNotFoundError(
            f"{p} does not exist: give a run folder written by 'cnnlab train', its "
            f"{MODEL_FILE} or its {CHECKPOINT_FILE}"
        )
    return p


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")
