"""The sparse autoencoder: one sigmoid hidden layer trained on rows of data (seed 002, question 1).

The cost and its gradients are :mod:`cnnlab.functional.sparse_autoencoder`'s; this module
holds the weights and trains them. The three trainers work on the flat weight vector of
:func:`~cnnlab.functional.sparse_autoencoder.pack`: full-batch gradient descent (the seed's,
lr 0.35), Adam (:func:`cnnlab.training.optim.adam`, full or mini-batch) and L-BFGS through
``scipy.optimize.minimize`` (the minFunc / fminunc the seed said Python lacked).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController
from tqdm.auto import tqdm

from cnnlab._io import save_npz_atomic
from cnnlab.functional.sparse_autoencoder import (
    WEIGHT_NAMES,
    check_ae_data,
    check_ae_params,
    flat_cost,
    init_weights,
    pack,
    sigmoid,
    unpack,
)
from cnnlab.training.optim import adam

OPTIMIZERS = ("lbfgs", "adam", "gd")
DEFAULT_ITERS = {"lbfgs": 400, "adam": 5000, "gd": 5000}
DEFAULT_LR = {"adam": 1e-3, "gd": 0.35}
#: seed 002 part D's (Lhid, lambda): Lhid 10, 60, 100 at lambda 5e-4; lambda 0, 1e-4, 1e-3 at 64
PART_D_SETTINGS = ((10, 5e-4), (60, 5e-4), (100, 5e-4), (64, 0.0), (64, 1e-4), (64, 1e-3))

Callback = Callable[[int, float], Any]


# ----------------------------------------------------------------------------- trainers
# Each takes fun(theta) -> (J, grad) (or, for Adam, fun(theta, rows) for a mini-batch), runs,
# and returns (theta, history, info) with history[k] the full-data cost after k iterations.


def _progress(total: int, verbose: bool, desc: str):
    return tqdm(total=total, desc=desc, disable=None if verbose else True, leave=False)


def train_gd(
    fun, theta, lr: float, iters: int, callback: Callback | None = None, verbose: bool = False
):
    """Full-batch gradient descent theta <- theta - lr grad, ``iters`` steps (the seed's sgd)."""
    theta = np.array(theta, dtype=np.float64)
    history = []
    with _progress(iters, verbose, "gd") as bar:
        for it in range(iters):
            cost, grad = fun(theta)
            history.append(cost)
            theta -= lr * grad
            bar.set_postfix(cost=f"{cost:.6f}", refresh=False)
            bar.update()
            if callback is not None:
                callback(it, cost)
    history.append(fun(theta)[0])
    return theta, history, {"iterations": iters, "function_evaluations": iters + 1}


def train_adam(
    fun,
    theta,
    lr: float,
    iters: int,
    num_samples: int,
    batch_size: int | None = None,
    seed: int | np.random.Generator | None = None,
    callback: Callback | None = None,
    verbose: bool = False,
):
    """Adam (:func:`cnnlab.training.optim.adam`, default betas) for ``iters`` epochs.

    ``fun(theta, rows)`` costs a mini-batch: ``rows`` is None for the full batch (``batch_size``
    None or >= num_samples: one step per epoch), else the indices of one mini-batch of a
    shuffled epoch (the sparsity target then applies to each mini-batch's mean activation).
    The shuffling uses ``seed``. With mini-batches the full-data cost is evaluated once per
    epoch for the history.
    """
    theta = np.array(theta, dtype=np.float64)
    config: dict[str, Any] = {"learning_rate": lr}
    rng = np.random.default_rng(seed)
    full = batch_size is None or batch_size >= num_samples
    history = [] if full else [fun(theta, None)[0]]
    evals = len(history)
    with _progress(iters, verbose, "adam") as bar:
        for it in range(iters):
            batches = (
                [None]
                if full
                else np.array_split(rng.permutation(num_samples), -(-num_samples // batch_size))
            )
            for rows in batches:
                cost, grad = fun(theta, rows)
                theta, config = adam(theta, grad, config)
            evals += len(batches)
            if not full:
                cost = fun(theta, None)[0]
                evals += 1
            history.append(cost)
            bar.set_postfix(cost=f"{cost:.6f}", refresh=False)
            bar.update()
            if callback is not None:
                callback(it, cost)
    if full:
        history.append(fun(theta, None)[0])
        evals += 1
    return theta, history, {"iterations": iters, "function_evaluations": evals}


@contextmanager
def _threaded_only_inside(fun: Callable) -> Iterator[Callable]:
    """Every loaded BLAS on one thread, except while ``fun`` (the cost) runs.

    SciPy's L-BFGS-B updates its vectors through BLAS (ddot, daxpy on the ~33,000 weights):
    cheap work, but when SciPy and NumPy each ship their own OpenBLAS (the wheels do), two
    thread pools take turns spin-waiting on the same cores. On 2 cores that made L-BFGS on
    the seed's sizes 2.9x slower (200 iterations: 19.0 s against 6.6 s with this context); the
    cost's large matrix products keep the thread counts found on entry. Yields ``fun`` wrapped
    to restore those counts while it runs.
    """
    libs = ThreadpoolController().select(user_api="blas").lib_controllers
    counts = [lib.num_threads for lib in libs]

    def set_threads(values: Sequence[int]) -> None:
        for lib, n in zip(libs, values, strict=True):
            lib.set_num_threads(n)

    def threaded(*args):
        set_threads(counts)
        try:
            return fun(*args)
        finally:
            set_threads([1] * len(libs))

    set_threads([1] * len(libs))
    try:
        yield threaded
    finally:
        set_threads(counts)


def train_lbfgs(fun, theta, iters: int, callback: Callback | None = None, verbose: bool = False):
    """L-BFGS with SciPy: ``minimize(fun, theta, jac=True, method='L-BFGS-B')``.

    At most ``iters`` iterations (it may stop earlier when the gradient or the progress is tiny).
    SciPy's own BLAS work runs on one thread (:func:`_threaded_only_inside`).
    """
    history = [fun(theta)[0]]
    with _progress(iters, verbose, "lbfgs") as bar, _threaded_only_inside(fun) as cost:

        def on_iteration(intermediate_result):
            cost = float(intermediate_result.fun)
            history.append(cost)
            bar.set_postfix(cost=f"{cost:.6f}", refresh=False)
            bar.update()
            if callback is not None:
                callback(len(history) - 2, cost)

        res = minimize(
            cost,
            np.asarray(theta, dtype=np.float64),
            jac=True,
            method="L-BFGS-B",
            callback=on_iteration,
            options={"maxiter": iters},
        )
    info = {
        "iterations": int(res.nit),
        "function_evaluations": int(res.nfev) + 1,
        "message": str(res.message),
    }
    return res.x, history, info


# ----------------------------------------------------------------------------- the model


class SparseAutoencoder:
    """Sparse autoencoder Lin -> Lhid -> Lin with sigmoid units, trained on rows of ``data``.

    Args:
        Lin: inputs per sample (p*p for p x p patches).
        Lhid: hidden units.
        lam: weight decay lambda (on W1 and W2, not on the biases).
        beta: weight of the sparsity penalty.
        rho: target mean activation of each hidden unit.
        seed: seeds the initial weights (and the mini-batch order of Adam).

    Attributes: ``W1`` (Lin, Lhid), ``W2`` (Lhid, Lin), ``b1`` (Lhid,), ``b2`` (Lin,);
    ``cost_history`` (list: the full-data cost after 0, 1, ... iterations of the last fit);
    ``fit_info`` (dict: optimizer, iterations, function_evaluations, seconds, final_cost).
    """

    def __init__(
        self,
        Lin: int,
        Lhid: int,
        lam: float = 5e-4,
        beta: float = 0.01,
        rho: float = 0.05,
        seed: int | None = None,
    ) -> None:
        check_ae_params((Lin, Lhid, lam, beta, rho))
        self.Lin, self.Lhid = int(Lin), int(Lhid)
        self.lam, self.beta, self.rho = float(lam), float(beta), float(rho)
        self.seed = seed
        self.theta = pack(init_weights(self.Lin, self.Lhid, seed))
        self.cost_history: list[float] = []
        self.fit_info: dict[str, Any] = {}

    # weights are views into the flat vector that the optimisers update
    @property
    def params(self) -> tuple[int, int, float, float, float]:
        """The seed's ``params`` tuple (Lin, Lhid, lambda, beta, rho)."""
        return self.Lin, self.Lhid, self.lam, self.beta, self.rho

    @property
    def weights(self) -> tuple[np.ndarray, ...]:
        """(W1, W2, b1, b2), views into :attr:`theta`."""
        return unpack(self.theta, self.Lin, self.Lhid)

    W1 = property(lambda self: self.weights[0], doc="(Lin, Lhid) encoder weights.")
    W2 = property(lambda self: self.weights[1], doc="(Lhid, Lin) decoder weights.")
    b1 = property(lambda self: self.weights[2], doc="(Lhid,) encoder biases.")
    b2 = property(lambda self: self.weights[3], doc="(Lin,) decoder biases.")

    @property
    def hidden_filters(self) -> np.ndarray:
        """Each hidden unit's input weights as a square image, shape (Lhid, p, p).

        Here Lin = p * p; the array is ready for :func:`cnnlab.filters.filter_summary`.
        """
        p = math.isqrt(self.Lin)
        if p * p != self.Lin:
            raise ValueError(
                f"SparseAutoencoder.hidden_filters: Lin = {self.Lin} inputs are not a square image"
            )
        return self.W1.T.reshape(self.Lhid, p, p)

    def cost(self, data: np.ndarray) -> float:
        """J on ``data`` (N, Lin) with the current weights."""
        return flat_cost(self.theta, data, self.params)[0]

    def fit(
        self,
        data: np.ndarray,
        optimizer: str = "lbfgs",
        iters: int | None = None,
        lr: float | None = None,
        batch_size: int | None = None,
        callback: Callback | None = None,
        verbose: bool = False,
    ) -> SparseAutoencoder:
        """Train on ``data`` (N, Lin), starting from the current weights.

        Args:
            data: (N, Lin) the training data, one sample per row.
            optimizer: 'lbfgs' (SciPy L-BFGS-B), 'adam' or 'gd' (full-batch gradient descent).
            iters: iterations (L-BFGS, at most) or epochs (gd, adam); defaults 400 / 5000 / 5000.
            lr: step size for gd (default 0.35, the seed's) and adam (default 1e-3).
            batch_size: Adam mini-batch size; None = full batch.
            callback: called as ``callback(iteration, cost)`` after every iteration / epoch.
            verbose: show a tqdm progress bar (only on a terminal).

        Returns:
            self, with :attr:`cost_history` and :attr:`fit_info` filled in.
        """
        if optimizer not in OPTIMIZERS:
            raise ValueError(
                f"SparseAutoencoder.fit: optimizer must be one of {OPTIMIZERS}, got {optimizer!r}"
            )
        X = check_ae_data(data, self.Lin, "SparseAutoencoder.fit")
        iters = DEFAULT_ITERS[optimizer] if iters is None else int(iters)
        if iters < 0:
            raise ValueError(f"SparseAutoencoder.fit: iters must be >= 0, got {iters}")
        lr = DEFAULT_LR.get(optimizer) if lr is None else float(lr)
        start = time.perf_counter()
        if optimizer == "lbfgs":
            theta, history, info = train_lbfgs(
                lambda t: flat_cost(t, X, self.params), self.theta, iters, callback, verbose
            )
        elif optimizer == "gd":
            theta, history, info = train_gd(
                lambda t: flat_cost(t, X, self.params), self.theta, lr, iters, callback, verbose
            )
        else:

            def batch_cost(t, rows):
                return flat_cost(t, X if rows is None else X[rows], self.params)

            theta, history, info = train_adam(
                batch_cost,
                self.theta,
                lr,
                iters,
                X.shape[0],
                batch_size,
                self.seed,
                callback=callback,
                verbose=verbose,
            )
        self.theta = np.asarray(theta, dtype=np.float64)
        self.cost_history = [float(c) for c in history]
        self.fit_info = {
            "optimizer": optimizer,
            "lr": lr,
            "batch_size": batch_size,
            **info,
            "seconds": time.perf_counter() - start,
            "initial_cost": self.cost_history[0] if history else None,
            "final_cost": self.cost_history[-1],
        }
        return self

    def encode(self, data: np.ndarray) -> np.ndarray:
        """Hidden activations sigmoid(data W1 + b1): (N, Lin) -> (N, Lhid)."""
        return sigmoid(
            check_ae_data(data, self.Lin, "SparseAutoencoder.encode") @ self.W1 + self.b1
        )

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Outputs sigmoid(codes W2 + b2): (N, Lhid) -> (N, Lin)."""
        codes = np.asarray(codes, dtype=np.float64)
        if codes.ndim != 2 or codes.shape[1] != self.Lhid:
            raise ValueError(
                f"SparseAutoencoder.decode: codes must be (N, {self.Lhid}), got shape {codes.shape}"
            )
        return sigmoid(codes @ self.W2 + self.b2)

    def reconstruct(self, data: np.ndarray) -> np.ndarray:
        """decode(encode(data)): (N, Lin) -> (N, Lin)."""
        return self.decode(self.encode(data))

    def save(self, path: str | os.PathLike) -> None:
        """Weights, hyper-parameters and cost history to an .npz file (written atomically)."""
        save_npz_atomic(
            path,
            W1=self.W1,
            W2=self.W2,
            b1=self.b1,
            b2=self.b2,
            hyper=np.array([self.lam, self.beta, self.rho]),
            sizes=np.array([self.Lin, self.Lhid]),
            cost_history=np.array(self.cost_history, dtype=np.float64),
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> SparseAutoencoder:
        """A model saved by :meth:`save` (read with ``allow_pickle=False``)."""
        with np.load(path, allow_pickle=False) as f:
            lin, lhid = (int(s) for s in f["sizes"])
            lam, beta, rho = (float(h) for h in f["hyper"])
            model = cls(lin, lhid, lam, beta, rho)
            model.theta = pack([f[k] for k in WEIGHT_NAMES])
            model.cost_history = [float(c) for c in f["cost_history"]]
        return model
