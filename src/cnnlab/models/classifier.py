"""``Classifier``: gives any network the CS231n model interface ``loss(X, y=None)``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from cnnlab.functional.loss import softmax_loss, svm_loss
from cnnlab.nn.module import Module, SlotDict, load_state_into, state_dict_of
from cnnlab.nn.summary import summary

LOSSES = {"softmax": softmax_loss, "svm": svm_loss}


class Classifier:
    """A network producing class scores (N, K), plus a loss and L2 regularisation.

    Args:
        net: the network, a Module mapping X (N, *input_shape) to scores (N, K).
        loss: 'softmax' (cross-entropy) or 'svm' (multiclass hinge).
        reg: L2 strength; the loss gains ``0.5 * reg * sum(W**2)`` over every weight (the
            entries a layer lists in ``decay``: conv and linear weights, not biases or
            normalisation scales), as in CS231n.
        dtype: X is cast to it; the network's arrays should already have it.
        input_shape: shape of one input, (C, H, W) or (D,), used by :meth:`summary`.
        names: optional renaming ``{dotted name in net: public name}`` of params and buffers
            (ThreeLayerConvNet maps ``"conv.weight"`` to ``"W1"``, ...).

    Attributes:
        params: dict-like ``{name: array}`` of the trainable arrays - the very arrays the layers
            use; assigning ``params[k] = new`` replaces the layer's array.
        reg, dtype, net, input_shape.
    """

    def __init__(
        self,
        net: Module,
        loss: str = "softmax",
        reg: float = 0.0,
        dtype: type = np.float32,
        input_shape: Sequence[int] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> None:
        if loss not in LOSSES:
            raise ValueError(f"Classifier: loss must be one of {sorted(LOSSES)}, got {loss!r}")
        names = dict(names or {})
        self.net = net
        self.loss_name = loss
        self.reg = reg
        self.dtype = dtype
        self.input_shape = None if input_shape is None else tuple(input_shape)
        self._param_slots = [(names.get(n, n), m, k) for n, m, k in net.slots("params")]
        self._buffer_slots = [(names.get(n, n), m, k) for n, m, k in net.slots("buffers")]
        self._decay = [n for n, m, k in self._param_slots if k in m.decay]
        self.params = SlotDict(self._param_slots)

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[float, dict[str, np.ndarray]]:
        """Scores, or loss and gradients, for a minibatch.

        Inputs:
        - X: (N, *input_shape) data
        - y: (N,) integer labels, or None

        Returns scores (N, K) in test mode (y None; dropout off, batch norm on running
        statistics). In train mode (y given) returns ``(loss, grads)``: the data loss plus the
        L2 term, and ``{name: gradient}`` with the keys and shapes of ``params``.
        """
        X = np.asarray(X).astype(self.dtype, copy=False)
        self.net.train(y is not None)
        scores = self.net.forward(X)
        if y is None:
            return scores
        data_loss, dscores = LOSSES[self.loss_name](scores, y)
        self.net.backward(dscores)
        grads = {name: module.grads[key] for name, module, key in self._param_slots}
        reg_loss = 0.0
        for name in self._decay if self.reg else ():
            w = self.params[name]
            reg_loss += 0.5 * self.reg * float(np.vdot(w, w))
            grads[name] = grads[name] + self.reg * w
        return data_loss + reg_loss, grads

    def predict(self, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Predicted labels (N,) for X (N, *input_shape), in test mode, ``batch_size`` at a time."""
        if len(X) == 0:
            raise ValueError(f"{type(self).__name__}.predict: X is empty (shape {np.shape(X)})")
        scores = [self.loss(X[i : i + batch_size]) for i in range(0, len(X), batch_size)]
        return np.argmax(np.concatenate(scores), axis=1)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter (public names) and buffer (e.g. batch-norm statistics)."""
        return state_dict_of(self._param_slots + self._buffer_slots)

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Copy ``state`` in place; ValueError on missing/unexpected keys or shape mismatch."""
        load_state_into(self._param_slots + self._buffer_slots, state, type(self).__name__)

    def num_parameters(self) -> int:
        return self.net.num_parameters()

    def summary(self, input_shape: Sequence[int] | None = None) -> str:
        """Keras-style table of layers, output shapes and parameter counts."""
        return summary(self.net, input_shape or self.input_shape)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(loss={self.loss_name!r}, reg={self.reg}, "
            f"dtype={np.dtype(self.dtype).name}, net={self.net!r})"
        )
