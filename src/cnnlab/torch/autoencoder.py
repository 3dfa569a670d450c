"""The sparse autoencoder's PyTorch twin (seed 002, question 1, part B).

The seed checked its hand-written ``aeCost`` by training the same network in Keras from the same
initial weights with the same full-batch gradient descent. Here the twin is PyTorch: the cost is
written once more from its formula with torch operations, and autograd, not cnnlab's
hand-written backward pass, gives its gradient. Both are float64, so the two cost histories
agree to rounding, step after step.
"""

from __future__ import annotations

import numpy as np
import torch

from cnnlab.functional.sparse_autoencoder import check_ae_data, check_ae_params, pack, unpack


def torch_ae_cost(
    weights: tuple[torch.Tensor, ...], X: torch.Tensor, lam: float, beta: float, rho: float
) -> torch.Tensor:
    """J = (1/2N) sum ||o - x||^2 + (lambda/2)(|W1|^2 + |W2|^2) + beta sum_b KL(rho | rho_hat_b).

    Args:
        weights: W1 (Lin, Lhid), W2 (Lhid, Lin), b1 (Lhid,), b2 (Lin,).
        X: (N, Lin) inputs, also the targets.
        lam: weight decay.
        beta: weight of the sparsity penalty.
        rho: target mean activation.

    Returns:
        The cost, a 0-d tensor.
    """
    W1, W2, b1, b2 = weights
    hidden = torch.sigmoid(X @ W1 + b1)
    out = torch.sigmoid(hidden @ W2 + b2)
    cost = 0.5 * ((out - X) ** 2).sum() / X.shape[0]
    cost = cost + 0.5 * lam * ((W1**2).sum() + (W2**2).sum())
    rho_hat = hidden.mean(dim=0)
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
    return cost + beta * kl.sum()


def train_gd_torch(
    theta: np.ndarray, data: np.ndarray, params: tuple, lr: float, iters: int
) -> tuple[np.ndarray, list[float]]:
    """Full-batch gradient descent on :func:`torch_ae_cost` with autograd, in float64.

    The same steps as :func:`cnnlab.autoencoder.train_gd`: ``iters`` updates
    ``w <- w - lr dJ/dw`` of every weight.

    Args:
        theta: the initial weights as one flat vector (:func:`~cnnlab.functional.
            sparse_autoencoder.pack` order).
        data: (N, Lin) inputs.
        params: (Lin, Lhid, lambda, beta, rho).
        lr: step size.
        iters: number of steps.

    Returns:
        (the final flat weights, the cost before each step and after the last: iters + 1
        values).

    Raises:
        ValueError: bad params or data.
    """
    lin, lhid, lam, beta, rho = check_ae_params(params)
    X = torch.from_numpy(check_ae_data(data, lin, "train_gd_torch"))
    start = np.array(theta, dtype=np.float64)
    weights = tuple(torch.tensor(w, requires_grad=True) for w in unpack(start, lin, lhid))
    history = []
    for _ in range(iters):
        cost = torch_ae_cost(weights, X, lam, beta, rho)
        history.append(float(cost.detach()))
        grads = torch.autograd.grad(cost, weights)
        with torch.no_grad():
            for w, g in zip(weights, grads, strict=True):
                w -= lr * g
    with torch.no_grad():
        history.append(float(torch_ae_cost(weights, X, lam, beta, rho)))
    return pack([w.detach().numpy() for w in weights]), history
