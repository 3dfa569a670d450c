"""Sparse autoencoder with one sigmoid hidden layer (seed 002, question 1; Ng's CS294A notes).

For N inputs d (rows of ``data``, Lin values each), hidden codes h = sigmoid(d W1 + b1) and
outputs o = sigmoid(h W2 + b2), the cost minimised is::

    J = 1/(2N) sum_n ||d_n - o_n||^2 + lambda/2 (sum W1^2 + sum W2^2)
        + beta sum_b KL(rho || rho_hat_b),    rho_hat_b = mean_n h_nb,
    KL(rho || r) = rho log(rho / r) + (1 - rho) log((1 - rho) / (1 - r)).

Weights follow the seed's packing ``W_e = (W1, W2, b1, b2)`` with W1 (Lin, Lhid), W2 (Lhid,
Lin), b1 (Lhid,) or (1, Lhid), b2 (Lin,) or (1, Lin); a dict with those four keys works too.
:func:`pack` / :func:`unpack` convert to and from the flat vector that SciPy's optimisers use.

Differences from the seed's ``aeCost``: the weight-decay gradient is lambda W (the seed divided
it by N as well), the sparsity term works for any N (the seed tiled it to a hard-coded 10240
rows), and the sigmoid cannot overflow (:func:`sigmoid`). The three trainers are
full-batch gradient descent (the seed's, lr 0.35), Adam (full or mini-batch) and L-BFGS through
``scipy.optimize.minimize`` (the minFunc / fminunc the seed said Python lacked).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController
from tqdm.auto import tqdm

from cnnlab._io import save_npz_atomic
from cnnlab.training.optim import adam

WEIGHT_NAMES = ("W1", "W2", "b1", "b2")
OPTIMIZERS = ("lbfgs", "adam", "gd")
DEFAULT_ITERS = {"lbfgs": 400, "adam": 5000, "gd": 5000}
DEFAULT_LR = {"adam": 1e-3, "gd": 0.35}

Weights = Sequence[np.ndarray] | Mapping[str, np.ndarray]
Params = Sequence[float] | Mapping[str, float]
Callback = Callable[[int, float], Any]


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-x)), elementwise, optionally in place (``out=x``).

    Agrees with ``scipy.special.expit`` to a few ulp everywhere (exp(-x) overflowing to inf
    for x < -709 gives the correct limit 0) and is about 3x faster on large float64 arrays,
    which makes one cost evaluation about 15 % faster. Shapes: any -> same.
    """
    out = np.negative(x, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def _unpack_params(params: Params) -> tuple[int, int, float, float, float]:
    """(Lin, Lhid, lambda, beta, rho) from the seed's tuple or a dict with those keys."""
    if isinstance(params, Mapping):
        params = [params[k] for k in ("Lin", "Lhid", "lambda", "beta", "rho")]
    if len(params) != 5:
        raise ValueError(f"ae_cost: params must be (Lin, Lhid, lambda, beta, rho), got {params}")
    lin, lhid, lam, beta, rho = params
    if lam < 0 or beta < 0:
        raise ValueError(f"ae_cost: lambda ({lam}) and beta ({beta}) must be >= 0")
    if beta > 0 and not 0 < rho < 1:
        raise ValueError(f"ae_cost: the sparsity target rho must lie in (0, 1), got {rho}")
    return int(lin), int(lhid), float(lam), float(beta), float(rho)


def _as_tuple(W_e: Weights) -> tuple[np.ndarray, ...]:
    if isinstance(W_e, Mapping):
        return tuple(np.asarray(W_e[k]) for k in WEIGHT_NAMES)
    if len(W_e) != 4:
        raise ValueError(f"ae_cost: W_e must hold (W1, W2, b1, b2), got {len(W_e)} arrays")
    return tuple(np.asarray(w) for w in W_e)


def _check_shapes(W1, W2, b1, b2, lin: int, lhid: int) -> None:
    expected = {"W1": (lin, lhid), "W2": (lhid, lin), "b1": (lhid,), "b2": (lin,)}
    for name, w in zip(WEIGHT_NAMES, (W1, W2, b1, b2), strict=True):
        shape = w.shape
        if name.startswith("b") and w.ndim == 2 and shape[0] == 1:
            shape = shape[1:]
        if shape != expected[name]:
            raise ValueError(
                f"ae_cost: {name} has shape {w.shape}, expected {expected[name]} "
                f"for Lin={lin}, Lhid={lhid}"
            )


def init_weights(
    Lin: int, Lhid: int, seed: int | np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Random weights as in the seed: every entry of a layer ~ U(-w0, w0).

    w0 = sqrt(6 / (Lpre + Lpost)) with Lpre, Lpost the layer's fan-in and fan-out, the same for
    both layers here since Lout = Lin. Biases are drawn like the weights (the seed's choice).

    Returns: (W1 (Lin, Lhid), W2 (Lhid, Lin), b1 (Lhid,), b2 (Lin,)), float64.
    """
    if Lin < 1 or Lhid < 1:
        raise ValueError(f"init_weights: Lin ({Lin}) and Lhid ({Lhid}) must be positive")
    rng = np.random.default_rng(seed)
    w0 = np.sqrt(6.0 / (Lin + Lhid))
    W1 = rng.uniform(-w0, w0, (Lin, Lhid))
    W2 = rng.uniform(-w0, w0, (Lhid, Lin))
    b1 = rng.uniform(-w0, w0, Lhid)
    b2 = rng.uniform(-w0, w0, Lin)
    return W1, W2, b1, b2


def pack(W_e: Weights) -> np.ndarray:
    """Flat float64 vector [W1.ravel(), W2.ravel(), b1, b2] of length 2 Lin Lhid + Lhid + Lin."""
    return np.concatenate([np.ravel(w) for w in _as_tuple(W_e)]).astype(np.float64, copy=False)


def unpack(theta: np.ndarray, Lin: int, Lhid: int) -> tuple[np.ndarray, ...]:
    """Inverse of :func:`pack`: views (W1 (Lin, Lhid), W2 (Lhid, Lin), b1 (Lhid,), b2 (Lin,))."""
    theta = np.asarray(theta)
    n = Lin * Lhid
    if theta.shape != (2 * n + Lhid + Lin,):
        raise ValueError(
            f"unpack: theta has shape {theta.shape}, expected "
            f"({2 * n + Lhid + Lin},) for Lin={Lin}, Lhid={Lhid}"
        )
    return (
        theta[:n].reshape(Lin, Lhid),
        theta[n : 2 * n].reshape(Lhid, Lin),
        theta[2 * n : 2 * n + Lhid],
        theta[2 * n + Lhid :],
    )


def _check_data(data: np.ndarray, lin: int, func: str = "ae_cost") -> np.ndarray:
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or data.shape[1] != lin or data.shape[0] == 0:
        raise ValueError(
            f"{func}: data must be (N, Lin) = (N, {lin}) with N >= 1, got shape {data.shape}"
        )
    return data


def _cost_grads(W1, W2, b1, b2, X, lam, beta, rho, grad_out=None):
    """Cost and gradients for validated float64 arrays (b1, b2 1-d); the core of :func:`ae_cost`.

    ``grad_out``: optional tuple of four arrays shaped like the weights that receive the
    gradients (used to write straight into a flat gradient vector). Returns (J, grads).
    """
    n = X.shape[0]
    h = X @ W1
    h += b1
    sigmoid(h, out=h)  # (N, Lhid) hidden activations
    o = h @ W2
    o += b2
    sigmoid(o, out=o)  # (N, Lin) reconstructions
    err = o - X
    cost = 0.5 / n * np.vdot(err, err) + 0.5 * lam * (np.vdot(W1, W1) + np.vdot(W2, W2))
    # err becomes (o - d) o (o - 1) = -N dJ/d(output pre-activation); the factor -1/N is
    # applied to the small (Lhid, Lin) / (N, Lhid) arrays below instead of this (N, Lin) one.
    err *= o
    o -= 1.0
    err *= o
    gW1, gW2, gb1, gb2 = grad_out if grad_out is not None else (None,) * 4
    gW2 = np.matmul(h.T, err, out=gW2)
    gW2 *= -1.0 / n
    gb2 = np.sum(err, axis=0, out=gb2)
    gb2 *= -1.0 / n
    dh = err @ W2.T  # -N dJ/dh, (N, Lhid)
    if beta > 0:
        rho_hat = h.mean(axis=0)
        cost += beta * np.sum(
            rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
        )
        dh -= beta * ((1 - rho) / (1 - rho_hat) - rho / rho_hat)
    dh *= h
    h -= 1.0
    dh *= h  # N dJ/d(hidden pre-activation)
    dh *= 1.0 / n
    gW1 = np.matmul(X.T, dh, out=gW1)
    gb1 = np.sum(dh, axis=0, out=gb1)
    if lam:
        gW1 += lam * W1
        gW2 += lam * W2
    return float(cost), (gW1, gW2, gb1, gb2)


def ae_cost(W_e: Weights, data: np.ndarray, params: Params) -> tuple[float, Any]:
    """Sparse-autoencoder cost and its gradient (the seed's ``aeCost``, corrected).

    Inputs:
    - W_e: (W1 (Lin, Lhid), W2 (Lhid, Lin), b1 (Lhid,) or (1, Lhid), b2 (Lin,) or (1, Lin)),
      as a tuple/list or a dict with keys 'W1', 'W2', 'b1', 'b2'.
    - data: (N, Lin) inputs, which are also the targets.
    - params: (Lin, Lhid, lambda, beta, rho) or a dict with those keys.

    Returns: (J, grads): J a float; grads shaped like W_e (tuple, or dict when W_e is a dict),
    each gradient with the shape of its weight. Everything in float64.
    """
    lin, lhid, lam, beta, rho = _unpack_params(params)
    W1, W2, b1, b2 = _as_tuple(W_e)
    _check_shapes(W1, W2, b1, b2, lin, lhid)
    X = _check_data(data, lin)
    f64 = [np.asarray(w, dtype=np.float64) for w in (W1, W2, b1.reshape(-1), b2.reshape(-1))]
    cost, grads = _cost_grads(*f64, X, lam, beta, rho)
    grads = (grads[0], grads[1], grads[2].reshape(b1.shape), grads[3].reshape(b2.shape))
    if isinstance(W_e, Mapping):
        return cost, dict(zip(WEIGHT_NAMES, grads, strict=True))
    return cost, grads


def flat_cost(theta: np.ndarray, data: np.ndarray, params: Params) -> tuple[float, np.ndarray]:
    """:func:`ae_cost` on the flat vector of :func:`pack`: returns (J, gradient (len(theta),)).

    Made for ``scipy.optimize.minimize(flat_cost, theta0, args=(data, params), jac=True)``.
    """
    lin, lhid, lam, beta, rho = _unpack_params(params)
    X = _check_data(data, lin, "flat_cost")
    theta = np.asarray(theta, dtype=np.float64)
    grad = np.empty_like(theta)
    cost, _ = _cost_grads(
        *unpack(theta, lin, lhid), X, lam, beta, rho, grad_out=unpack(grad, lin, lhid)
    )
    return cost, grad


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
    """L-BFGS with SciPy: ``minimize(fun, theta, jac=True, method='L-BFGS-B')``, at most
    ``iters`` iterations (it may stop earlier when the gradient or the progress is tiny).
    SciPy's own BLAS work runs on one thread (:func:`_threaded_only_inside`)."""
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
        _unpack_params((Lin, Lhid, lam, beta, rho))
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
        """(Lhid, p, p): each hidden unit's input weights as a square image (Lin = p * p),
        ready for :func:`cnnlab.filters.filter_summary`."""
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
            optimizer: 'lbfgs' (SciPy L-BFGS-B), 'adam' or 'gd' (full-batch gradient descent).
            iters: iterations (L-BFGS, at most) or epochs (gd, adam); defaults 400 / 5000 / 5000.
            lr: step size for gd (default 0.35, the seed's) and adam (default 1e-3).
            batch_size: Adam mini-batch size; None = full batch.
            callback: called as ``callback(iteration, cost)`` after every iteration / epoch.
            verbose: show a tqdm progress bar (only on a terminal).

        Returns: self, with :attr:`cost_history` and :attr:`fit_info` filled in.
        """
        if optimizer not in OPTIMIZERS:
            raise ValueError(
                f"SparseAutoencoder.fit: optimizer must be one of {OPTIMIZERS}, got {optimizer!r}"
            )
        X = _check_data(data, self.Lin, "SparseAutoencoder.fit")
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
        return sigmoid(_check_data(data, self.Lin, "SparseAutoencoder.encode") @ self.W1 + self.b1)

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
