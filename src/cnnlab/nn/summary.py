"""Keras-style model summary: one row per layer with output shape and parameter count."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from .container import Sequential
from .module import Module


@contextmanager
def eval_mode(module: Module) -> Iterator[Module]:
    """Put ``module`` in eval mode for a ``with`` block, then restore every submodule's mode."""
    modes = [(m, m.training) for _, m in module.named_modules()]
    module.eval()
    try:
        yield module
    finally:
        for m, mode in modes:
            m.training = mode


def _rows(module: Module, x: np.ndarray, prefix: str, rows: list) -> np.ndarray:
    """Run ``x`` through ``module``, appending ``(name, type, out shape, params)`` rows.

    Sequential containers are expanded into their layers.
    """
    if isinstance(module, Sequential) and len(module):
        for name, child in module.named_children():
            x = _rows(child, x, f"{prefix}.{name}" if prefix else name, rows)
        return x
    if module._forward_only() and module._modules:
        return _call_rows(module, x, prefix, rows)
    out = module.forward(x)
    rows.append((prefix or "-", type(module).__name__, out.shape, module.num_parameters()))
    return out


def _call_rows(module: Module, x: np.ndarray, prefix: str, rows: list) -> np.ndarray:
    """Run a forward-only ``module``, appending a row per child call in the order of the calls.

    Its ``forward`` decides which children run and how often, so each child's ``forward`` is
    wrapped for the pass (an instance attribute, removed afterwards) to note its output shape.
    Parameters the module holds itself (``self.w = Parameter(...)``) get a row of their own.
    """
    children = dict(module.named_children())
    for name, child in children.items():
        call = child.forward

        def noted(x, *args, _name=name, _child=child, _call=call, **kwargs):
            out = _call(x, *args, **kwargs)
            full = f"{prefix}.{_name}" if prefix else _name
            rows.append((full, type(_child).__name__, out.shape, _child.num_parameters()))
            return out

        object.__setattr__(child, "forward", noted)
    try:
        out = module.forward(x)
    finally:
        for child in children.values():
            del child.__dict__["forward"]
    own = sum(int(p.size) for p in module.params.values())
    if own:  # no output of their own: shown without a shape
        rows.append((prefix or "-", f"{type(module).__name__} parameters", None, own))
    return out


def _table(rows: list, trainable: int, frozen: int) -> str:
    """Format the rows and the parameter totals as Keras's summary table."""
    header = ("Layer (type)", "Output Shape", "Param #")
    cells = [
        (f"{n} ({t})", "-" if s is None else "(None, " + ", ".join(map(str, s[1:])) + ")", f"{p:,}")
        for n, t, s, p in rows
    ]
    w0 = max(len(header[0]), *(len(c[0]) for c in cells)) + 2
    w1 = max(len(header[1]), *(len(c[1]) for c in cells)) + 2
    width = w0 + w1 + max(len(header[2]), *(len(c[2]) for c in cells))
    line = lambda c: f"{c[0]:<{w0}}{c[1]:<{w1}}{c[2]}"  # noqa: E731
    out = ["=" * width, line(header), "=" * width, *(line(c) for c in cells), "=" * width]
    out += [
        f"Total params: {trainable + frozen:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {frozen:,}",
        "_" * width,
    ]
    return "\n".join(out)


def summary(model: Module, input_shape: Sequence[int] | None = None) -> str:
    """The summary table of ``model`` for one input of shape ``input_shape`` (no batch axis).

    ``model`` is a Module or an object with a ``net`` Module (every cnnlab model); when
    ``input_shape`` is None the model's ``input_shape`` attribute is used. The shapes come
    from a forward pass on zeros of shape (1, *input_shape) in eval mode; the model's mode is
    restored afterwards. Trainable params are the ``params`` arrays; non-trainable are the
    floating-point buffers (batch-norm running statistics), counted as Keras counts them; integer
    buffers (a dropout layer's random state) are not parameters and are not counted.

    Args:
        model: a Module, or a model with a ``net`` Module.
        input_shape: one input's shape without the batch axis, e.g. (C, H, W); None for the
            model's ``input_shape``.

    Returns:
        The table, one line per row.

    Raises:
        ValueError: ``model`` without a Module, or no input shape known.
    """
    net = getattr(model, "net", model)
    if not isinstance(net, Module):
        raise ValueError(f"summary: expected a Module or a model with .net, got {type(model)}")
    if input_shape is None:
        input_shape = getattr(model, "input_shape", None)
        if input_shape is None:
            raise ValueError("summary: input_shape is required for a module without one")
    dtype = next((p.dtype for _, p in net.named_parameters()), np.dtype(np.float32))
    rows: list = []
    with eval_mode(net):
        _rows(net, np.zeros((1, *input_shape), dtype=dtype), "", rows)
    frozen = sum(int(b.size) for _, b in net.named_buffers() if np.issubdtype(b.dtype, np.floating))
    return _table(rows, net.num_parameters(), frozen)


def output_shape(module: Module, input_shape: Sequence[int], dtype: type = np.float32) -> tuple:
    """Shape of ``module``'s output for one input of ``input_shape``: (1, ...).

    Found by a forward pass on zeros in eval mode (the module's mode is restored), so models can
    size their fully-connected heads for any input size.
    """
    with eval_mode(module):
        return module.forward(np.zeros((1, *input_shape), dtype=dtype)).shape


def output_size(module: Module, input_shape: Sequence[int], dtype: type = np.float32) -> int:
    """Number of values in ``module``'s output for one input of ``input_shape``.

    The product of :func:`output_shape` without its batch axis: the features a flatten of that
    output gives, the input width of a fully-connected layer that follows it.
    """
    return int(np.prod(output_shape(module, input_shape, dtype)[1:]))
