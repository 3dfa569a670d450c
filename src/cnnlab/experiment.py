"""One training run from a configuration: data, model, Solver, and everything written to disk.

This is what ``cnnlab train``, ``evaluate`` and ``predict`` do, usable from Python too::

    from cnnlab.experiment import TrainConfig, train
    result = train(TrainConfig(model="three_layer", epochs=1), out="runs/first")

The run folder's files are described in :mod:`cnnlab.runs`.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab import models, runs
from cnnlab._io import locked_folder, save_npz_atomic
from cnnlab.data import paths
from cnnlab.data.cifar10 import CLASSES, find_cifar10, load_cifar10_raw, sample_notice
from cnnlab.data.image_file import read_image
from cnnlab.data.mnist import load_mnist, split_mnist
from cnnlab.data.preprocess import PREPROCESS, apply_preprocess, fit_preprocess
from cnnlab.data.sample import LABEL as SAMPLE_LABEL
from cnnlab.data.transforms import compose, random_crop, random_flip
from cnnlab.distributed import DataParallelSolver, Group
from cnnlab.metrics import accuracy, confusion_matrix, per_class_accuracy
from cnnlab.saving import load, save_spec
from cnnlab.training import schedules
from cnnlab.training.memory import check_training_memory
from cnnlab.training.solver import Solver

# Per-model training defaults: the seeds' settings where a seed trains that model.
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    # seed 001 section 9: hidden 500, reg 1e-3, adam 1e-3, batch 50, raw pixels - mean image
    "three_layer": {
        "model_kwargs": {"hidden_dim": 500, "weight_scale": 1e-3},
        "weight_decay": 1e-3,
        "optimizer": "adam",
        "lr": 1e-3,
        "batch_size": 50,
        "preprocess": "mean_image",
    },
    # seed 000/002 TensorFlow notebook: Nesterov momentum 0.9, lr 3e-3, batch 64
    "tf_three_layer": {"optimizer": "nesterov", "lr": 3e-3, "batch_size": 64},
    "fc": {"model_kwargs": {"hidden_dims": [100, 100]}, "batch_size": 100},
    # seed 003: Adam
    "mini_alexnet": {"optimizer": "adam", "lr": 1e-3, "batch_size": 128},
    # the 10-epoch CIFAR-10 recipe of benchmarks/RESULTS.md (84 % validation)
    "resnet": {
        "model_kwargs": {"widths": [32, 64, 128]},
        "optimizer": "nesterov",
        "lr": 0.1,
        "batch_size": 128,
        "weight_decay": 5e-4,
        "schedule": "onecycle",
        "augment": True,
    },
    "allconv": {"optimizer": "adam", "lr": 1e-3, "batch_size": 128},
    "mnist": {"optimizer": "adam", "lr": 1e-3, "batch_size": 64, "data": "mnist"},
    # the TF notebook (seeds 000/002): plain SGD 1e-2, Nesterov 0.9 at 5e-4, Adam 5e-4; batch 64
    "two_layer_fc": {"optimizer": "sgd", "lr": 1e-2, "batch_size": 64, "preprocess": "channel"},
    "keras_three_layer": {
        "optimizer": "nesterov",
        "lr": 5e-4,
        "batch_size": 64,
        "preprocess": "channel",
    },
    "tf_challenge": {"optimizer": "adam", "lr": 5e-4, "batch_size": 64, "preprocess": "channel"},
    # seed 004 3.2: plain SGD 0.05, batches of 100
    "spatial_sum": {"optimizer": "sgd", "lr": 0.05, "batch_size": 100},
}

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
ENGINES = ("numpy", "torch")  # who computes: the hand-written layers or their torch twin
SCHEDULES = ("constant", "step", "cosine", "onecycle")
# where the validation images come from in the training set: right after the first num_train
# (CS231n's cut) or the last num_val (the Keras practical's, seed 003)
VAL_SPLITS = ("after", "last")
# the files of a run folder that hold its progress: training into a folder holding one of them
# needs resume or overwrite
PROGRESS_FILES = (
    runs.CHECKPOINT_FILE,
    runs.MODEL_FILE,
    "metrics.csv",
    "history.json",
    "results.json",
)
# validation images when num_val is not given (at most a tenth of the training images)
DEFAULT_NUM_VAL = 1000
# build_model's own arguments, which come from the data and the options, not from model_kwargs
RUN_ARGUMENTS = {
    "input_dim": "the data",
    "num_classes": "the data",
    "reg": "--weight-decay",
    "seed": "--seed",
}


@dataclass
class TrainConfig:
    """Everything that defines a training run (written to the run's ``config.json``).

    weight_decay is the L2 strength ``reg`` of the model's loss (CS231n), except with
    ``optimizer='adamw'`` where it is AdamW's decoupled weight decay. ``None`` fields take the
    model's default from :data:`MODEL_DEFAULTS`, then the generic default.
    """

    model: str = "three_layer"
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    data: str | None = None  # 'cifar10', 'sample', 'mnist' or a path; default cifar10
    epochs: int = 1
    batch_size: int | None = None
    optimizer: str | None = None
    lr: float | None = None
    momentum: float = 0.9
    weight_decay: float | None = None
    schedule: str | None = None
    lr_decay: float = 1.0
    augment: bool | None = None
    patience: int | None = None
    check_every: int | None = None  # validation every k iterations; patience then in checks
    seed: int = 0
    num_val: int | None = None  # None: DEFAULT_NUM_VAL, at most a tenth of the images
    val_split: str = "after"
    num_train: int | None = None
    num_test: int | None = None
    preprocess: str | None = None

    def resolved(self) -> TrainConfig:
        """A copy with every ``None`` replaced by the model's or the generic default."""
        if self.model not in models.MODELS:
            raise ValueError(f"unknown model {self.model!r}; available: {models.available()}")
        generic = {
            "data": "cifar10",
            "batch_size": 100,
            "optimizer": "adam",
            "lr": 1e-3,
            "weight_decay": 0.0,
            "schedule": "constant",
            "augment": False,
            "preprocess": "channel",
        }
        per_model = MODEL_DEFAULTS.get(self.model, {})
        values = dataclasses.asdict(self)
        for key, default in generic.items():
            if values[key] is None:
                values[key] = per_model.get(key, default)
        values["model_kwargs"] = {**per_model.get("model_kwargs", {}), **self.model_kwargs}
        cfg = TrainConfig(**values)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Raise ValueError for an option out of range."""
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose from {OPTIMIZERS}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; choose from {SCHEDULES}")
        if self.val_split not in VAL_SPLITS:
            raise ValueError(f"unknown val_split {self.val_split!r}; choose from {VAL_SPLITS}")
        if self.preprocess not in PREPROCESS:
            raise ValueError(f"unknown preprocess {self.preprocess!r}; choose from {PREPROCESS}")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.schedule != "constant" and self.lr_decay != 1.0:
            raise ValueError("give a schedule or an lr_decay, not both")
        if self.lr is not None and self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        for name in ("lr", "momentum", "weight_decay", "lr_decay"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if self.weight_decay is not None and self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        for name in ("num_val", "num_train", "num_test", "check_every"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        clash = sorted(set(self.model_kwargs) & set(RUN_ARGUMENTS))
        if clash:
            given = ", ".join(f"{k} comes from {RUN_ARGUMENTS[k]}" for k in clash)
            raise ValueError(f"model argument(s) {clash} cannot be set ({given})")


@dataclass
class Dataset:
    """A labelled split of uint8 images, (N, C, H, W), and the class names.

    ``data`` is the data used ('sample' when a search for CIFAR-10 fell back to the bundled
    sample), ``source`` the text runs, reports and ``cnnlab evaluate`` show: what it is and the
    split sizes, e.g. "bundled sample (450/50/100)".
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    data: str
    source: str

    @property
    def sizes(self) -> dict[str, int]:
        """The number of training, validation and test images."""
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


def split_sizes(
    cfg: TrainConfig, label: str, num_images: int, num_test_images: int | None = None
) -> tuple[int, int, int]:
    """``(num_train, num_val, num_test)`` for ``cfg`` on a data set, its ``None`` counts filled.

    Args:
        cfg: the counts asked for (``None``: the default).
        label: the data set's name for the error message.
        num_images: its training images; with ``num_test_images`` None, all its images, out of
            which the test images are cut too (MNIST's t10k set).
        num_test_images: its test images, or None.

    Returns:
        The counts: validation by default :data:`DEFAULT_NUM_VAL`, at most a tenth of the
        images; test all the test images (a tenth of the images when they share one set);
        training the rest.

    Raises:
        ValueError: the counts need more images than the data set has, naming both.
    """
    shared = num_test_images is None
    if cfg.num_test is not None:
        num_test = cfg.num_test
    else:
        num_test = num_images // 10 if shared else num_test_images
    if not shared and num_test > num_test_images:
        raise ValueError(f"num_test {num_test}, but {label} has {num_test_images} test images")
    num_val = min(DEFAULT_NUM_VAL, num_images // 10) if cfg.num_val is None else cfg.num_val
    held = {"num_val": num_val, **({"num_test": num_test} if shared else {})}
    rest = num_images - sum(held.values())
    num_train = rest if cfg.num_train is None else cfg.num_train
    if cfg.num_train is not None:
        held = {"num_train": num_train, **held}
    if num_train < 1 or num_train > rest:
        asked = " + ".join(f"{k} {v}" for k, v in held.items())
        left = "leaves no training images" if cfg.num_train is None else "are too many"
        kind = "images" if shared else "training images"
        total = f" = {sum(held.values())}" if len(held) > 1 else ""
        raise ValueError(f"{asked}{total} {left}: {label} has {num_images} {kind}")
    return num_train, num_val, num_test


def load_data(cfg: TrainConfig) -> Dataset:
    """Load and split the data named by ``cfg.data`` (uint8 NCHW, not yet normalised).

    CIFAR-10 (``'cifar10'`` searches the data folders and falls back to the bundled sample
    with a notice on stderr, ``'sample'`` is the bundled sample, a path any supported form):
    training is the first ``num_train`` training images, validation the ``num_val`` after them
    (CS231n's cut) or, with ``val_split='last'``, the last ``num_val`` (the Keras
    practical's), test the first ``num_test`` test images. MNIST: only its 10,000 test digits
    are available offline, so they are split at random (seeded) into train/validation/test
    parts of those sizes. Counts left None take :func:`split_sizes`'s defaults (the sample:
    450/50/100; CIFAR-10: 49,000/1,000/10,000; MNIST: 8,000/1,000/1,000).

    Raises:
        FileNotFoundError: the data is not there (the message lists where it was looked for).
        ValueError: the counts need more images than the data has.
    """
    if cfg.data == "mnist":
        X, y = load_mnist()
        sizes = split_sizes(cfg, "MNIST t10k", X.shape[0])
        parts = split_mnist(X[:, None], y, sizes, seed=cfg.seed)
        return Dataset(
            *parts,
            class_names=tuple(str(d) for d in range(10)),
            data="mnist",
            source=f"MNIST t10k ({'/'.join(map(str, sizes))})",
        )
    data, path = cfg.data, None
    if data == "cifar10":
        path = find_cifar10()
        if path is None:
            print(sample_notice(), file=sys.stderr)
            data = "sample"
    elif data != "sample":
        path = Path(data).expanduser()
        if not path.exists():
            raise FileNotFoundError(
                f"data {data} does not exist; give cifar10 (searched in "
                f"{paths.searched_text()}), sample, mnist, or the path of a CIFAR-10 archive, "
                "zip or folder; get the full CIFAR-10 with python -c 'import cnnlab.data; "
                "cnnlab.data.download_cifar10()'"
            )
    label = SAMPLE_LABEL if data == "sample" else f"CIFAR-10 from {path}"
    X_tr, y_tr, X_te, y_te = load_cifar10_raw("sample" if data == "sample" else path)
    said = f"the {label}" if data == "sample" else label
    num_train, num_val, num_test = split_sizes(cfg, said, X_tr.shape[0], X_te.shape[0])
    val_start = X_tr.shape[0] - num_val if cfg.val_split == "last" else num_train
    val = slice(val_start, val_start + num_val)
    nchw = [np.ascontiguousarray(a.transpose(0, 3, 1, 2)) for a in (X_tr, X_te)]
    return Dataset(
        nchw[0][:num_train], y_tr[:num_train],
        nchw[0][val], y_tr[val],
        nchw[1][:num_test], y_te[:num_test],
        class_names=CLASSES,
        data=data,
        source=f"{label} ({num_train}/{num_val}/{num_test})",
    )  # fmt: skip


def make_solver_options(cfg: TrainConfig) -> dict[str, Any]:
    """The Solver's update rule, optimiser config and schedule for ``cfg``."""
    rule = {"momentum": "sgd_momentum", "nesterov": "sgd_momentum"}.get(
        cfg.optimizer, cfg.optimizer
    )
    optim_config: dict[str, Any] = {"learning_rate": cfg.lr}
    if rule == "sgd_momentum":
        optim_config.update(momentum=cfg.momentum, nesterov=cfg.optimizer == "nesterov")
    if rule == "adamw":
        optim_config["weight_decay"] = cfg.weight_decay
    schedule = {
        "constant": lambda: None,
        "step": lambda: schedules.StepDecay(step_epochs=max(1, cfg.epochs // 3), gamma=0.1),
        "cosine": lambda: schedules.CosineDecay(total_epochs=cfg.epochs),
        "onecycle": lambda: schedules.OneCycle(total_epochs=cfg.epochs),
    }[cfg.schedule]()
    return {
        "update_rule": rule,
        "optim_config": optim_config,
        "schedule": schedule,
        "lr_decay": cfg.lr_decay,
    }


def build_model(
    name: str,
    model_kwargs: dict[str, Any],
    input_shape: tuple[int, ...],
    num_classes: int,
    reg: float = 0.0,
    seed: int = 0,
) -> Any:
    """Construct model ``name`` for inputs of ``input_shape`` (C, H, W), float32.

    Models taking a flat ``input_dim`` (the fully connected net) get ``C * H * W`` and still
    take images (:func:`cnnlab.models.build_for`).
    """
    try:
        return models.build_for(
            name, input_shape, num_classes=num_classes, reg=reg, seed=seed, **model_kwargs
        )
    except MemoryError as err:
        raise MemoryError(
            f"model {name!r} with {model_kwargs} does not fit in memory ({err}); give it "
            "smaller sizes"
        ) from err


@dataclass
class TrainResult:
    """What a run ended with (``seconds``: training time over every segment of the run)."""

    run_dir: Path
    val_acc: float
    test_acc: float | None
    seconds: float
    interrupted: str | None


def train(
    cfg: TrainConfig,
    out: str | os.PathLike[str],
    resume: bool = False,
    verbose: bool = True,
    progress_bar: bool | None = None,
    test: bool = True,
    group: Group | None = None,
    overwrite: bool = True,
    engine: str = "numpy",
    device: str | None = None,
) -> TrainResult:
    """Train as ``cfg`` says and write the run folder ``out``.

    test: evaluate on the test split at the end (a search's trials do not: only its winner
    is tested); without it results.json has no test figures and ``test_acc`` is None.

    resume: continue the run in ``out`` from its ``checkpoint.npz`` (its config.json must name
    the same model and model arguments), up to ``cfg.epochs`` epochs in all. Nothing in ``out``
    changes when the checkpoint does not fit ``cfg``. The folder is locked while the run lasts
    (a second run on it fails at once); temporary files of an earlier killed run are removed.
    A run that would need more memory than the machine has is refused
    (:mod:`cnnlab.training.memory`).

    overwrite: without ``resume``, replace the run already in ``out``; when False, a folder
    holding a run's progress is refused with FileExistsError (``cnnlab train`` without
    ``--overwrite``; :func:`refuse_existing_run`).

    config.json records the data and the split sizes used (``'sample'`` when the search for
    CIFAR-10 fell back to it); ``TrainResult.seconds`` and results.json's ``train_seconds``
    count every segment of a resumed run.

    group: this process's rank in a data-parallel run (:mod:`cnnlab.distributed`): every rank
    calls ``train`` with the same arguments; rank 0 alone locks and writes ``out``, the other
    ranks only train (their result has no test figures).

    engine: ``'numpy'`` (the hand-written layers) or ``'torch'``: the model's PyTorch twin
    trained on ``device`` (``cpu``, ``cuda``, ``mps``; default the GPU when there is one) by
    :class:`cnnlab.torch.engine.TorchSolver`, with the same update rule, schedule and batches;
    its checkpoints and model.npz are the NumPy engine's, so either engine resumes, evaluates
    and predicts the other's runs.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {ENGINES}")
    if group is not None and not group.is_primary:
        return _train(cfg, Path(out), resume, verbose, progress_bar, test, group, engine, device)
    with locked_folder(out):
        if not (resume or overwrite):
            refuse_existing_run(Path(out))
        return _train(cfg, Path(out), resume, verbose, progress_bar, test, group, engine, device)


def refuse_existing_run(run_dir: Path) -> None:
    """Raise FileExistsError when ``run_dir`` holds a run's progress (:data:`PROGRESS_FILES`).

    An empty folder, or one that a run killed before its first checkpoint left (config.json,
    summary.txt ...), passes. The message names both ways out: ``--resume`` to continue the
    run, another ``--out`` (or ``--overwrite`` to replace it).
    """
    held = [name for name in PROGRESS_FILES if (run_dir / name).exists()]
    if held:
        raise FileExistsError(
            f"{run_dir} already holds a run ({', '.join(held)}); continue it with --resume, "
            "train into another --out, or replace it with --overwrite"
        )


def _write_history(run_dir: Path, solver: Solver) -> None:
    """metrics.csv and history.json from the Solver's state, i.e. from its checkpoint."""
    runs.write_metrics(run_dir / "metrics.csv", solver.metrics_history)
    runs.write_json(run_dir / "history.json", solver.history)


def _train(
    cfg: TrainConfig,
    run_dir: Path,
    resume: bool,
    verbose: bool,
    progress_bar: bool | None,
    test: bool = True,
    group: Group | None = None,
    engine: str = "numpy",
    device: str | None = None,
) -> TrainResult:
    """:func:`train` inside the locked run folder (or as a rank other than 0, outside it)."""
    primary = group is None or group.is_primary
    cfg = cfg.resolved()
    ckpt = run_dir / runs.CHECKPOINT_FILE
    if resume:
        _check_resume(run_dir, cfg)
    data = load_data(cfg)
    cfg = dataclasses.replace(cfg, data=data.data, **{f"num_{k}": n for k, n in data.sizes.items()})
    prep = fit_preprocess(data.X_train, cfg.preprocess)
    splits = {
        k: apply_preprocess(getattr(data, k), prep, np.float32)
        for k in ("X_train", "X_val", "X_test")
    }
    reg = 0.0 if cfg.optimizer == "adamw" else cfg.weight_decay
    model = build_model(
        cfg.model, cfg.model_kwargs, data.X_train.shape[1:], len(data.class_names), reg, cfg.seed
    )
    summary = model.summary()
    options = make_solver_options(cfg)
    check_training_memory(
        model, splits["X_train"][:1], data.y_train[:1], cfg.batch_size, options["update_rule"]
    )

    def on_epoch_end(solver: Solver, metrics: dict[str, float]) -> None:
        _write_history(run_dir, solver)

    augment = compose(random_crop, random_flip) if cfg.augment else None
    solver_class = Solver if group is None else partial(DataParallelSolver, group=group)
    if engine == "torch":  # PyTorch is optional: imported only for this engine
        from cnnlab.torch.engine import TorchSolver

        solver_class = partial(TorchSolver, device=device)
        if group is not None:
            from cnnlab.distributed.torch_solver import DataParallelTorchSolver

            solver_class = partial(DataParallelTorchSolver, group=group, device=device)
    solver = solver_class(
        model,
        {"X_train": splits["X_train"], "y_train": data.y_train,
         "X_val": splits["X_val"], "y_val": data.y_val},
        **options, batch_size=cfg.batch_size, num_epochs=cfg.epochs,
        num_train_samples=1000, checkpoint_path=ckpt, verbose=verbose,
        progress_bar=progress_bar, patience=cfg.patience, check_every=cfg.check_every,
        augment=augment,
        on_epoch_end=on_epoch_end if primary else None, seed=cfg.seed,
        resume=ckpt if resume else None,
    )  # fmt: skip
    if primary:  # only now, so that a resume which does not fit the checkpoint changes nothing
        runs.write_json(run_dir / "config.json", dataclasses.asdict(cfg))
        if resume:  # the checkpoint is the record: files a kill left behind it catch up
            if not solver.metrics_history:  # a checkpoint written before it held the metrics
                solver.metrics_history = _read_metrics(run_dir / "metrics.csv")[: solver.epoch]
            _write_history(run_dir, solver)
        runs.write_text(run_dir / "summary.txt", summary + "\n")
        save_spec(model, run_dir / runs.SPEC_FILE, prep, data.class_names)  # for checkpoints
    solver.train()
    seconds = solver.train_seconds
    if not primary:
        return TrainResult(run_dir, solver.best_val_acc, None, seconds, solver.interrupted)
    _write_history(run_dir, solver)
    model.save(run_dir / runs.MODEL_FILE, preprocess=prep, class_names=data.class_names)
    if solver.interrupted or not test:
        return TrainResult(run_dir, solver.best_val_acc, None, seconds, solver.interrupted)

    test = evaluate_arrays(model, splits["X_test"], data.y_test, len(data.class_names))
    results = {
        "val_acc": solver.best_val_acc,
        "test_acc": test["accuracy"],
        "class_names": list(data.class_names),
        "per_class_acc": test["per_class_acc"],
        "confusion": test["confusion"],
        "epochs_run": solver.epoch,
        "stopped_early": solver.stopped_early,
        "stopped_at": solver.stopped_at,
        "train_seconds": seconds,
        "data": data.source,
        "split": data.sizes,
    }
    runs.write_json(run_dir / "results.json", results)
    _write_samples(run_dir / "samples.npz", data.X_test, data.y_test, test["probs"])
    return TrainResult(run_dir, solver.best_val_acc, test["accuracy"], seconds, None)


def evaluate_arrays(model: Any, X: np.ndarray, y: np.ndarray, num_classes: int) -> dict[str, Any]:
    """Accuracy, per-class accuracy, confusion matrix and probabilities on (X, y).

    X goes to ``model.predict_proba`` as it is (a loaded model normalises raw pixels itself).
    """
    probs = _finite(model.predict_proba(X), "evaluate")
    pred = probs.argmax(axis=1)
    cm = confusion_matrix(y, pred, num_classes)
    return {
        "accuracy": accuracy(y, pred),
        "per_class_acc": per_class_accuracy(cm).tolist(),
        "confusion": cm.tolist(),
        "probs": probs,
    }


def evaluate(run_or_file: str | os.PathLike[str], data: str | None = None) -> dict[str, Any]:
    """Evaluate a trained model on the test split of the data it was trained on (or ``data``).

    ``run_or_file``: a run folder, its model.npz or its checkpoint.npz (:func:`cnnlab.load`).
    """
    model = load(run_or_file)
    run_dir = runs.model_path(run_or_file).parent
    cfg_path = run_dir / "config.json"
    cfg = read_config(cfg_path) if cfg_path.is_file() else TrainConfig()
    if data is not None:  # another data set: its own default split, all its test images
        cfg = dataclasses.replace(cfg, data=data, num_train=None, num_val=None, num_test=None)
    ds = load_data(cfg.resolved())
    result = evaluate_arrays(model, ds.X_test, ds.y_test, len(model.class_names))
    result["class_names"] = list(model.class_names)
    result["source"] = ds.source
    return result


def predict_images(
    run_or_file: str | os.PathLike[str], images: list[str | os.PathLike[str]], top: int = 3
) -> list[list[tuple[str, float]]]:
    """Top-``top`` (class, probability) for each image file, resized to the model's input.

    ``run_or_file``: a run folder, its model.npz or its checkpoint.npz (:func:`cnnlab.load`).
    """
    model = load(run_or_file)
    c, h, w = model.input_shape
    X = np.stack([read_image(p, (h, w), channels=c) for p in images])
    probs = _finite(model.predict_proba(X), run_or_file)
    names = model.class_names
    return [[(names[k], float(row[k])) for k in np.argsort(-row)[:top]] for row in probs]


def _finite(probs: np.ndarray, source: Any) -> np.ndarray:
    """``probs`` (N, K), or ValueError naming ``source`` when some are NaN or infinite."""
    if not np.isfinite(probs).all():
        raise ValueError(
            f"{source}: the model's probabilities are NaN or infinite, so its weights are not "
            "finite numbers; use another model file or checkpoint"
        )
    return probs


def _write_samples(
    path: Path, X_test: np.ndarray, y_test: np.ndarray, probs: np.ndarray, count: int = 25
) -> None:
    """25 test images (NHWC uint8) with true/predicted labels and probabilities."""
    n = min(count, X_test.shape[0])
    images = X_test[:n].transpose(0, 2, 3, 1)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    save_npz_atomic(
        path,
        compressed=True,
        images=images,
        y_true=y_test[:n],
        y_pred=probs[:n].argmax(axis=1),
        probs=probs[:n].astype(np.float32),
    )


def read_config(path: Path) -> TrainConfig:
    """The TrainConfig saved in a run's config.json; ValueError naming the file if it is not one."""
    values = runs.read_json(path)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    if not isinstance(values, dict) or not set(values) <= fields:
        extra = sorted(set(values) - fields) if isinstance(values, dict) else type(values).__name__
        raise ValueError(f"{path} is not a cnnlab training configuration ({extra})")
    return TrainConfig(**values)


def saved_config(run_dir: Path) -> dict[str, Any]:
    """The config.json of the run to resume in ``run_dir``: its entries as saved.

    Raises:
        FileNotFoundError: ``run_dir`` has no checkpoint.npz or no config.json.
        ValueError: its config.json is not a training configuration.
    """
    for name in (runs.CHECKPOINT_FILE, "config.json"):
        if not (run_dir / name).is_file():
            raise FileNotFoundError(f"cannot resume: {run_dir / name} does not exist")
    read_config(run_dir / "config.json")  # checks its entries
    return runs.read_json(run_dir / "config.json")


def _check_resume(run_dir: Path, cfg: TrainConfig) -> None:
    old = dataclasses.asdict(TrainConfig(**saved_config(run_dir)))
    if old.get("model") != cfg.model:
        raise ValueError(
            f"cannot resume: {run_dir} holds a {old.get('model')!r} model, not {cfg.model!r}"
        )
    if old.get("model_kwargs") != json.loads(json.dumps(cfg.model_kwargs)):  # tuples: lists
        raise ValueError(
            f"cannot resume: {run_dir} holds a {cfg.model!r} model built with "
            f"{old.get('model_kwargs')}, not {cfg.model_kwargs}"
        )


def _read_metrics(path: Path) -> list[dict[str, Any]]:
    """The rows of a metrics.csv as numbers (``epoch`` int, an empty ``lr`` None); [] if none."""
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    def number(key: str, text: str) -> int | float | None:
        return None if text == "" else int(text) if key == "epoch" else float(text)

    return [{key: number(key, text) for key, text in row.items()} for row in rows]
