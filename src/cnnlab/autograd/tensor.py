"""The tape: ``Tensor`` values that remember which op made them, and ``Function``.

A ``Function`` is the registration that turns an op's forward/backward pair into a recorded step.

How it works, in three pieces:

- ``Function(name, forward, backward)`` wraps an op of :mod:`cnnlab.functional`. Calling it on
  Tensors runs ``out, cache = forward(*arrays, ...)`` and, when an input requires grad, gives
  the result a ``Node`` holding the op's ``backward``, the ``cache`` and where each input came
  from: the input's own Node, or the input itself for a leaf. Nodes do not hold the Tensors
  computed between them, so an intermediate value the user drops is freed unless the cache of a
  backward needs it (as in the explicit path, where only the layers' caches stay).
- ``Tensor.backward()`` orders the graph behind the result once (depth-first, inputs after the
  nodes that used them), then walks it from the result to the leaves, calling each node's
  ``backward(dout, cache)`` and handing each input its share. An input used twice receives two
  shares, which are added; a first share is taken as is (no zeros to add to).
- Each node is released as soon as its backward has run: its cache and inputs are dropped, so
  memory is freed during the walk and a second ``backward()`` through it is an error.

Leaves are Tensors made by the user (or by ``nn.Module`` for its parameters); they alias the
array they were made from, so an in-place update of the array is seen by the next forward pass,
and their ``.grad`` accumulates over ``backward()`` calls until reset to None.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from cnnlab.functional import tensor_ops as T

from .mode import is_grad_enabled

Scalar = int | float | np.number


class Function:
    """One differentiable op: a forward/backward pair in the CS231n contract.

    Args:
        name: the op's name, used in error messages.
        forward: ``forward(*arrays, *args, **kwargs) -> (out, cache)``.
        backward: ``backward(dout, cache) ->`` the gradient of the single array input, or a
            tuple with one gradient per array input.
        arity: how many leading positional arguments are array inputs (Tensors, anything
            ``np.asarray`` accepts, or None for an optional input the op takes as None, such as
            a missing bias); None means all positional arguments are. The rest, and the keyword
            arguments, are passed to ``forward`` unchanged.
        skips_dx: ``backward`` takes ``need_dx=False`` to skip the first input's gradient; the
            tape passes it when that input needs none (a network's input: PyTorch's
            ``needs_input_grad``), saving the first layer's most expensive backward step.
    """

    def __init__(
        self,
        name: str,
        forward: Callable,
        backward: Callable,
        arity: int | None = 1,
        skips_dx: bool = False,
    ) -> None:
        self.name, self.forward, self.backward, self.arity = name, forward, backward, arity
        self.skips_dx = skips_dx

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        """Run the op on Tensors; the result is recorded when an input requires grad."""
        n = len(args) if self.arity is None else self.arity
        inputs = [None if a is None else as_tensor(a) for a in args[:n]]
        arrays = (None if t is None else t.data for t in inputs)
        out, cache = self.forward(*arrays, *args[n:], **kwargs)
        result = Tensor(out)
        if is_grad_enabled() and any(t is not None and t.requires_grad for t in inputs):
            result.requires_grad = True
            result.node = Node(self, cache, [_source(t) for t in inputs])
        return result

    def __repr__(self) -> str:
        return f"Function({self.name!r})"


class Node:
    """The record of one op application.

    It holds its Function, the cache its forward returned and, per input, where its gradient goes:
    the Node that computed the input, the input itself if it is a leaf that requires grad, or None
    (a constant). ``inputs`` is None once released.
    """

    __slots__ = ("cache", "function", "inputs")

    def __init__(self, function: Function, cache: Any, inputs: list[Node | Tensor | None]) -> None:
        self.function, self.cache, self.inputs = function, cache, inputs

    def input_grads(self, dout: np.ndarray) -> Sequence[np.ndarray]:
        """Run the op's own backward; one gradient per input (None where none is needed)."""
        if self.function.skips_dx and self.inputs[0] is None:
            grads = self.function.backward(dout, self.cache, need_dx=False)
        else:
            grads = self.function.backward(dout, self.cache)
        return grads if isinstance(grads, (tuple, list)) else (grads,)

    def release(self) -> None:
        """Drop the cache and the inputs (the memory they hold can be freed)."""
        self.cache, self.inputs = None, None


class Tensor:
    """An array on the tape.

    Args:
        data: the values; an ndarray is aliased (never copied), anything else goes through
            ``np.asarray``.
        requires_grad: make a leaf whose gradient ``backward()`` computes (floating-point data
            only).

    Attributes:
        data: the ndarray of values, any shape.
        grad: for a leaf, the accumulated gradient (shape of ``data``) or None.
        requires_grad: True for leaves that asked for it and results computed from them.
        node: the Node that made this Tensor, None for leaves and constants.

    Raises:
        ValueError: ``requires_grad`` on integer or boolean data.
    """

    __slots__ = ("__weakref__", "data", "grad", "node", "requires_grad")
    # NumPy defers to Tensor's reflected operators (ndarray + Tensor -> Tensor.__radd__).
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        if isinstance(data, Tensor):
            data = data.data
        self.data = data if isinstance(data, np.ndarray) else np.asarray(data)
        if requires_grad and not np.issubdtype(self.data.dtype, np.floating):
            raise ValueError(
                f"Tensor: requires_grad needs floating-point data, got dtype {self.data.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        self.grad: np.ndarray | None = None
        self.node: Node | None = None

    # --- plain properties ----------------------------------------------------------------
    shape = property(lambda self: self.data.shape, doc="Shape of ``data``.")
    ndim = property(lambda self: self.data.ndim, doc="Number of dimensions of ``data``.")
    size = property(lambda self: self.data.size, doc="Number of elements of ``data``.")
    dtype = property(lambda self: self.data.dtype, doc="dtype of ``data``.")

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float:
        """The value of a one-element Tensor as a Python scalar."""
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The values (``data`` itself, not a copy)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(
            "Tensor: refusing to turn a tape value into a NumPy array (its gradient would be "
            "lost); use .data for the values, and call layers as layer(x), not layer.forward(x)"
        )

    def __repr__(self) -> str:
        grad = f", grad_fn={self.node.function.name}" if self.node is not None else ""
        leaf = ", requires_grad=True" if self.requires_grad and self.node is None else ""
        return f"Tensor({self.data!r}{leaf}{grad})"

    def detach(self) -> Tensor:
        """A constant Tensor sharing ``data`` (no gradient flows through it)."""
        return Tensor(self.data)

    # --- arithmetic (broadcasting like NumPy) ---------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return ADD(self, _like(other, self))

    def __radd__(self, other: Any) -> Tensor:
        return ADD(_like(other, self), self)

    def __sub__(self, other: Any) -> Tensor:
        return SUB(self, _like(other, self))

    def __rsub__(self, other: Any) -> Tensor:
        return SUB(_like(other, self), self)

    def __mul__(self, other: Any) -> Tensor:
        return MUL(self, _like(other, self))

    def __rmul__(self, other: Any) -> Tensor:
        return MUL(_like(other, self), self)

    def __truediv__(self, other: Any) -> Tensor:
        return DIV(self, _like(other, self))

    def __rtruediv__(self, other: Any) -> Tensor:
        return DIV(_like(other, self), self)

    def __neg__(self) -> Tensor:
        return NEG(self)

    def __pow__(self, exponent: Scalar) -> Tensor:
        return POW(self, exponent)

    def __matmul__(self, other: Any) -> Tensor:
        return MATMUL(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return MATMUL(other, self)

    # --- shapes, selection, reductions, element-wise functions ----------------------------
    def __getitem__(self, index: Any) -> Tensor:
        """NumPy indexing; Tensors inside the index (e.g. labels) count as their values."""
        if isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        elif isinstance(index, Tensor):
            index = index.data
        return GETITEM(self, index)

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """View with a new shape: ``t.reshape(2, -1)`` or ``t.reshape((2, -1))``."""
        return RESHAPE(self, shape[0] if len(shape) == 1 and np.ndim(shape[0]) else shape)

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        """Permute the axes (all reversed when none are given), as ``ndarray.transpose``."""
        if len(axes) == 1 and np.ndim(axes[0]):
            axes = tuple(axes[0])
        return TRANSPOSE(self, axes or None)

    @property
    def T(self) -> Tensor:
        """The axes reversed (the transpose of a matrix)."""
        return TRANSPOSE(self, None)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes for None)."""
        return SUM(self, axis, keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes for None)."""
        return MEAN(self, axis, keepdims)

    def exp(self) -> Tensor:
        """Element-wise exponential."""
        return EXP(self)

    def log(self) -> Tensor:
        """Element-wise natural logarithm."""
        return LOG(self)

    # --- the backward pass ---------------------------------------------------------------
    def backward(self, grad: Any = None) -> None:
        """Compute the gradients of this value with respect to every leaf that requires grad.

        They are added to the leaves' ``.grad``; the tape behind this value is released.

        Args:
            grad: the upstream gradient, shaped like ``data``; may be left out for a
                one-element Tensor (it is then 1).

        Raises:
            RuntimeError: if this value does not require grad (made from constants, under
                ``no_grad`` or by ``detach``), or its tape was released by an earlier backward.
            ValueError: if ``grad`` is missing for a Tensor of several elements, or has the
                wrong shape.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this Tensor does not require grad: it was computed from constants "
                "only, under no_grad(), or by detach()"
            )
        if self.node is not None and self.node.inputs is None:
            raise RuntimeError(
                "backward: the tape behind this Tensor was released by an earlier backward(); "
                "run the forward pass again"
            )
        _walk(self, _seed(self, grad))


def _seed(root: Tensor, grad: Any) -> np.ndarray:
    """The gradient the walk starts from: ``grad`` checked against ``root``, or ones."""
    if grad is None:
        if root.size != 1:
            raise ValueError(
                f"backward: a gradient is needed for a non-scalar Tensor of shape {root.shape} "
                "(pass backward(grad) or reduce it first, e.g. with .sum())"
            )
        return np.ones_like(root.data)
    grad = grad.data if isinstance(grad, Tensor) else np.asarray(grad, dtype=root.dtype)
    if grad.shape != root.shape:
        raise ValueError(f"backward: grad has shape {grad.shape} but the Tensor has {root.shape}")
    return grad


Vertex = Node | Tensor  # a step of the walk: a Node, or a leaf Tensor


def _source(tensor: Tensor | None) -> Vertex | None:
    """Where the gradient of an op input goes.

    Its Node, itself (a leaf), or None (a constant or an optional input left out).
    """
    if tensor is None or not tensor.requires_grad:
        return None
    return tensor if tensor.node is None else tensor.node


def _topological_order(root: Vertex) -> list[Vertex]:
    """Every Node and leaf behind ``root``, each after all nodes that used it.

    Reversed depth-first post-order; iterative, so deep graphs need no recursion.
    """
    order: list[Vertex] = []
    visited: set[int] = set()
    stack: list[tuple[Vertex, bool]] = [(root, False)]
    while stack:
        vertex, expanded = stack.pop()
        if expanded:
            order.append(vertex)
            continue
        if id(vertex) in visited:
            continue
        visited.add(id(vertex))
        stack.append((vertex, True))
        for parent in vertex.inputs if isinstance(vertex, Node) else ():
            if parent is not None and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


def _walk(root: Tensor, seed: np.ndarray) -> None:
    """Propagate ``seed`` from ``root`` to the leaves, releasing each node after its step."""
    start = _source(root)
    order = _topological_order(start)
    grads: dict[int, np.ndarray] = {id(start): seed}
    for i, vertex in enumerate(order):
        order[i] = None  # the walk keeps nothing it has passed
        grad = grads.pop(id(vertex))
        if isinstance(vertex, Tensor):  # a leaf
            vertex.grad = grad if vertex.grad is None else vertex.grad + grad
            continue
        for parent, share in zip(vertex.inputs, vertex.input_grads(grad), strict=True):
            if parent is None or share is None:
                continue
            key = id(parent)
            # first share assigned as is; later ones added into a new array (shares may alias)
            grads[key] = share if key not in grads else grads[key] + share
        vertex.release()
        del vertex, grad


def as_tensor(value: Any) -> Tensor:
    """``value`` itself if it is a Tensor, else a constant Tensor aliasing ``np.asarray(value)``."""
    return value if isinstance(value, Tensor) else Tensor(value)


def _like(value: Any, other: Tensor) -> Tensor:
    """``value`` as a Tensor.

    A Python scalar takes ``other``'s floating dtype (so float32 graphs stay float32).
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float)) and np.issubdtype(other.dtype, np.floating):
        return Tensor(np.asarray(value, dtype=other.dtype))
    return Tensor(value)


ADD = Function("add", T.add_forward, T.add_backward, arity=2)
SUB = Function("sub", T.sub_forward, T.sub_backward, arity=2)
MUL = Function("mul", T.mul_forward, T.mul_backward, arity=2)
DIV = Function("div", T.div_forward, T.div_backward, arity=2)
NEG = Function("neg", T.neg_forward, T.neg_backward)
POW = Function("pow", T.pow_forward, T.pow_backward)
MATMUL = Function("matmul", T.matmul_forward, T.matmul_backward, arity=2)
GETITEM = Function("getitem", T.getitem_forward, T.getitem_backward)
RESHAPE = Function("reshape", T.reshape_forward, T.reshape_backward)
TRANSPOSE = Function("transpose", T.transpose_forward, T.transpose_backward)
SUM = Function("sum", T.sum_forward, T.sum_backward)
MEAN = Function("mean", T.mean_forward, T.mean_backward)
EXP = Function("exp", T.exp_forward, T.exp_backward)
LOG = Function("log", T.log_forward, T.log_backward)
MAXIMUM = Function("maximum", T.maximum_forward, T.maximum_backward, arity=2)
CONCATENATE = Function(
    "concatenate",
    lambda *arrays, axis=0: T.concatenate_forward(arrays, axis),
    T.concatenate_backward,
    arity=None,
)
