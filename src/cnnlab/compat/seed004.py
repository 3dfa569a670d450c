"""Seed 004's graph API (assignment 3, part 3.1) under its own names.

A network is a chain of ops over ONE image in HWC layout (height x width x channels, no batch
axis). Each op holds its ``inputs`` (a :class:`Variable` or the previous op), and after
``forward()`` its ``value``; ``backward()`` reads the op's ``dloss_dvalue`` and writes
``inputs.dloss_dvalue`` (and, for a convolution, ``dloss_dweights``); ``gradient_step(step)``
moves the weights. As in the seed, ``forward()`` first resets the op's ``value`` and
``dloss_dvalue`` to zeros, and the training loop calls, for each image, every op's
``forward()`` in order, then every op's ``backward()`` followed at once by its
``gradient_step`` in reverse order::

    inputs, true_label = Variable(), Variable()
    inputs.value = np.random.normal(size=(28, 28, 1))
    op1 = OpConv2D(16, 5, inputs)            # 24 x 24 x 16
    op2 = OpAvgPool(2, op1)                  # 12 x 12 x 16
    ...
    loss = OpSoftmaxCrossEntropyLoss(op8, true_label)

The maths is cnnlab's: every op calls a :mod:`cnnlab.functional` forward/backward pair on the
image as a batch of one (HWC <-> NCHW at the boundary, float64 as the seed's ``np.zeros``).

Behaviour kept from the seed:

* ``OpConv2D``: 'valid' convolution, stride 1, no bias; weights (filters, k, k, in_channels)
  drawn from N(0, 0.1**2) (here from ``rng``, a keyword the seed does not have).
* ``OpAvgPool``: non-overlapping ``cell_size`` cells; the output has ``ceil(H / cell_size)``
  rows (the seed's ``(H + cell_size - 1) / cell_size`` in Python 2 integer division), and a
  partial cell at the bottom or right edge is summed over its real pixels but divided by the
  full ``cell_size**2``, as if the input were padded with zeros. No setting of cnnlab's
  average pooling gives that rule (with ``ceil_mode`` its divisor is the clipped window, with
  or without ``count_include_pad``), so the op zero-pads the image to a multiple of the cell
  and pools that with ``avg_pool_forward``.
* ``OpSoftmaxCrossEntropyLoss``: logits (1, 1, num_classes), ``true_label.value`` an integer
  class; ``value`` is the loss as a (1,) array and ``softmax_prob`` the class probabilities.
  Its ``backward`` ADDS ``softmax_prob - onehot`` to ``inputs.dloss_dvalue`` (the loss ends
  the graph: its own gradient is taken as 1), while the other ops assign.
* ``OpRelu``, ``OpAvgPool`` and the loss have no weights: ``gradient_step`` does nothing.

``cmp_ops`` is the seed's check of one op against a framework, with PyTorch in place of
TensorFlow (imported only when called).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from cnnlab.functional.activation import relu_backward, relu_forward
from cnnlab.functional.conv import conv_backward, conv_forward
from cnnlab.functional.loss import softmax_loss
from cnnlab.functional.pool import avg_pool_backward, avg_pool_forward
from cnnlab.nn.init import as_generator

__all__ = [
    "OpAvgPool",
    "OpConv2D",
    "OpRelu",
    "OpSoftmaxCrossEntropyLoss",
    "Variable",
    "cmp_ops",
]


class Variable:
    """Placeholder for labels and input images.

    Set ``value`` (an (H, W, C) image or a class index); the first op writes the image's gradient
    into ``dloss_dvalue``.
    """

    value: Any = 0


@contextmanager
def _named(op: str) -> Iterator[None]:
    """Re-raise a ValueError from a cnnlab op with the seed op's name in front."""
    try:
        yield
    except ValueError as err:
        raise ValueError(f"{op}: {err}") from err


def _image(op: str, value: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``value`` as a float64 (H, W, C) image, checked against ``shape`` when given."""
    image = np.asarray(value, dtype=np.float64)
    if image.ndim != 3:
        raise ValueError(f"{op}: inputs.value must be an (H, W, C) image, got shape {image.shape}")
    if shape is not None and image.shape != shape:
        raise ValueError(
            f"{op}: inputs.value has shape {image.shape} but the op was built for {shape}"
        )
    return image


def _nchw(image: np.ndarray) -> np.ndarray:
    """(H, W, C) -> (1, C, H, W)."""
    return np.ascontiguousarray(image.transpose(2, 0, 1)[np.newaxis])


def _hwc(batch: np.ndarray) -> np.ndarray:
    """(1, C, H, W) -> (H, W, C)."""
    return np.ascontiguousarray(batch[0].transpose(1, 2, 0))


class OpConv2D:
    """Two-dimensional 'valid' convolution (stride 1, no bias) of an (H, W, C) image.

    Args:
        filters: number of output channels F.
        kernel_size: side k of the square kernels.
        inputs: the op or Variable whose ``value`` (H, W, C) is convolved (read now for shapes).
        rng: Generator or seed for the weights (keyword only; not in the seed).

    Attributes:
        weights: (F, k, k, C), N(0, 0.1**2); value, dloss_dvalue: (H - k + 1, W - k + 1, F);
        dloss_dweights: like ``weights``.

    Raises:
        ValueError: if ``inputs.value`` is not an image at least k x k.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int,
        inputs: Any,
        *,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        input_height, input_width, input_filters = _image("OpConv2D", inputs.value).shape
        if kernel_size < 1 or kernel_size > min(input_height, input_width):
            raise ValueError(
                f"OpConv2D: kernel_size {kernel_size} does not fit the input "
                f"{(input_height, input_width, input_filters)}"
            )
        self.height = input_height - kernel_size + 1
        self.width = input_width - kernel_size + 1
        self.filters = filters
        self.inputs = inputs
        self.kernel_size = kernel_size
        shape = (filters, kernel_size, kernel_size, input_filters)
        self.weights = as_generator(rng).normal(scale=0.1, size=shape)
        self._input_shape = (input_height, input_width, input_filters)
        self._cache: tuple | None = None
        self.reset_values()

    def reset_values(self) -> None:
        """Zero ``value`` and ``dloss_dvalue`` (H', W', F) and ``dloss_dweights`` (F, k, k, C)."""
        self.value = np.zeros((self.height, self.width, self.filters))
        self.dloss_dvalue = np.zeros(self.value.shape)
        self.dloss_dweights = np.zeros(self.weights.shape)

    def forward(self) -> None:
        """Set ``value`` (H', W', F) from ``inputs.value`` (H, W, C)."""
        self.reset_values()
        x = _nchw(_image("OpConv2D", self.inputs.value, self._input_shape))
        w = self.weights.transpose(0, 3, 1, 2)
        with _named("OpConv2D"):
            out, self._cache = conv_forward(x, w, np.zeros(self.filters), {"stride": 1, "pad": 0})
        self.value[...] = _hwc(out)

    def backward(self) -> None:
        """Set ``inputs.dloss_dvalue`` (H, W, C) and ``dloss_dweights`` (F, k, k, C)."""
        with _named("OpConv2D"):
            dx, dw, _ = conv_backward(_nchw(self.dloss_dvalue), self._cache)
        self.inputs.dloss_dvalue = _hwc(dx)
        self.dloss_dweights = dw.transpose(0, 2, 3, 1).copy()

    def gradient_step(self, step_size: float) -> None:
        """Plain gradient descent on the kernel: ``weights -= step_size * dloss_dweights``."""
        self.weights -= step_size * self.dloss_dweights

    def torch_twin(self) -> tuple[Callable, dict[str, np.ndarray]]:
        """The op in PyTorch, for :func:`cnnlab.torch.compare_with_torch`.

        Returns ``(fn, weights)`` where ``fn(x, weights)`` maps x (1, C, H, W) and the weight
        tensors (seed layout) to the op's value as a batch of one.
        """
        from torch.nn.functional import conv2d

        return (lambda x, p: conv2d(x, p["weights"].permute(0, 3, 1, 2))), {"weights": self.weights}


class OpRelu:
    """Element-wise ReLU of ``inputs.value`` (any shape; value and gradients keep it)."""

    def __init__(self, inputs: Any) -> None:
        self.input_shape = np.shape(inputs.value)
        self.inputs = inputs
        self._cache: np.ndarray | None = None
        self.reset_values()

    def reset_values(self) -> None:
        """Zero ``value`` and ``dloss_dvalue``, both shaped like ``inputs.value``."""
        self.value = np.zeros(np.shape(self.inputs.value))
        self.dloss_dvalue = np.zeros(np.shape(self.inputs.value))

    def forward(self) -> None:
        """Set ``value = max(inputs.value, 0)``."""
        self.reset_values()
        with _named("OpRelu"):
            self.value[...], self._cache = relu_forward(
                np.asarray(self.inputs.value, dtype=np.float64)
            )

    def backward(self) -> None:
        """Set ``inputs.dloss_dvalue = dloss_dvalue * (inputs.value > 0)``."""
        with _named("OpRelu"):
            self.inputs.dloss_dvalue = relu_backward(self.dloss_dvalue, self._cache)

    def gradient_step(self, step_size: float) -> None:
        """No weights: nothing to do."""

    def torch_twin(self) -> tuple[Callable, dict[str, np.ndarray]]:
        """The op in PyTorch, for :func:`cnnlab.torch.compare_with_torch`.

        Returns ``(fn, weights)`` where ``fn(x, weights)`` maps x (1, C, H, W) and the weight
        tensors (seed layout) to the op's value as a batch of one.
        """
        from torch.nn.functional import relu

        return (lambda x, p: relu(x)), {}


class OpAvgPool:
    """Average pooling over non-overlapping ``cell_size`` x ``cell_size`` cells.

    Input (H, W, C), output (ceil(H / cell_size), ceil(W / cell_size), C). A partial cell at
    the bottom/right edge is divided by the full ``cell_size**2`` (see the module docstring).

    Raises:
        ValueError: if ``inputs.value`` is not an image or ``cell_size`` < 1.
    """

    def __init__(self, cell_size: int, inputs: Any) -> None:
        shape = _image("OpAvgPool", inputs.value).shape
        if cell_size < 1:
            raise ValueError(f"OpAvgPool: cell_size must be positive, got {cell_size}")
        self.input_height, self.input_width, self.input_filters = shape
        self.height = (self.input_height + cell_size - 1) // cell_size
        self.width = (self.input_width + cell_size - 1) // cell_size
        self.filters = self.input_filters
        self.inputs = inputs
        self.cell_size = cell_size
        self._cache: tuple | None = None
        self.reset_values()

    def reset_values(self) -> None:
        """Zero ``value`` and ``dloss_dvalue`` (ceil(H / c), ceil(W / c), C)."""
        self.value = np.zeros((self.height, self.width, self.filters))
        self.dloss_dvalue = np.zeros(self.value.shape)

    def forward(self) -> None:
        """Set ``value`` from ``inputs.value``, padded with zeros to whole cells."""
        self.reset_values()
        shape = (self.input_height, self.input_width, self.input_filters)
        x = _nchw(_image("OpAvgPool", self.inputs.value, shape))
        c = self.cell_size
        fill = ((0, 0), (0, 0), (0, self.height * c - shape[0]), (0, self.width * c - shape[1]))
        cells = {"pool_height": c, "pool_width": c}
        with _named("OpAvgPool"):
            out, self._cache = avg_pool_forward(np.pad(x, fill), cells)
        self.value[...] = _hwc(out)

    def backward(self) -> None:
        """Set ``inputs.dloss_dvalue`` (H, W, C): each pixel gets its cell's gradient / c**2."""
        with _named("OpAvgPool"):
            dx = avg_pool_backward(_nchw(self.dloss_dvalue), self._cache)
        self.inputs.dloss_dvalue = _hwc(dx[:, :, : self.input_height, : self.input_width])

    def gradient_step(self, step_size: float) -> None:
        """No weights: nothing to do."""

    def torch_twin(self) -> tuple[Callable, dict[str, np.ndarray]]:
        """The op in PyTorch, for :func:`cnnlab.torch.compare_with_torch`.

        Returns ``(fn, weights)`` where ``fn(x, weights)`` maps x (1, C, H, W) and the weight
        tensors (seed layout) to the op's value as a batch of one.
        """
        from torch.nn.functional import avg_pool2d, pad

        c = self.cell_size
        fill = (0, self.width * c - self.input_width, 0, self.height * c - self.input_height)
        return (lambda x, p: avg_pool2d(pad(x, fill), c)), {}


class OpSoftmaxCrossEntropyLoss:
    """Softmax cross-entropy of logits (1, 1, num_classes) against ``true_label.value``.

    Attributes (after ``forward``):
        value: (1,) the loss ``-log softmax(logits)[true_label]``.
        softmax_prob: (num_classes,) the class probabilities.
        max_label: the most probable class (the seed declares it and leaves it 0).
    """

    def __init__(self, logits: Any, true_label: Any) -> None:
        self.num_classes = np.shape(logits.value)[2]
        self.inputs = logits
        self.true_label = true_label
        self._dlogits: np.ndarray | None = None
        self.reset_values()

    def reset_values(self) -> None:
        """Zero the loss ``value`` (1,), ``softmax_prob`` (num_classes,) and ``max_label``."""
        self.max_label = 0
        self.value = np.zeros((1,))
        self.softmax_prob = np.zeros((self.num_classes,))

    def forward(self) -> None:
        """Set ``value``, ``softmax_prob`` and ``max_label`` from the logits and the label.

        Raises:
            ValueError: for logits not (1, 1, num_classes) or a label that is not a class index.
        """
        self.reset_values()
        op = "OpSoftmaxCrossEntropyLoss"
        logits = np.asarray(self.inputs.value, dtype=np.float64)
        if logits.shape != (1, 1, self.num_classes):
            raise ValueError(
                f"{op}: logits must have shape (1, 1, {self.num_classes}), got {logits.shape}"
            )
        label = np.asarray(self.true_label.value).reshape(1)
        with _named(op):
            loss, dlogits = softmax_loss(logits.reshape(1, self.num_classes), label)
        self.value[0] = loss
        self._dlogits = dlogits[0]
        self.softmax_prob = dlogits[0].copy()
        self.softmax_prob[label[0]] += 1.0
        self.max_label = int(np.argmax(logits))

    def backward(self) -> None:
        """Add ``softmax_prob - onehot(true_label)`` to ``inputs.dloss_dvalue[0, 0, :]``."""
        self.inputs.dloss_dvalue[0, 0, :] += self._dlogits

    def gradient_step(self, step_size: float) -> None:
        """No weights: nothing to do."""

    def torch_twin(self) -> tuple[Callable, dict[str, np.ndarray]]:
        """The op in PyTorch, for :func:`cnnlab.torch.compare_with_torch`.

        Returns ``(fn, weights)`` where ``fn(x, weights)`` maps x (1, C, H, W) and the weight
        tensors (seed layout) to the op's value as a batch of one.
        """
        import torch
        from torch.nn.functional import cross_entropy

        label = torch.tensor([int(np.asarray(self.true_label.value))])
        return (lambda x, p: cross_entropy(x.reshape(1, -1), label, reduction="none")), {}


def cmp_ops(your_op: Any, torch_op: Any, inputs: Any, weights: Any = None) -> dict[str, float]:
    """Compare a seed-004 op with the same computation in PyTorch (the seed's ``cmp_ops``).

    Runs ``your_op.forward()``, then its ``backward()`` with ``dloss_dvalue`` all ones, and
    compares value and gradients with ``torch_op`` and the gradients of ``torch_op.sum()``.
    Prints, as the seed does, both shapes and whether the values agree (``np.allclose`` with
    ``atol=1e-6``), plus the largest absolute difference.

    Args:
        your_op: a seed op whose inputs hold the same numbers as ``inputs``.
        torch_op: the PyTorch result computed from ``inputs`` (and ``weights``): a batch of one,
            (1, C, H, W) for an image, or any shape with as many entries as ``your_op.value``.
        inputs: the torch leaf tensor (``requires_grad=True``) the result was computed from,
            (1, C, H, W) for an image or any shape with the size of ``your_op.inputs.value``.
        weights: for a convolution, the torch weights (F, C, k, k) with ``requires_grad``.

    Returns:
        ``{"forward": ..., "inputs": ..., "weights": ...}``: the largest absolute differences
        ("weights" only when ``weights`` is given).

    Raises:
        ImportError: without PyTorch (``pip install torch``).
        ValueError: when a result has another number of entries than the op's.
    """
    from cnnlab.torch.compare import grads_of_sum, seed_layout

    your_op.forward()
    print("Forward pass:")
    diffs = {"forward": _cmp_tensors(your_op.value, seed_layout(torch_op, your_op.value))}

    your_op.inputs.dloss_dvalue = np.zeros(np.shape(your_op.inputs.value))
    your_op.dloss_dvalue = np.ones(your_op.value.shape)
    your_op.backward()
    sources = [inputs] if weights is None else [inputs, weights]
    grads = grads_of_sum(torch_op, sources)
    print("Gradient wrt inputs:")
    diffs["inputs"] = _cmp_tensors(
        your_op.inputs.dloss_dvalue, seed_layout(grads[0], your_op.inputs.dloss_dvalue)
    )
    if weights is not None:
        theirs = grads[1].transpose(0, 2, 3, 1)
        print("Gradient wrt weights:")
        diffs["weights"] = _cmp_tensors(your_op.dloss_dweights, theirs)
    return diffs


def _cmp_tensors(yours: np.ndarray, theirs: np.ndarray) -> float:
    """Print the seed's three lines for one pair of arrays; return the max abs difference."""
    print("  Your Op shape: " + str(np.shape(yours)))
    print("  PyTorch Op shape: " + str(np.shape(theirs)))
    print("  Values equal: " + str(np.allclose(theirs, yours, atol=1e-6)))
    diff = float(np.max(np.abs(np.asarray(yours) - theirs), initial=0.0))
    print(f"  Max abs difference: {diff:.3g}")
    return diff
