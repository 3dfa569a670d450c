"""``Classifier``: gives any network the CS231n model interface ``loss(X, y=None)``.

It also gives the habits users bring from PyTorch, Keras and scikit-learn (``model(x)``,
``predict_proba``, ``parameters()``, ``train()``/``eval()``, ``save``).

Modes: ``model(x)`` runs in the model's current mode, as in PyTorch: a new model is in
training mode, ``model.eval()`` / ``model.train()`` switch it (and every layer's ``training``
flag). ``predict`` and ``predict_proba`` always run in eval mode (dropout off, batch norm on its
running statistics), as Keras and scikit-learn do, whatever the current mode. ``loss(X, y)``
keeps its CS231n behaviour: eval mode without ``y``, training mode with it. After any call the
layers' flags are back to the model's mode.

Single inputs: for ``model(x)``, ``predict`` and ``predict_proba`` an input with exactly the
rank of one example (``len(input_shape)``: (C, H, W) for images, (D,) for vectors) is a batch of
one, and the result comes back without the batch axis; an input of one more rank is a batch
(N, *input_shape); any other rank is a ValueError naming the model and both shapes. ``loss``
takes batches only (it is what the Solver calls).

Preprocessing: ``model.preprocess`` is None, or a callable ``(X, dtype) -> network input``
that ``model(x)``, ``predict`` and ``predict_proba`` apply to their raw input (``cnnlab.load``
attaches the normalisation a run was trained with, so those take pixels in 0..255); ``loss``
never applies it.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from cnnlab.functional.loss import softmax_loss, svm_loss
from cnnlab.nn.container import Sequential
from cnnlab.nn.module import Module, SlotDict, load_state_into, state_dict_of
from cnnlab.nn.summary import summary

LOSSES = {"softmax": softmax_loss, "svm": svm_loss}

#: ``(X, dtype) -> array``: raw inputs (N, *input_shape) to the network's input, in ``dtype``.
InputTransform = Callable[[np.ndarray, DTypeLike], np.ndarray]


class _RecordsInitArgs:
    """Base that records the arguments each instance's class was constructed with.

    ``__new__`` receives the constructor's arguments before any ``__init__`` runs, so every
    subclass captures its own without code of its own (kept out of Classifier itself so that
    ``inspect.signature(Classifier)`` still shows ``__init__``'s signature).
    """

    init_args: dict[str, Any] | None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        self = super().__new__(cls)
        try:
            bound = inspect.signature(cls.__init__).bind(self, *args, **kwargs)
        except TypeError:  # __init__ will raise its own error (or this is a copy/unpickle)
            self.init_args = None
        else:
            bound.apply_defaults()
            self.init_args = dict(list(bound.arguments.items())[1:])
        return self


def first_layer(net: Module) -> Module:
    """The module that receives ``net``'s input: the first layer of nested Sequentials."""
    while isinstance(net, Sequential) and len(net):
        net = net[0]
    return net


class Classifier(_RecordsInitArgs):
    """A network producing class scores (N, K), plus a loss and L2 regularisation.

    Args:
        net: the network, a Module mapping X (N, *input_shape) to scores (N, K).
        loss: 'softmax' (cross-entropy) or 'svm' (multiclass hinge).
        reg: L2 strength; the loss gains ``0.5 * reg * sum(W**2)`` over every weight (the
            entries a layer lists in ``decay``: conv and linear weights, not biases or
            normalisation scales), as in CS231n.
        dtype: X is cast to it; the network's arrays should already have it.
        input_shape: shape of one input, (C, H, W) or (D,): the single-input rule of
            ``model(x)``, ``predict`` and ``predict_proba`` and the default of :meth:`summary`.
        names: optional renaming ``{dotted name in net: public name}`` of params and buffers
            (ThreeLayerConvNet maps ``"conv.weight"`` to ``"W1"``, ...).

    Attributes:
        params: dict-like ``{name: array}`` of the trainable arrays - the very arrays the layers
            use; assigning ``params[k] = new`` replaces the layer's array.
        training: the mode ``model(x)`` runs in (True for a new model).
        preprocess: None or an :data:`InputTransform` (see the module docstring).
        class_names: None or the K class names (``cnnlab.load`` sets them from the file).
        init_args: the arguments the model's class was constructed with (defaults filled in),
            or None when they did not bind; what :meth:`save` records to rebuild the model.
        net: the network (the ``net`` argument).
        reg: the L2 regularisation strength (the ``reg`` argument).
        dtype: the dtype inputs are cast to (the ``dtype`` argument).
        input_shape: the ``input_shape`` argument as a tuple, or None.
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
        self.training = True
        self.preprocess: InputTransform | None = None
        self.class_names: tuple[str, ...] | None = None
        self._param_slots = [(names.get(n, n), m, k) for n, m, k in net.slots("params")]
        self._buffer_slots = [(names.get(n, n), m, k) for n, m, k in net.slots("buffers")]
        self._decay = [n for n, m, k in self._param_slots if k in m.decay]
        self.params = SlotDict(self._param_slots)
        net.train(True)

    # --- CS231n ------------------------------------------------------------------------------
    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[float, dict[str, np.ndarray]]:
        """Scores, or loss and gradients, for a minibatch.

        Inputs:
        - X: (N, *input_shape) data (never preprocessed here)
        - y: (N,) integer labels, or None

        Returns scores (N, K) in test mode (y None; dropout off, batch norm on running
        statistics). In train mode (y given) returns ``(loss, grads)``: the data loss plus the
        L2 term, and ``{name: gradient}`` with the keys and shapes of ``params``.
        """
        X = np.asarray(X).astype(self.dtype, copy=False)
        if y is None:
            return self._forward(X, training=False)
        self.net.train(True)
        first = first_layer(self.net)
        needed, first.input_grad = first.input_grad, False  # the data needs no gradient
        try:
            scores = self.net.forward(X)
            data_loss, dscores = LOSSES[self.loss_name](scores, y)
            self.net.backward(dscores)
        finally:
            first.input_grad = needed  # other callers (compare_with_torch) may need dx
            self.net.train(self.training)
        grads = {name: module.grads[key] for name, module, key in self._param_slots}
        reg_loss = 0.0
        for name in self._decay if self.reg else ():
            w = self.params[name]
            reg_loss += 0.5 * self.reg * float(np.vdot(w, w))
            grads[name] = grads[name] + self.reg * w
        return data_loss + reg_loss, grads

    # --- PyTorch / Keras / scikit-learn habits ------------------------------------------------
    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Scores (N, K) for X (N, *input_shape), or (K,) for one example, in the current mode.

        Applies ``preprocess`` when the model has one; see the module docstring for the mode
        and the single-input rules.
        """
        batch, single = self._as_batch(X, "__call__")
        scores = self._forward(self._network_input(batch), training=self.training)
        return scores[0] if single else scores

    def predict_proba(self, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Class probabilities, float64, in eval mode, ``batch_size`` inputs at a time.

        Args:
            X: (N, *input_shape) inputs, or one input (*input_shape).
            batch_size: how many inputs go through the network at once.

        Returns:
            (N, K) rows summing to 1 (or (K,) for one input): the softmax of the scores. For an
            SVM-loss model this is the softmax of its hinge-trained scores, which orders the
            classes as the scores do but is not a calibrated probability.

        Raises:
            ValueError: for an empty input or a rank that is neither one input nor a batch.
        """
        scores, single = self._eval_scores(X, batch_size, "predict_proba")
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=1, keepdims=True)
        return probs[0] if single else probs

    def predict(self, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Predicted class indices (N,) (a scalar for one input), in eval mode, in batches."""
        scores, single = self._eval_scores(X, batch_size, "predict")
        labels = np.argmax(scores, axis=1)
        return labels[0] if single else labels

    def parameters(self) -> Iterator[np.ndarray]:
        """The trainable arrays, in the order of ``params`` (the layers' own arrays)."""
        for _, array in self.named_parameters():
            yield array

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray]]:
        """``(public name, array)`` of every trainable array, in the order of ``params``."""
        for name, module, key in self._param_slots:
            yield name, module.params[key]

    def train(self, mode: bool = True) -> Classifier:
        """Set the mode of ``model(x)`` (and every layer's ``training`` flag); return self."""
        self.training = bool(mode)
        self.net.train(self.training)
        return self

    def eval(self) -> Classifier:
        """Eval mode (``train(False)``); return self."""
        return self.train(False)

    def save(
        self,
        path: str | os.PathLike[str],
        preprocess: Any = None,
        class_names: Sequence[str] | None = None,
    ) -> Path:
        """Write the model to one self-describing ``.npz`` that ``cnnlab.load`` reads back.

        See :func:`cnnlab.saving.save` (the arguments default to the model's own
        ``preprocess`` and ``class_names``).
        """
        # cnnlab.saving sits above the models (it needs the registry and the file format)
        from cnnlab.saving import save

        return save(self, path, preprocess=preprocess, class_names=class_names)

    # --- state and printing ------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter (public names) and buffer (e.g. batch-norm statistics)."""
        return state_dict_of(self._param_slots + self._buffer_slots)

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Copy ``state`` in place; ValueError on missing/unexpected keys or shape mismatch."""
        load_state_into(self._param_slots + self._buffer_slots, state, type(self).__name__)

    def num_parameters(self) -> int:
        """The number of trainable scalars of the network."""
        return self.net.num_parameters()

    def summary(self, input_shape: Sequence[int] | None = None) -> str:
        """Keras-style table of layers, output shapes and parameter counts."""
        return summary(self.net, input_shape or self.input_shape)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(loss={self.loss_name!r}, reg={self.reg}, "
            f"dtype={np.dtype(self.dtype).name}, net={self.net!r})"
        )

    # --- helpers -----------------------------------------------------------------------------
    def _forward(self, X: np.ndarray, training: bool) -> np.ndarray:
        """The network's output for X in the given mode; the layers go back to the model's."""
        self.net.train(training)
        try:
            return self.net.forward(X)
        finally:
            self.net.train(self.training)

    def _as_batch(self, X: np.ndarray, caller: str) -> tuple[np.ndarray, bool]:
        """``(batch, single)``: X as a batch (N, *input_shape), and whether it was one input.

        Raises:
            ValueError: for a rank that is neither ``len(input_shape)`` nor one more.
        """
        X = np.asarray(X)
        if self.input_shape is None:
            return X, False
        rank = len(self.input_shape)
        if X.ndim == rank:
            return X[None], True
        if X.ndim == rank + 1:
            return X, False
        batch_shape = "(N, " + ", ".join(map(str, self.input_shape)) + ")"
        raise ValueError(
            f"{type(self).__name__}.{caller}: input of shape {X.shape} is neither one input of "
            f"shape {self.input_shape} nor a batch of shape {batch_shape}"
        )

    def _network_input(self, X: np.ndarray) -> np.ndarray:
        """X (N, ...) preprocessed (when the model has a ``preprocess``) and cast to dtype."""
        if self.preprocess is not None:
            return self.preprocess(X, self.dtype)
        return X.astype(self.dtype, copy=False)

    def _eval_scores(self, X: np.ndarray, batch_size: int, caller: str) -> tuple[np.ndarray, bool]:
        """Float64 eval-mode scores (N, K) of X in batches, and whether X was one input."""
        batch, single = self._as_batch(X, caller)
        if len(batch) == 0:
            raise ValueError(f"{type(self).__name__}.{caller}: X is empty (shape {batch.shape})")
        scores = [
            self._forward(self._network_input(batch[i : i + batch_size]), training=False)
            for i in range(0, len(batch), batch_size)
        ]
        return np.concatenate(scores).astype(np.float64), single
