"""The torch engine: the same training run on the PyTorch twin of the model (``--engine torch``).

:class:`TorchSolver` is the :class:`~cnnlab.training.solver.Solver` (its loop, sample order,
augmentation, schedules, accuracies, early stopping, signals and checkpoints, all unchanged)
driving :class:`TorchModel`, the Solver's model contract over the model's ``to_torch`` twin on a
device: the forward and backward passes are torch's, and the update rules of
:mod:`cnnlab.training.optim` are applied by :data:`RULES`, the same formulas on torch tensors,
so the twin takes the steps the NumPy engine takes (same hyperparameters, same scheduled
learning rate, same batches in the same order from the Solver's generator).

Whenever the Solver takes the model's state (checkpoints, the best model) the twin's numbers
are copied back into the cnnlab model, and optimiser state is stored as NumPy arrays in cnnlab's
layouts (a Linear weight's velocity or moments (in, out)), so a checkpoint has the NumPy
engine's format (either engine resumes it) and the run folder's ``model.npz`` is a plain cnnlab
model. Differences from the NumPy engine: dropout masks come
from torch's generator (seeded with ``seed``; a resumed run draws other masks), and float32
sums are rounded in another order.

    from cnnlab.torch.engine import train_torch
    train_torch(TrainConfig(model="resnet", epochs=10), out="runs/gpu", device="cuda")
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from cnnlab.models.classifier import Classifier
from cnnlab.training import optim
from cnnlab.training.solver import Solver

from .convert import _transposed, copy_from_torch, copy_to_torch, to_torch
from .replay import OPS

Config = dict[str, Any]


# --- the update rules of cnnlab.training.optim on torch tensors ---------------------------------


def _prepare(rule: str, config: Config | None) -> Config:
    config = {} if config is None else config
    for key, value in optim.DEFAULTS[rule].items():
        config.setdefault(key, value)
    return config


def _state(config: Config, key: str, w: torch.Tensor) -> torch.Tensor:
    value = config.get(key)
    return torch.zeros_like(w) if value is None else value


def sgd(w: torch.Tensor, dw: torch.Tensor, config: Config | None = None) -> tuple[Any, Config]:
    """:func:`cnnlab.training.optim.sgd` on tensors."""
    config = _prepare("sgd", config)
    return w - config["learning_rate"] * dw, config


def sgd_momentum(
    w: torch.Tensor, dw: torch.Tensor, config: Config | None = None
) -> tuple[torch.Tensor, Config]:
    """:func:`cnnlab.training.optim.sgd_momentum` (CS231n's velocity, optionally Nesterov)."""
    config = _prepare("sgd_momentum", config)
    lr, mu = config["learning_rate"], config["momentum"]
    v = _state(config, "velocity", w) * mu
    v -= lr * dw
    config["velocity"] = v
    if not config["nesterov"]:
        return w + v, config
    next_w = w + mu * v
    next_w -= lr * dw
    return next_w, config


def rmsprop(
    w: torch.Tensor, dw: torch.Tensor, config: Config | None = None
) -> tuple[torch.Tensor, Config]:
    """:func:`cnnlab.training.optim.rmsprop` on tensors."""
    config = _prepare("rmsprop", config)
    rho = config["decay_rate"]
    cache = rho * _state(config, "cache", w) + (1 - rho) * dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (torch.sqrt(cache) + config["epsilon"]), config


def _adam_step(w: torch.Tensor, dw: torch.Tensor, config: Config) -> torch.Tensor:
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = _state(config, "m", w) * b1
    m += (1 - b1) * dw
    v = dw * dw
    v *= 1 - b2
    v += b2 * _state(config, "v", w)
    config.update(m=m, v=v, t=t)
    step = torch.sqrt(v)
    step /= float(np.sqrt(1 - b2**t))
    step += config["epsilon"]
    step = m / step
    step *= -config["learning_rate"] / (1 - b1**t)
    return step


def adam(
    w: torch.Tensor, dw: torch.Tensor, config: Config | None = None
) -> tuple[torch.Tensor, Config]:
    """:func:`cnnlab.training.optim.adam` on tensors."""
    config = _prepare("adam", config)
    return _adam_step(w, dw, config) + w, config


def adamw(
    w: torch.Tensor, dw: torch.Tensor, config: Config | None = None
) -> tuple[torch.Tensor, Config]:
    """:func:`cnnlab.training.optim.adamw` on tensors."""
    config = _prepare("adamw", config)
    decayed = w * (1 - config["learning_rate"] * config["weight_decay"])
    return decayed + _adam_step(w, dw, config), config


#: cnnlab's update rules by name, written for torch tensors.
RULES: dict[str, Callable] = {
    "sgd": sgd,
    "sgd_momentum": sgd_momentum,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamw": adamw,
}


def default_device() -> str:
    """``cuda`` when a CUDA GPU is there, else ``mps`` (Apple GPUs), else ``cpu``."""
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


# --- the model contract over the twin -----------------------------------------------------------


class TorchModel:
    """A Classifier's torch twin with the Solver's model contract.

    Args:
        model: the cnnlab Classifier; it receives the twin's numbers whenever its state is
            taken (``state_dict``), so it always can be saved as the run's model.
        device: where the twin computes (``cpu``, ``cuda``, ``cuda:1``, ``mps``).
        wrap: optional ``wrap(twin) -> module`` run for every training forward pass instead of
            the twin (``torch.nn.parallel.DistributedDataParallel``); the parameters stay the
            twin's, and scores without labels come from the twin itself.

    Attributes:
        params: ``{public name: tensor}`` the twin's parameter data (updated in place by the
            Solver), keyed like ``model.params``.
        twin: the ``to_torch`` twin, on ``device``.
    """

    def __init__(
        self,
        model: Classifier,
        device: str | torch.device = "cpu",
        wrap: Callable[[torch.nn.Module], torch.nn.Module] | None = None,
    ) -> None:
        self.model = model
        self.device = torch.device(device)
        self.twin = to_torch(model).to(self.device)
        self.module = self.twin if wrap is None else wrap(self.twin)
        named = dict(self.twin.named_parameters())
        self._leaves = {n: named[self.twin.cnnlab_names[n]] for n in model.params}
        self.params = {name: p.data for name, p in self._leaves.items()}
        #: the public names of the parameters the twin holds transposed (Linear weights)
        self.transposed = {name for name, m, key in model._param_slots if _transposed(m, key)}
        self._data_loss = OPS["svm_loss" if model.loss_name == "svm" else "cross_entropy"]

    def _input(self, X: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(X, dtype=self.model.dtype)).to(self.device)

    def loss(self, X: np.ndarray, y: np.ndarray | None = None, grad_scale: float = 1.0) -> Any:
        """Scores (N, K) as an array for X (N, ...) in eval mode.

        With labels y (N,), the training-mode ``(loss, {name: gradient tensor})`` of the data loss
        plus the L2 term, as :meth:`Classifier.loss`; the gradients are those of ``grad_scale``
        times the loss (a data-parallel rank weights its shard so; the loss returned is not).
        """
        x = self._input(X)
        if y is None:
            self.twin.eval()
            with torch.no_grad():
                return self.twin(x).cpu().numpy()
        self.module.train()
        for leaf in self._leaves.values():
            leaf.grad = None
        scores = self.module(x)
        loss = self._data_loss(scores, torch.from_numpy(np.asarray(y)).to(self.device))
        if self.model.reg:
            decay = sum((self._leaves[n] ** 2).sum() for n in self.model._decay)
            loss = loss + 0.5 * self.model.reg * decay
        (loss if grad_scale == 1.0 else loss * grad_scale).backward()
        grads = {
            n: torch.zeros_like(p) if p.grad is None else p.grad for n, p in self._leaves.items()
        }
        return loss.item(), grads

    def state_dict(self) -> dict[str, np.ndarray]:
        """The twin's numbers, copied into the Classifier, as its ``state_dict()``."""
        copy_from_torch(self.model, self.twin)
        return self.model.state_dict()

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Load ``state`` into the Classifier and from it into the twin."""
        self.model.load_state_dict(state)
        copy_to_torch(self.twin, self.model)


def _numpy_config(config: Config, transposed: bool) -> Config:
    """An optimiser config with its state tensors as arrays in the cnnlab layout."""
    return {
        k: (v.T if transposed else v).cpu().numpy() if isinstance(v, torch.Tensor) else v
        for k, v in config.items()
    }


def _torch_config(config: Config, transposed: bool, device: torch.device) -> Config:
    """The inverse of :func:`_numpy_config`: state arrays as tensors in the twin's layout."""
    return {
        k: torch.from_numpy(np.ascontiguousarray(v.T if transposed else v)).to(device)
        if isinstance(v, np.ndarray)
        else v
        for k, v in config.items()
    }


class TorchSolver(Solver):
    """The Solver training a Classifier's torch twin (see the module docstring).

    Args:
        model: the cnnlab Classifier; at the end (and at every checkpoint) it holds the
            twin's numbers, the best ones after training as with the Solver.
        data: as for the Solver (NumPy arrays; each minibatch is moved to ``device``).
        device: where to compute (default :func:`default_device`).
        wrap: see :class:`TorchModel`.
        **kwargs: the Solver's options; ``update_rule`` must be one of :data:`RULES` by name.

    Raises:
        ValueError: for an update rule given as a function or unknown.
    """

    def __init__(
        self,
        model: Classifier,
        data: dict[str, np.ndarray],
        *,
        device: str | None = None,
        wrap: Callable[[torch.nn.Module], torch.nn.Module] | None = None,
        **kwargs: Any,
    ) -> None:
        rule = kwargs.get("update_rule", "sgd")
        if not isinstance(rule, str) or rule not in RULES:
            raise ValueError(
                f"TorchSolver: update_rule must be one of {sorted(RULES)}, got {rule!r}"
            )
        if isinstance(kwargs.get("seed"), int):
            torch.manual_seed(kwargs["seed"])  # dropout masks
        super().__init__(TorchModel(model, device or default_device(), wrap), data, **kwargs)
        self.update_rule = RULES[rule]

    def _keep_if_best(self, val_acc: float) -> bool:
        """As the Solver's, with the best model taken as NumPy arrays from the Classifier."""
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self._best_state = self.model.state_dict()
            self.best_params = {name: self._best_state[name] for name in self.model.params}
            return True
        return False

    def _checkpoint_content(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The Solver's checkpoint, optimiser state as NumPy arrays (the NumPy engine's)."""
        configs = self.optim_configs
        self.optim_configs = {
            name: _numpy_config(c, name in self.model.transposed) for name, c in configs.items()
        }
        try:
            return super()._checkpoint_content()
        finally:
            self.optim_configs = configs

    def resume(self, path: str | os.PathLike[str]) -> None:
        """The Solver's resume, then the optimiser state moved to the device."""
        super().resume(path)
        self.optim_configs = {
            name: _torch_config(c, name in self.model.transposed, self.model.device)
            for name, c in self.optim_configs.items()
        }


def train_torch(cfg: Any, out: str | os.PathLike[str], device: str | None = None, **kwargs: Any):
    """:func:`cnnlab.experiment.train` on the torch engine (``cnnlab train --engine torch``).

    Args:
        cfg: the :class:`~cnnlab.experiment.TrainConfig`.
        out: the run folder.
        device: ``cpu``, ``cuda`` or ``mps`` (default :func:`default_device`).
        **kwargs: :func:`~cnnlab.experiment.train`'s other options (``resume``, ...).

    Returns:
        The :class:`~cnnlab.experiment.TrainResult`.
    """
    from cnnlab import experiment  # experiment imports this module only when asked to

    return experiment.train(cfg, out, engine="torch", device=device, **kwargs)
