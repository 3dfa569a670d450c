"""The Tensor-level layers (cnnlab.autograd.functional): central differences and PyTorch.

Each is a registration of a cnnlab.functional pair, so these tests check the registration (the
argument plumbing, which gradient goes to which input), not the ops' maths again.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from cnnlab.autograd import Tensor
from cnnlab.autograd import functional as F
from cnnlab.gradcheck import check

# (id, ours(*tensors), torch's(*tensors), input shapes)
LAYERS = [
    (
        "conv2d-stride-pad-dilation",
        lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
        lambda x, w, b: TF.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
        ((2, 3, 7, 6), (4, 3, 3, 2), (4,)),
    ),
    (
        "conv2d-no-bias",
        lambda x, w: F.conv2d(x, w, None, padding=1),
        lambda x, w: TF.conv2d(x, w, None, padding=1),
        ((1, 2, 5, 5), (3, 2, 3, 3)),
    ),
    (
        "linear",
        F.linear,
        lambda x, w, b: x.reshape(x.shape[0], -1) @ w + b,
        ((3, 2, 5), (10, 4), (4,)),
    ),
    ("linear-no-bias", F.linear, lambda x, w: x @ w, ((3, 5), (5, 2))),
    (
        "max_pool2d-overlapping-padded-ceil",
        lambda x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
        lambda x: TF.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
        ((2, 3, 6, 7),),
    ),
    (
        "avg_pool2d-exclude-pad",
        lambda x: F.avg_pool2d(x, (2, 3), stride=(1, 2), padding=1, count_include_pad=False),
        lambda x: TF.avg_pool2d(x, (2, 3), stride=(1, 2), padding=1, count_include_pad=False),
        ((2, 2, 5, 6),),
    ),
    ("global_avg_pool2d", F.global_avg_pool2d, lambda x: x.mean(dim=(2, 3)), ((2, 3, 4, 5),)),
    (
        "upsample_nearest",
        lambda x: F.upsample_nearest(x, 3),
        lambda x: TF.interpolate(x, scale_factor=3, mode="nearest"),
        ((2, 3, 2, 3),),
    ),
    ("relu", F.relu, torch.relu, ((3, 4),)),
    (
        "leaky_relu",
        lambda x: F.leaky_relu(x, 0.2),
        lambda x: TF.leaky_relu(x, 0.2),
        ((2, 3, 2),),
    ),
    ("elu", lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7), ((5,),)),
    ("sigmoid", F.sigmoid, torch.sigmoid, ((3, 2),)),
    ("tanh", F.tanh, torch.tanh, ((3, 2),)),
    (
        "batch_norm-1d",
        lambda x, g, b: F.batch_norm(x, g, b, training=True),
        lambda x, g, b: TF.batch_norm(x, None, None, g, b, training=True),
        ((5, 3), (3,), (3,)),
    ),
    (
        "batch_norm-2d",
        lambda x, g, b: F.batch_norm(x, g, b, training=True, eps=1e-3),
        lambda x, g, b: TF.batch_norm(x, None, None, g, b, training=True, eps=1e-3),
        ((3, 2, 3, 4), (2,), (2,)),
    ),
    (
        "layer_norm",
        F.layer_norm,
        lambda x, g, b: TF.layer_norm(x, g.shape, g, b),
        ((3, 2, 5), (2, 5), (2, 5)),
    ),
    (
        "group_norm",
        lambda x, g, b: F.group_norm(x, 2, g, b),
        lambda x, g, b: TF.group_norm(x, 2, g, b),
        ((2, 4, 3, 3), (4,), (4,)),
    ),
    ("flatten", F.flatten, lambda x: x.flatten(1), ((2, 3, 2),)),
    (
        "mse_loss",
        lambda x: F.mse_loss(x, np.linspace(-1, 1, 12).reshape(3, 4)),
        lambda x: TF.mse_loss(x, torch.linspace(-1, 1, 12, dtype=x.dtype).reshape(3, 4)),
        ((3, 4),),
    ),
    (
        "cross_entropy",
        lambda x: F.cross_entropy(x, np.array([2, 0, 3])),
        lambda x: TF.cross_entropy(x, torch.tensor([2, 0, 3])),
        ((3, 4),),
    ),
    (
        "svm_loss",  # cnnlab's SVM loss is C times torch's multi_margin_loss
        lambda x: F.svm_loss(x, np.array([2, 0, 3])),
        lambda x: 4 * TF.multi_margin_loss(x, torch.tensor([2, 0, 3])),
        ((3, 4),),
    ),
]


def _inputs(shapes, rng):
    return [rng.normal(size=s) for s in shapes]


@pytest.mark.parametrize(
    ("ours", "shapes"), [(c[1], c[3]) for c in LAYERS], ids=[c[0] for c in LAYERS]
)
def test_layer_matches_central_differences(ours, shapes, rng):
    assert check(ours, *_inputs(shapes, rng), atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize(
    ("ours", "theirs", "shapes"), [c[1:] for c in LAYERS], ids=[c[0] for c in LAYERS]
)
def test_layer_matches_torch(ours, theirs, shapes, rng):
    arrays = _inputs(shapes, rng)
    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    torch_leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, torch_out = ours(*leaves), theirs(*torch_leaves)
    np.testing.assert_allclose(out.data, torch_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = rng.normal(size=out.shape)
    (out * weights).sum().backward()
    (torch_out * torch.tensor(weights)).sum().backward()
    for leaf, torch_leaf in zip(leaves, torch_leaves, strict=True):
        np.testing.assert_allclose(leaf.grad, torch_leaf.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_batch_norm_updates_running_statistics_in_place_like_the_layer(rng):
    from cnnlab import nn

    layer = nn.BatchNorm2d(3, momentum=0.8, dtype=np.float64)
    x = rng.normal(size=(4, 3, 2, 2))
    mean, var = np.zeros(3), np.ones(3)
    keep = mean, var
    F.batch_norm(Tensor(x), np.ones(3), np.zeros(3), mean, var, training=True, momentum=0.8)
    layer.forward(x)
    assert mean is keep[0] and var is keep[1]
    np.testing.assert_array_equal(mean, layer.buffers["running_mean"])
    np.testing.assert_array_equal(var, layer.buffers["running_var"])
    out = F.batch_norm(Tensor(x), np.ones(3), np.zeros(3), mean, var, training=False)
    layer.eval()
    np.testing.assert_array_equal(out.data, layer.forward(x))


def test_dropout_drops_with_the_drop_probability_and_is_seeded(rng):
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    out = F.dropout(x, p=0.3, seed=5)
    kept = out.data != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(out.data[kept], 1 / 0.7, rtol=1e-15)
    np.testing.assert_array_equal(F.dropout(x, p=0.3, seed=5).data, out.data)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)  # d(sum)/dx is the scaled mask
    assert F.dropout(x, p=0.3, training=False).data is x.data


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: F.conv2d(np.ones((1, 4, 5, 5)), np.ones((2, 3, 3, 3))), "conv"),
        (lambda: F.linear(np.ones((2, 5)), np.ones((4, 3))), "affine"),
        (lambda: F.batch_norm(np.ones((2, 3, 4)), np.ones(3), np.zeros(3)), "batch_norm"),
        (lambda: F.layer_norm(np.ones((2, 3)), np.ones(4), np.zeros(4)), "layer_norm"),
        (lambda: F.dropout(np.ones(3), p=1.0), "dropout"),
        (lambda: F.mse_loss(np.ones(3), Tensor(np.ones(3), requires_grad=True)), "mse_loss"),
        (lambda: F.cross_entropy(np.ones((2, 3)), np.array([0, 3])), "softmax_loss"),
        (lambda: F.flatten(np.float64(1.0)), "flatten"),
    ],
)
def test_bad_input_names_the_op(call, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        call()
