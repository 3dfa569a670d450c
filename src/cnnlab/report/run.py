"""Reading a training run's folder: every file that is there, a note for every one that is not.

A run folder (written by ``cnnlab train``, see :mod:`cnnlab.runs`) may hold ``config.json``,
``history.json``, ``metrics.csv``, ``model.npz`` and/or ``checkpoint.npz``, ``results.json``,
``summary.txt`` and ``samples.npz``. :func:`load_run` reads what it can into a :class:`Run`;
entries of the wrong shape are dropped with a note rather than failing later in a figure.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.metrics import per_class_accuracy
from cnnlab.training.checkpoint import load_checkpoint

RUN_FILES = (
    "config.json",
    "history.json",
    "metrics.csv",
    "checkpoint.npz",
    "results.json",
    "summary.txt",
    "samples.npz",
)
"""The files a run folder may hold; :func:`load_run` refuses a folder with none of them."""
#: where the first-layer filters are looked for: the trained model alone, else the Solver state
WEIGHT_FILES = ("model.npz", "checkpoint.npz")
SAMPLE_KEYS = ("images", "y_true", "y_pred", "probs")
HISTORY_KEYS = ("loss_history", "train_acc_history", "val_acc_history", "lr_history")


def as_number(value: Any) -> float | None:
    """``value`` as a finite float when it is a number or a numeric string, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass
class Run:
    """What could be read from a run folder; ``notes`` maps a file name to why it is absent."""

    path: Path
    config: dict[str, Any] | None = None
    history: dict[str, Any] | None = None
    metrics: list[dict[str, str]] | None = None
    results: dict[str, Any] | None = None
    summary: str | None = None
    filters: np.ndarray | None = None
    samples: dict[str, np.ndarray] | None = None
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def class_names(self) -> list[str] | None:
        """results.json's class names as strings, or None."""
        names = (self.results or {}).get("class_names")
        return [str(name) for name in names] if isinstance(names, list) else None

    @property
    def num_epochs(self) -> int | None:
        """Epochs trained: results.json's ``epochs_run``, else the rows of metrics.csv."""
        given = as_number((self.results or {}).get("epochs_run"))
        if given is not None:
            return int(given)
        return len(self.metrics) if self.metrics else None

    @property
    def wall_time(self) -> float | None:
        """Seconds of training, or None.

        Taken from results.json's ``wall_time_s`` or ``train_seconds`` if given, else the sum of
        metrics.csv's per-epoch ``seconds``.
        """
        for key in ("wall_time_s", "train_seconds"):
            given = as_number((self.results or {}).get(key))
            if given is not None:
                return given
        seconds = [as_number(row.get("seconds")) for row in self.metrics or ()]
        return sum(seconds) if seconds and None not in seconds else None

    @property
    def confusion(self) -> np.ndarray | None:
        """results.json's (K, K) confusion matrix, or None."""
        confusion = (self.results or {}).get("confusion")
        return None if confusion is None else np.asarray(confusion)

    @property
    def class_accuracy(self) -> np.ndarray | None:
        """(K,) per-class accuracy: results.json's, else from the confusion matrix, or None."""
        accuracy = (self.results or {}).get("per_class_acc")
        if accuracy is not None:
            return np.asarray(accuracy, dtype=np.float64)
        confusion = self.confusion
        return None if confusion is None else per_class_accuracy(confusion)


def _read_json_object(path: Path) -> dict[str, Any]:
    value = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, found {type(value).__name__}")
    return value


def _read_metrics(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def first_layer_filters(arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    """The first 4-D array (F, C, HH, WW) with C of 1 or 3: the first convolution's weights.

    Optimiser state (names under ``optim/``, e.g. Adam's moments, which have the weights'
    shapes) is skipped.
    """
    for name, value in arrays.items():
        if not name.startswith("optim/") and value.ndim == 4 and value.shape[1] in (1, 3):
            return value
    raise ValueError("no 4-D weight array with 1 or 3 input channels")


def conv_weights(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The 4-D arrays (convolution weights) by parameter name, in file order.

    The name drops the file's group prefix (``state/`` of model.npz, ``model/`` or
    ``best_params/`` of a checkpoint; the first one of a name wins); optimiser state is skipped.

    Args:
        arrays: a model file's or checkpoint's arrays, name -> array.

    Returns:
        Parameter name (e.g. ``conv2.weight``, ``W1``) -> (F, C, HH, WW) array.
    """
    found: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if not name.startswith("optim/") and value.ndim == 4:
            found.setdefault(name.split("/", 1)[-1], value)
    return found


def layer_filters(arrays: Mapping[str, np.ndarray], layer: str) -> np.ndarray:
    """The convolution weights of the layer named ``layer`` (e.g. ``conv2`` or ``W2``).

    Args:
        arrays: a model file's or checkpoint's arrays.
        layer: a layer's dotted name (its weight is ``<layer>.weight``) or a parameter's name.

    Returns:
        (F, C, HH, WW) weights.

    Raises:
        ValueError: no convolution weights of that name (the message lists the layers there).
    """
    weights = conv_weights(arrays)
    for name in (layer, f"{layer}.weight"):
        if name in weights:
            return weights[name]
    known = ", ".join(f"{n} {tuple(w.shape)}" for n, w in weights.items()) or "none"
    raise ValueError(f"layer_filters: no convolution layer {layer!r}; convolution weights: {known}")


def load_layer_filters(run_dir: str | os.PathLike, layer: str) -> np.ndarray:
    """:func:`layer_filters` of a run's trained model (model.npz, else checkpoint.npz).

    Raises:
        FileNotFoundError: the run folder holds neither file.
        ValueError: as :func:`layer_filters`.
    """
    for name in WEIGHT_FILES:
        file = Path(run_dir) / name
        if file.is_file():
            return layer_filters(load_checkpoint(file)[0], layer)
    raise FileNotFoundError(
        f"load_layer_filters: neither {' nor '.join(WEIGHT_FILES)} in {run_dir}"
    )


def _read_samples(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        missing = [key for key in SAMPLE_KEYS if key not in archive.files]
        if missing:
            raise ValueError(f"missing arrays {missing}")
        return {key: archive[key] for key in SAMPLE_KEYS}


_READERS: dict[str, tuple[str, Callable[[Path], Any]]] = {
    "config.json": ("config", _read_json_object),
    "history.json": ("history", _read_json_object),
    "metrics.csv": ("metrics", _read_metrics),
    "results.json": ("results", _read_json_object),
    "summary.txt": ("summary", lambda p: p.read_text(encoding="utf-8")),
    "samples.npz": ("samples", _read_samples),
}


def load_run(run_dir: str | os.PathLike) -> Run:
    """Read every known file of a run folder; each missing or unreadable one gets a note.

    Raises FileNotFoundError when ``run_dir`` is not a folder and ValueError when it holds
    none of the run files.
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"no run folder at {path}")
    if not any((path / name).is_file() for name in RUN_FILES):
        raise ValueError(f"{path} is not a run folder: it holds none of {', '.join(RUN_FILES)}")
    run = Run(path)
    for name, (attribute, reader) in _READERS.items():
        file = path / name
        if not file.is_file():
            run.notes[name] = f"{name} is not in the run folder"
            continue
        try:
            setattr(run, attribute, reader(file))
        except (OSError, ValueError, KeyError) as err:
            run.notes[name] = f"{name} could not be read: {err}"
    _check_history(run)
    _check_results(run)
    _load_filters(run)
    return run


def _check_history(run: Run) -> None:
    """Drop from ``run.history`` the series that are not lists of numbers, with a note."""
    history = run.history or {}
    bad = [
        key
        for key in HISTORY_KEYS
        if key in history
        and history[key] is not None
        and not (
            isinstance(history[key], list) and all(as_number(v) is not None for v in history[key])
        )
    ]
    for key in bad:
        del history[key]
    if bad:
        run.notes["history.json"] = f"history.json: {', '.join(bad)} not a list of numbers"


def _check_results(run: Run) -> None:
    """Drop from ``run.results`` the class-level entries of the wrong shape, with a note."""
    results = run.results or {}
    k = len(results["class_names"]) if isinstance(results.get("class_names"), list) else None
    problems = []
    for key, ndim in (("confusion", 2), ("per_class_acc", 1)):
        if key not in results:
            continue
        try:
            value = np.asarray(results[key], dtype=np.float64)
        except (TypeError, ValueError):
            value = None
        size = k if k is not None else (None if value is None else value.shape[0])
        if value is None or value.shape != (size,) * ndim or size == 0:
            problems.append(
                f"{key} is not a {' x '.join(['K'] * ndim)} array for the "
                f"{k if k is not None else 'K'} classes"
            )
            del results[key]
    if problems:
        run.notes["results.json"] = "results.json: " + "; ".join(problems)


def _load_filters(run: Run) -> None:
    """Set ``run.filters`` from the first of :data:`WEIGHT_FILES` that has them, else a note."""
    problems = []
    for name in WEIGHT_FILES:
        file = run.path / name
        if not file.is_file():
            continue
        try:
            run.filters = first_layer_filters(load_checkpoint(file)[0])
            return
        except (OSError, ValueError, KeyError) as err:
            problems.append(f"{name}: {err}")
    run.notes["weights"] = (
        "; ".join(problems)
        if problems
        else f"neither {' nor '.join(WEIGHT_FILES)} is in the run folder"
    )
