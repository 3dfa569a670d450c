"""Random expression graphs of the tape's primitives and layers against torch.autograd.

Hypothesis draws a program: a list of steps, each an op applied to values computed earlier
(or to the leaves). Every value has the shape (N, C, H, W) = (2, 3, 4, 4), so any step may take
any earlier value; leaves of broadcastable shapes ((3, 1, 1), (4,), (1, 3, 4, 1), ()) and the
weights of conv / norm steps enter through their ops. The same program runs on cnnlab Tensors
and on torch tensors (float64); values and every leaf's gradient must agree to 1e-10.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab.autograd import Tensor
from cnnlab.autograd import functional as F

SHAPE = (2, 3, 4, 4)
BROADCAST_SHAPES = [(3, 1, 1), (4,), (1, 3, 4, 1), ()]
PERM = np.array([2, 0, 0])  # an integer index with a repeat: gradients add up


def _binary(ours, theirs, broadcasts=True):
    """An op of two values; the second may be a broadcast leaf when ``broadcasts``."""
    return ours, theirs, 2 if broadcasts else 3, 0


# name: (ours(args, weights), theirs(args, weights), arity, weight shapes); arity 2: two
# values, the second maybe a broadcast leaf; 3: two full-shape values; 1: one value + weights
OPS = {
    "add": _binary(lambda a, b: a + b, lambda a, b: a + b),
    "sub": _binary(lambda a, b: a - b, lambda a, b: a - b),
    "mul": _binary(lambda a, b: a * b, lambda a, b: a * b),
    "div": _binary(lambda a, b: a / (b * b + 1.0), lambda a, b: a / (b * b + 1.0)),
    "maximum": _binary(F.maximum, torch.maximum),
    "matmul": _binary(lambda a, b: a @ b, lambda a, b: a @ b, broadcasts=False),
    "concatenate": _binary(
        lambda a, b: F.concatenate([a[:, :1], b[:, 1:]], axis=1),
        lambda a, b: torch.cat([a[:, :1], b[:, 1:]], dim=1),
        broadcasts=False,
    ),
    "exp_tanh": (lambda a: F.tanh(a).exp(), lambda a: torch.tanh(a).exp(), 1, 0),
    "log": (lambda a: (a * a + 1.0).log(), lambda a: (a * a + 1.0).log(), 1, 0),
    "pow": (lambda a: (a * a + 1.0) ** 1.5, lambda a: (a * a + 1.0) ** 1.5, 1, 0),
    "neg": (lambda a: -a, lambda a: -a, 1, 0),
    "sum_keepdims": (
        lambda a: a - a.sum(axis=(1, 3), keepdims=True),
        lambda a: a - a.sum(dim=(1, 3), keepdim=True),
        1,
        0,
    ),
    "mean_broadcast": (
        lambda a: a * a.mean(axis=0),
        lambda a: a * a.mean(dim=0),
        1,
        0,
    ),
    "reshape": (
        lambda a: a.reshape(6, 16).T.reshape(SHAPE),
        lambda a: a.reshape(6, 16).T.reshape(SHAPE),
        1,
        0,
    ),
    "transpose": (lambda a: a.transpose(0, 1, 3, 2), lambda a: a.permute(0, 1, 3, 2), 1, 0),
    "flip": (lambda a: a[:, :, ::-1], lambda a: a.flip(2), 1, 0),
    "gather": (lambda a: a[:, PERM], lambda a: a[:, torch.tensor(PERM)], 1, 0),
    "relu": (F.relu, torch.relu, 1, 0),
    "sigmoid": (F.sigmoid, torch.sigmoid, 1, 0),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.1), lambda a: TF.leaky_relu(a, 0.1), 1, 0),
    "elu": (F.elu, TF.elu, 1, 0),
    "conv": (
        lambda a, w, b: F.conv2d(a, w, b, padding=1),
        lambda a, w, b: TF.conv2d(a, w, b, padding=1),
        1,
        [(3, 3, 3, 3), (3,)],
    ),
    "conv_strided": (
        # stride 2 then nearest 2x upsampling by indexing, back to the common shape
        lambda a, w: F.conv2d(a, w, None, stride=2, padding=1)[:, :, [0, 0, 1, 1]][
            ..., [0, 0, 1, 1]
        ],
        lambda a, w: TF.conv2d(a, w, None, stride=2, padding=1)[:, :, [0, 0, 1, 1]][
            ..., [0, 0, 1, 1]
        ],
        1,
        [(3, 3, 3, 3)],
    ),
    "max_pool": (
        lambda a: F.max_pool2d(a, 3, stride=1, padding=1),
        lambda a: TF.max_pool2d(a, 3, stride=1, padding=1),
        1,
        0,
    ),
    "avg_pool": (
        lambda a: F.avg_pool2d(a, 2, stride=1, padding=1)[:, :, 1:, :-1],
        lambda a: TF.avg_pool2d(a, 2, stride=1, padding=1)[:, :, 1:, :-1],
        1,
        0,
    ),
    "global_pool": (
        lambda a: a * F.global_avg_pool2d(a).reshape(2, 3, 1, 1),
        lambda a: a * a.mean(dim=(2, 3), keepdim=True),
        1,
        0,
    ),
    "batch_norm": (
        lambda a, g, b: F.batch_norm(a, g, b, training=True),
        lambda a, g, b: TF.batch_norm(a, None, None, g, b, training=True),
        1,
        [(3,), (3,)],
    ),
    "layer_norm": (
        lambda a, g, b: F.layer_norm(a, g, b),
        lambda a, g, b: TF.layer_norm(a, SHAPE[1:], g, b),
        1,
        [SHAPE[1:], SHAPE[1:]],
    ),
    "group_norm": (
        lambda a, g, b: F.group_norm(a, 3, g, b),
        lambda a, g, b: TF.group_norm(a, 3, g, b),
        1,
        [(3,), (3,)],
    ),
}

step = st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 1000), st.integers(0, 1000))


def _run(program, leaves, weights, framework):
    """Run ``program`` over ``leaves`` (full-shape values first) with the step weights."""
    values = list(leaves[:2])
    broadcast = list(leaves[2:])
    for (name, i, j), w in zip(program, weights, strict=True):
        ours, theirs, arity, _ = OPS[name]
        fn = ours if framework == "ours" else theirs
        a = values[i % len(values)]
        if arity > 1:
            pool = values + broadcast if arity == 2 else values
            out = fn(a, pool[j % len(pool)])
        else:
            out = fn(a, *w)
        values.append(out)
    return values[-1]


@settings(max_examples=40, deadline=None)
@given(program=st.lists(step, min_size=1, max_size=7), seed=st.integers(0, 2**31 - 1))
def test_random_graph_matches_torch_autograd(program, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=SHAPE) for _ in range(2)]
    arrays += [rng.normal(size=s) for s in BROADCAST_SHAPES]
    weight_arrays = [
        [rng.normal(size=s) * 0.5 for s in (OPS[name][3] or [])] for name, _, _ in program
    ]
    out_weights = rng.normal(size=SHAPE)

    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    weights = [[Tensor(a, requires_grad=True) for a in ws] for ws in weight_arrays]
    out = _run(program, leaves, weights, "ours")
    (out * out_weights).sum().backward()

    torch_leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    torch_weights = [[torch.tensor(a, requires_grad=True) for a in ws] for ws in weight_arrays]
    torch_out = _run(program, torch_leaves, torch_weights, "torch")
    (torch_out * torch.tensor(out_weights)).sum().backward()

    scale = max(1.0, float(np.abs(torch_out.detach().numpy()).max()))
    np.testing.assert_allclose(out.data, torch_out.detach().numpy(), rtol=1e-10, atol=1e-10 * scale)
    ours_all = leaves + [t for ws in weights for t in ws]
    theirs_all = torch_leaves + [t for ws in torch_weights for t in ws]
    for leaf, torch_leaf in zip(ours_all, theirs_all, strict=True):
        expected = np.zeros(leaf.shape) if torch_leaf.grad is None else torch_leaf.grad.numpy()
        got = np.zeros(leaf.shape) if leaf.grad is None else leaf.grad
        grad_scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10 * grad_scale)
