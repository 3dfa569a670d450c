"""``FullyConnectedNet``: the CS231n multi-layer perceptron with optional norm and dropout."""

from __future__ import annotations

import numpy as np

from cnnlab.nn import BatchNorm1d, Dropout, LayerNorm, Linear, ReLU, Sequential
from cnnlab.nn.init import as_generator

from .classifier import Classifier

NORMS = {"batchnorm": BatchNorm1d, "layernorm": LayerNorm}


class FullyConnectedNet(Classifier):
    """{affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax.

    ``params`` use the CS231n names: W1, b1, ..., WL, bL and, with normalisation, gamma1,
    beta1, ..., gamma(L-1), beta(L-1). Weights ``weight_scale * N(0, 1)``, biases zero, gammas
    one, betas zero. Batch-norm running statistics are buffers (``norm1.running_mean``, ...).

    ``dropout_keep_ratio`` is the probability of KEEPING a unit (CS231n); 1 means no dropout.
    ``seed`` seeds the initialisation and the dropout masks (a seeded network draws a new but
    reproducible mask on each training pass). Input (N, *) flattening to ``input_dim`` features.

    Args:
        hidden_dims: units of each hidden layer (L - 1 of them).
        input_dim: D, the number of features of one input.
        num_classes: number of class scores.
        dropout_keep_ratio: probability of keeping a unit, in (0, 1].
        normalization: None, ``"batchnorm"`` or ``"layernorm"``.
        reg: L2 strength of the loss's weight penalty (see :class:`Classifier`).
        weight_scale: standard deviation of the normal weights.
        dtype: dtype of the parameters.
        seed: seed or Generator of the weights and dropout masks.

    Raises:
        ValueError: an unknown ``normalization`` or ``dropout_keep_ratio`` outside (0, 1].
    """

    def __init__(
        self,
        hidden_dims: list[int],
        input_dim: int = 3 * 32 * 32,
        num_classes: int = 10,
        dropout_keep_ratio: float = 1,
        normalization: str | None = None,
        reg: float = 0.0,
        weight_scale: float = 1e-2,
        dtype: type = np.float32,
        seed: np.random.Generator | int | None = None,
    ) -> None:
        if normalization is not None and normalization not in NORMS:
            raise ValueError(
                f"FullyConnectedNet: normalization must be None or one of {sorted(NORMS)}, "
                f"got {normalization!r}"
            )
        if not 0 < dropout_keep_ratio <= 1:
            raise ValueError(
                f"FullyConnectedNet: dropout_keep_ratio must be in (0, 1], got {dropout_keep_ratio}"
            )
        rng = as_generator(seed)
        dims = [int(input_dim), *map(int, hidden_dims), int(num_classes)]
        layers, names = {}, {}
        for i in range(1, len(dims)):
            layers[f"fc{i}"] = Linear(
                dims[i - 1], dims[i], weight_init=weight_scale, dtype=dtype, rng=rng
            )
            names |= {f"fc{i}.weight": f"W{i}", f"fc{i}.bias": f"b{i}"}
            if i == len(dims) - 1:
                break
            if normalization is not None:
                layers[f"norm{i}"] = NORMS[normalization](dims[i], dtype=dtype)
                names |= {f"norm{i}.weight": f"gamma{i}", f"norm{i}.bias": f"beta{i}"}
            layers[f"relu{i}"] = ReLU()
            if dropout_keep_ratio < 1:
                layers[f"dropout{i}"] = Dropout(1 - dropout_keep_ratio, rng=rng.spawn(1)[0])
        self.num_layers = len(dims) - 1
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio < 1
        super().__init__(
            Sequential(layers), reg=reg, dtype=dtype, input_shape=(int(input_dim),), names=names
        )
