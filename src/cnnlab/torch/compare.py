"""``compare_with_torch``: a cnnlab network, layer or seed-004 op against its PyTorch twin.

Both run forward and backward on the same input; the result is a per-layer table of the
differences (printed, and returned as a list of rows). A network is cut into units: the
children of every ``Sequential``, recursively; any other layer (a ``Residual`` block
included) is one unit. Each unit's twin runs on the twin of the previous unit's output, so
the table shows where two computations part.

Without labels the backward pass starts from ``sum(outputs * g)`` with a fixed pseudo-random
``g`` in [0.5, 1.5] (not the plain sum, whose gradient through batch norm is zero in theory).

Differences: ``abs`` is the largest absolute difference, ``rel`` that divided by the largest
magnitude in the PyTorch array, so entries near zero do not blow it up; for gradients, by the
largest magnitude of the gradient arriving at the unit's output when that is larger (a gradient
that is zero in theory, such as that of a bias before batch norm, comes out as rounding noise).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.nn import functional as tF

from cnnlab import nn
from cnnlab.functional.loss import softmax_loss, svm_loss
from cnnlab.models.classifier import Classifier

from .convert import convert

Row = dict[str, Any]

# loss name -> (cnnlab loss, its torch twin); torch's multi-margin loss divides by the classes
_LOSSES: dict[str, tuple[Callable, Callable]] = {
    "softmax": (softmax_loss, tF.cross_entropy),
    "svm": (svm_loss, lambda s, y: tF.multi_margin_loss(s, y) * s.shape[1]),
}


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def seed_layout(tensor: torch.Tensor | np.ndarray, like: np.ndarray) -> np.ndarray:
    """A PyTorch result in the layout of a seed-004 array ``like``.

    A 4-D batch of one (1, C, H, W) becomes the image (H, W, C); anything else is reshaped to
    ``like``'s shape.

    Raises:
        ValueError: when the sizes differ.
    """
    array = _numpy(tensor) if isinstance(tensor, torch.Tensor) else np.asarray(tensor)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0].transpose(1, 2, 0)
    if array.size != np.size(like):
        raise ValueError(
            f"seed_layout: the PyTorch result {array.shape} does not have the "
            f"{np.size(like)} entries of {np.shape(like)}"
        )
    return array.reshape(np.shape(like))


def grads_of_sum(out: torch.Tensor, sources: Sequence[torch.Tensor]) -> list[np.ndarray]:
    """Gradients of ``out.sum()`` with respect to each tensor of ``sources``, as arrays."""
    return [_numpy(g) for g in torch.autograd.grad(out.sum(), list(sources))]


def _diff(ours: np.ndarray, theirs: np.ndarray, floor: float = 0.0) -> tuple[float, float]:
    """(max abs difference, that over the largest |theirs| or ``floor`` when larger)."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        raise ValueError(f"compare_with_torch: shapes differ: {ours.shape} vs {theirs.shape}")
    diff = float(np.max(np.abs(ours - theirs), initial=0.0))
    scale = max(float(np.max(np.abs(theirs), initial=0.0)), floor)
    return diff, (diff / scale if scale else (0.0 if diff == 0 else np.inf))


def _row(name: str, kind: str, ours: np.ndarray, theirs: np.ndarray) -> Row:
    abs_diff, rel_diff = _diff(ours, theirs)
    return {
        "layer": name,
        "type": kind,
        "output_shape": tuple(np.shape(ours)),
        "forward_abs": abs_diff,
        "forward_rel": rel_diff,
        "grads": {},
        "input_grad_rel": np.nan,
    }


def _units(module: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    """``(dotted name, layer)`` of the Sequential-free units of ``module``, in order."""
    if not isinstance(module, nn.Sequential):
        return [(prefix, module)]
    return [
        unit
        for name, child in module.named_children()
        for unit in _units(child, f"{prefix}.{name}" if prefix else name)
    ]


def _compare_network(
    net: nn.Module, x: np.ndarray, y: np.ndarray | None, loss_name: str
) -> list[Row]:
    """Rows for each unit of ``net`` (and the loss when ``y`` is given)."""
    rows: list[Row] = []
    tins: list[torch.Tensor] = []
    outs: list[np.ndarray] = []
    links = []
    units = _units(net)
    ours, theirs = x, torch.tensor(x, requires_grad=True)
    leaf = theirs
    for name, layer in units:
        twin, unit_links = convert(layer, name, same_masks=True)
        links.append(unit_links)
        if theirs is not leaf:
            theirs.retain_grad()
        tins.append(theirs)
        ours, theirs = layer.forward(ours), twin(theirs)
        outs.append(ours)
        rows.append(_row(name or type(layer).__name__, type(layer).__name__, ours, _numpy(theirs)))

    if y is None:
        dout = np.random.default_rng(0).uniform(0.5, 1.5, size=ours.shape).astype(ours.dtype)
        (theirs * torch.from_numpy(dout)).sum().backward()
    else:
        ours_loss, twin_loss = _LOSSES[loss_name]
        value, dout = ours_loss(ours, y)
        tscores = theirs
        tscores.retain_grad()
        tvalue = twin_loss(tscores, torch.as_tensor(np.asarray(y), dtype=torch.int64))
        tvalue.backward()
        loss_row = _row("loss", loss_name, np.asarray(value), _numpy(tvalue))
        loss_row["input_grad_rel"] = _diff(dout, _numpy(tscores.grad))[1]
        rows.append(loss_row)

    for (_, layer), row, tin, unit_links in zip(
        reversed(units), reversed(rows[: len(units)]), reversed(tins), reversed(links), strict=True
    ):
        floor = float(np.max(np.abs(dout), initial=0.0))
        dout = layer.backward(dout)
        row["input_grad_rel"] = _diff(dout, _numpy(tin.grad), floor)[1]
        for link in unit_links:
            grad = _numpy(link.param.grad)
            row["grads"][link.name] = _diff(
                link.module.grads[link.key], grad.T if link.transposed else grad, floor
            )[1]
    return rows


def _compare_graph_op(op: Any, x: np.ndarray | None, y: Any) -> list[Row]:
    """One row for a seed-004 op (see :mod:`cnnlab.compat.seed004`)."""
    if x is not None:
        op.inputs.value = x
    if y is not None:
        op.true_label.value = y
    image = np.asarray(op.inputs.value, dtype=np.float64)
    if image.ndim != 3:
        raise ValueError(
            f"compare_with_torch: a graph op's input must be an (H, W, C) image, got {image.shape}"
        )
    fn, weights = op.torch_twin()
    tx = torch.tensor(image.transpose(2, 0, 1)[np.newaxis], requires_grad=True)
    tweights = {k: torch.tensor(v, requires_grad=True) for k, v in weights.items()}
    tout = fn(tx, tweights)

    op.forward()
    row = _row(type(op).__name__, type(op).__name__, op.value, seed_layout(tout, op.value))
    op.inputs.dloss_dvalue = np.zeros(image.shape)
    op.dloss_dvalue = np.ones(op.value.shape)
    op.backward()
    grads = grads_of_sum(tout, [tx, *tweights.values()])
    row["input_grad_rel"] = _diff(op.inputs.dloss_dvalue, seed_layout(grads[0], image))[1]
    for key, grad in zip(weights, grads[1:], strict=True):
        row["grads"][key] = _diff(getattr(op, f"dloss_d{key}"), grad)[1]
    return [row]


def format_table(rows: Sequence[Row]) -> str:
    """The rows as a text table (one line per row, gradients as ``name rel``)."""
    head = ("layer", "type", "output shape", "fwd abs", "fwd rel", "dx rel", "param grads rel")
    lines = [head]
    for r in rows:
        grads = ", ".join(f"{k} {v:.1e}" for k, v in r["grads"].items())
        lines.append(
            (
                r["layer"],
                r["type"],
                str(r["output_shape"]),
                f"{r['forward_abs']:.1e}",
                f"{r['forward_rel']:.1e}",
                f"{r['input_grad_rel']:.1e}",
                grads or "-",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    widths[-1] = 0  # the last column is not padded
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def compare_with_torch(
    model_or_op: Any, x: np.ndarray | None, y: np.ndarray | None = None, verbose: bool = True
) -> list[Row]:
    """Run a cnnlab model, layer or seed-004 op and its PyTorch twin; tabulate the differences.

    Args:
        model_or_op: a :class:`~cnnlab.models.Classifier` (any registered model), a
            :mod:`cnnlab.nn` layer or container (e.g. ``Sequential``; a functional
            forward/backward pair is compared through the layer that wraps it), or a seed-004
            graph op (an object with a ``torch_twin()`` method, :mod:`cnnlab.compat.seed004`).
        x: the input: (N, ...) for a model or layer; for a graph op the (H, W, C) image given
            to ``op.inputs.value`` (None keeps the current one).
        y: (N,) integer labels. With labels, the backward pass starts from the data loss (the
            classifier's softmax or SVM loss, softmax for a bare layer; no L2 term) and a
            Classifier runs in training mode, as ``Classifier.loss(X, y)`` does; without, it
            starts from a weighted sum of the outputs (see the module docstring) and a
            Classifier runs in eval mode (a layer keeps its mode). For a graph op, y becomes
            ``op.true_label.value`` when given.
        verbose: print the table.

    Returns:
        One dict per unit (and one for the loss): ``layer``, ``type``, ``output_shape``,
        ``forward_abs``, ``forward_rel``, ``input_grad_rel`` (gradient of the unit's input),
        ``grads`` (``{dotted parameter name: rel difference of its gradient}``).

    Raises:
        ValueError: for an object of another kind, or a layer without a PyTorch twin.
    """
    if hasattr(model_or_op, "torch_twin"):
        rows = _compare_graph_op(model_or_op, x, y)
    else:
        loss_name = "softmax"
        net = model_or_op
        if isinstance(model_or_op, Classifier):
            net, loss_name = model_or_op.net, model_or_op.loss_name
            x = np.asarray(x).astype(model_or_op.dtype, copy=False)
            net.train(y is not None)
        if not isinstance(net, nn.Module):
            raise ValueError(
                "compare_with_torch: expected a Classifier, a cnnlab.nn Module or a seed-004 "
                f"graph op, got {type(model_or_op).__name__}"
            )
        rows = _compare_network(net, np.asarray(x), y, loss_name)
    if verbose:
        print(format_table(rows))
    return rows
