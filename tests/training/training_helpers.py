"""Tiny NumPy models and toy data for the training tests (independent of cnnlab.nn/models)."""

from __future__ import annotations

import signal
from typing import Any

import numpy as np


def softmax_loss(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of scores (N, K) against labels y (N,), and its gradient (N, K)."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(y)
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1
    return float(-log_probs[np.arange(n), y].mean()), dscores / n


class TwoLayerNet:
    """affine - relu - affine - softmax, with L2 regularisation ``reg``. X (N, D)."""

    def __init__(
        self, D: int, H: int, K: int, seed: int = 0, reg: float = 0.0, weight_scale: float = 0.1
    ) -> None:
        rng = np.random.default_rng(seed)
        self.reg = reg
        self.params = {
            "W1": weight_scale * rng.standard_normal((D, H)),
            "b1": np.zeros(H),
            "W2": weight_scale * rng.standard_normal((H, K)),
            "b2": np.zeros(K),
        }

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        p = self.params
        hidden_in = X @ p["W1"] + p["b1"]
        hidden = np.maximum(hidden_in, 0)
        scores = hidden @ p["W2"] + p["b2"]
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
        dhidden = (dscores @ p["W2"].T) * (hidden_in > 0)
        grads = {
            "W1": X.T @ dhidden + self.reg * p["W1"],
            "b1": dhidden.sum(axis=0),
            "W2": hidden.T @ dscores + self.reg * p["W2"],
            "b2": dscores.sum(axis=0),
        }
        return loss, grads


class SoftmaxRegression(TwoLayerNet):
    """Linear softmax classifier: params W (D, K), b (K,)."""

    def __init__(self, D: int, K: int, seed: int = 0, weight_scale: float = 0.01) -> None:
        rng = np.random.default_rng(seed)
        self.params = {"W": weight_scale * rng.standard_normal((D, K)), "b": np.zeros(K)}

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


class BufferedNet(TwoLayerNet):
    """TwoLayerNet plus a buffer (a running mean of the training inputs, updated in every
    training forward pass) exposed through state_dict / load_state_dict."""

    def __init__(self, D: int, H: int, K: int, seed: int = 0) -> None:
        super().__init__(D, H, K, seed)
        self.running_mean = np.zeros(D)

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        if y is not None:
            self.running_mean = 0.9 * self.running_mean + 0.1 * X.mean(axis=0)
        return super().loss(X - self.running_mean, y)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {**self.params, "running_mean": self.running_mean}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        for name in self.params:
            self.params[name][...] = state[name]
        self.running_mean = np.array(state["running_mean"], copy=True)


class Hooked:
    """Wraps a model; calls ``hook(call_number)`` before every training loss (calls count
    from 1). The hook may raise, send a signal or return a replacement loss."""

    def __init__(self, model: Any, hook: Any) -> None:
        self.model, self.hook, self.calls = model, hook, 0
        self.params = model.params

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        if y is None:
            return self.model.loss(X)
        self.calls += 1
        replacement = self.hook(self.calls)
        loss, grads = self.model.loss(X, y)
        return (loss if replacement is None else replacement), grads


def interrupt_at(call: int) -> Any:
    """Hook raising KeyboardInterrupt at training call ``call``."""

    def hook(n: int) -> None:
        if n == call:
            raise KeyboardInterrupt

    return hook


def send_signal_at(call: int, signum: int = signal.SIGTERM) -> Any:
    """Hook sending signal ``signum`` to this process at training call ``call``."""

    def hook(n: int) -> None:
        if n == call:
            signal.raise_signal(signum)  # to this thread, not a pool worker

    return hook


def nan_at(call: int) -> Any:
    """Hook replacing the loss by NaN at training call ``call``."""
    return lambda n: float("nan") if n == call else None


class ScriptedModel:
    """A model whose validation accuracy follows ``script``: one parameter ``w`` grows by 1
    per update (use sgd, learning_rate 1, one iteration per epoch), and after epoch e the
    model classifies ``script[e]`` of any batch correctly. Labels are read from ``X[:, 0]``.
    ``state_dict`` adds a buffer counting the training calls."""

    def __init__(self, script: list[float], num_classes: int = 3) -> None:
        self.script, self.num_classes = script, num_classes
        self.params = {"w": np.zeros(1)}
        self.count = np.zeros(1)

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        if y is not None:
            self.count = self.count + 1
            return 1.0, {"w": -np.ones(1)}
        labels = X[:, 0].astype(int)
        num_right = round(self.script[round(self.params["w"][0])] * len(X))
        predicted = np.where(np.arange(len(X)) < num_right, labels, (labels + 1) % self.num_classes)
        return np.eye(self.num_classes)[predicted]

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"w": self.params["w"], "count": self.count}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.params["w"][...] = state["w"]
        self.count = np.array(state["count"], copy=True)


def blobs(n: int, D: int, K: int, seed: int, spread: float = 1.0) -> tuple[np.ndarray, ...]:
    """n points (n, D) around K random centres, labels (n,)."""
    rng = np.random.default_rng(seed)
    centres = 3.0 * rng.standard_normal((K, D))
    y = rng.integers(K, size=n)
    return centres[y] + spread * rng.standard_normal((n, D)), y


def blob_data(
    n_train: int = 200, n_val: int = 100, D: int = 5, K: int = 3, seed: int = 0
) -> dict[str, np.ndarray]:
    """Train/val splits of one blob problem."""
    X, y = blobs(n_train + n_val, D, K, seed)
    return {
        "X_train": X[:n_train],
        "y_train": y[:n_train],
        "X_val": X[n_train:],
        "y_val": y[n_train:],
    }


def softmax_factory(config: dict[str, Any], seed: int) -> SoftmaxRegression:
    """Model factory for the tuning tests (module level, so spawn workers can import it)."""
    return SoftmaxRegression(config.get("D", 5), config.get("K", 3), seed=seed)


def scripted_train_fn(config: dict[str, Any], seed: int) -> dict[str, Any]:
    """A train_fn whose validation accuracy is a known function of the config."""
    val_acc = 1.0 - (config["x"] - 2) ** 2 / 10 - (config["y"] - 0.5) ** 2
    return {"val_acc": val_acc, "seed": seed, "history": {"val_acc_history": [0.0, val_acc]}}
