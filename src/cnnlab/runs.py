"""The run folder that ``cnnlab train`` writes, and the self-describing model file.

A run folder ``runs/NAME/`` holds:

- ``config.json``: the training configuration (:class:`cnnlab.experiment.TrainConfig` as a dict);
- ``history.json``: ``loss_history`` (per iteration), ``train_acc_history``,
  ``val_acc_history``, ``lr_history`` (per epoch);
- ``metrics.csv``: one row per epoch (epoch, loss, train_acc, val_acc, lr, seconds);
- ``checkpoint.npz``: the Solver's resumable training state;
- ``model.npz``: the trained model alone, with everything needed to use it (see below);
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

MODEL_FILE = "model.npz"
CHECKPOINT_FILE = "checkpoint.npz"
MODEL_FORMAT = "cnnlab.model/1"
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
    model: str,
    model_kwargs: Mapping[str, Any],
    input_shape: Sequence[int],
    preprocess: Mapping[str, np.ndarray],
    class_names: Sequence[str],
) -> Path:
    """Save a trained model with what it takes to rebuild and feed it.

    state: the model's ``state_dict()``; model/model_kwargs: the name and extra arguments for
    :func:`cnnlab.models.build`; input_shape: one input's (C, H, W); preprocess: ``mean`` and
    ``std`` arrays broadcastable to one input, applied as ``(x - mean) / std`` to pixels in
    0..255; class_names: K names.
    """
    arrays = {f"state/{k}": np.asarray(v) for k, v in state.items()}
    arrays.update({f"preprocess/{k}": np.asarray(v) for k, v in preprocess.items()})
    meta = {
        "format": MODEL_FORMAT,
        "model": model,
        "model_kwargs": dict(model_kwargs),
        "input_shape": [int(d) for d in input_shape],
        "class_names": list(class_names),
    }
    return save_checkpoint(path, arrays, meta)


def load_model_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict, dict]:
    """Read a file written by :func:`save_model`.

    Returns ``(meta, state, preprocess)``. Raises ValueError when the file is not a model file
    (for example a Solver checkpoint), naming what it is.
    """
    arrays, meta = load_checkpoint(path)
    if meta.get("format") != MODEL_FORMAT:
        raise ValueError(
            f"{path} is not a cnnlab model file (format {meta.get('format')!r}, expected "
            f"{MODEL_FORMAT!r}); pass a run folder or its {MODEL_FILE}"
        )
    state = {k.removeprefix("state/"): v for k, v in arrays.items() if k.startswith("state/")}
    prep = {
        k.removeprefix("preprocess/"): v for k, v in arrays.items() if k.startswith("preprocess/")
    }
    return meta, state, prep


def model_path(run_or_file: str | os.PathLike[str]) -> Path:
    """The model file of a run folder, or the file itself."""
    p = Path(run_or_file)
    if p.is_dir():
        p = p / MODEL_FILE
    if not p.is_file():
        raise FileNotFoundError(
            f"{p} does not exist: give a run folder written by 'cnnlab train' or its {MODEL_FILE}"
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
