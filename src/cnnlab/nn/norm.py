"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm.

Scales and shifts are stored as ``weight`` and ``bias`` (PyTorch's names, the CS231n ``gamma``
and ``beta``). Batch norm keeps ``running_mean`` / ``running_var`` buffers updated with the
CS231n convention ``running = momentum * running + (1 - momentum) * batch`` (momentum 0.9 here is
PyTorch's momentum 0.1).
"""

from __future__ import annotations

import numpy as np

from cnnlab.functional import norm as F

from .module import Module


class _BatchNorm(Module):
    """Batch norm over the feature/channel axis 1; ``_ops`` is the functional pair."""

    _ops: tuple = ()

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float = 0.9, dtype: type = np.float32
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.params["weight"] = np.ones(self.num_features, dtype=dtype)
        self.params["bias"] = np.zeros(self.num_features, dtype=dtype)
        self.buffers["running_mean"] = np.zeros(self.num_features, dtype=dtype)
        self.buffers["running_var"] = np.ones(self.num_features, dtype=dtype)
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Normalise ``x`` with batch statistics (train) or the running ones (eval).

        In training mode the running statistics are updated in place.
        """
        bn_param = {
            "mode": "train" if self.training else "test",
            "eps": self.eps,
            "momentum": self.momentum,
            "running_mean": self.buffers["running_mean"],
            "running_var": self.buffers["running_var"],
        }
        out, self._cache = self._ops[0](x, self.params["weight"], self.params["bias"], bn_param)
        for key in ("running_mean", "running_var"):
            if bn_param[key] is not self.buffers[key]:
                self.buffers[key][...] = bn_param[key]
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Store the weight and bias gradients; return dx, shaped like the forward input."""
        dx, self.grads["weight"], self.grads["bias"] = self._ops[1](dout, self._cache)
        return dx

    def extra_repr(self) -> str:
        """Features, eps and momentum, for the module's repr."""
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch norm of x (N, D) over the batch; weight, bias, running stats (D,).

    Args:
        num_features: D.
        eps: added to the variance before the square root.
        momentum: weight of the old running statistics in each update (CS231n convention).
        dtype: dtype of the parameters and buffers.
    """

    _ops = (F.batchnorm_forward, F.batchnorm_backward_alt)


class BatchNorm2d(_BatchNorm):
    """Spatial batch norm of x (N, C, H, W) over N, H, W; weight, bias, running stats (C,).

    Args:
        num_features: C.
        eps: added to the variance before the square root.
        momentum: weight of the old running statistics in each update (CS231n convention).
        dtype: dtype of the parameters and buffers.
    """

    _ops = (F.spatial_batchnorm_forward, F.spatial_batchnorm_backward)


class LayerNorm(Module):
    """Normalise each sample over its trailing ``normalized_shape`` dims (as torch.nn.LayerNorm).

    x (N, *normalized_shape); weight and bias have shape ``normalized_shape``.

    Args:
        normalized_shape: the trailing dims normalised over, an int for one dim.
        eps: added to the variance before the square root.
        dtype: dtype of the parameters.
    """

    def __init__(
        self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5, dtype: type = np.float32
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape, self.eps = tuple(int(s) for s in shape), eps
        self.params["weight"] = np.ones(self.normalized_shape, dtype=dtype)
        self.params["bias"] = np.zeros(self.normalized_shape, dtype=dtype)
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Normalise each sample of x (N, *normalized_shape), then scale and shift.

        Args:
            x: (N, *normalized_shape) input.

        Returns:
            Output shaped like ``x``.

        Raises:
            ValueError: ``x`` whose trailing dims are not ``normalized_shape``.
        """
        if tuple(np.shape(x)[1:]) != self.normalized_shape:
            raise ValueError(
                f"LayerNorm: input must be (N, *{self.normalized_shape}), got {np.shape(x)}"
            )
        w, b = self.params["weight"].reshape(-1), self.params["bias"].reshape(-1)
        out, self._cache = F.layernorm_forward(x.reshape(x.shape[0], -1), w, b, {"eps": self.eps})
        return out.reshape(x.shape)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Store the weight and bias gradients; return dx from dout (N, *normalized_shape)."""
        dx, dw, db = F.layernorm_backward(dout.reshape(dout.shape[0], -1), self._cache)
        self.grads["weight"] = dw.reshape(self.normalized_shape)
        self.grads["bias"] = db.reshape(self.normalized_shape)
        return dx.reshape(dout.shape)

    def extra_repr(self) -> str:
        """Normalised shape and eps, for the module's repr."""
        return f"{self.normalized_shape}, eps={self.eps}"


class GroupNorm(Module):
    """Group norm of x (N, C, H, W), each sample normalised per group of channels.

    The C channels are split into ``num_groups`` groups; each sample and group is normalised over
    its channels and pixels. Weight and bias are (C,).

    Args:
        num_groups: G, a divisor of ``num_channels``.
        num_channels: C.
        eps: added to the variance before the square root.
        dtype: dtype of the parameters.

    Raises:
        ValueError: ``num_groups`` below 1 or not dividing ``num_channels``.
    """

    def __init__(
        self, num_groups: int, num_channels: int, eps: float = 1e-5, dtype: type = np.float32
    ) -> None:
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels {num_channels} must be divisible by num_groups "
                f"{num_groups}"
            )
        self.num_groups, self.num_channels, self.eps = int(num_groups), int(num_channels), eps
        self.params["weight"] = np.ones(self.num_channels, dtype=dtype)
        self.params["bias"] = np.zeros(self.num_channels, dtype=dtype)
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Normalise x (N, C, H, W) per sample and group; the output has the same shape."""
        shape = (1, self.num_channels, 1, 1)
        w, b = self.params["weight"].reshape(shape), self.params["bias"].reshape(shape)
        out, self._cache = F.spatial_groupnorm_forward(x, w, b, self.num_groups, {"eps": self.eps})
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Store the weight and bias gradients; return dx (N, C, H, W) from dout (N, C, H, W)."""
        dx, dw, db = F.spatial_groupnorm_backward(dout, self._cache)
        self.grads["weight"] = dw.reshape(self.num_channels)
        self.grads["bias"] = db.reshape(self.num_channels)
        return dx

    def extra_repr(self) -> str:
        """Groups, channels and eps, for the module's repr."""
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}"
