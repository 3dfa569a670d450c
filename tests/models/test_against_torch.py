"""Every model's scores, loss and gradients (including L2) equal PyTorch's, float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlab.nn import summary
from tests.models.specs import SPECS
from tests.models.torch_ref import assert_close, copy_weights, torch_loss_and_grads

IDS = [s[0] for s in SPECS]


def _data(shape, classes, rng, n=4):
    return rng.standard_normal((n, *shape)), rng.integers(classes, size=n)


@pytest.mark.parametrize("build, torch_net, shape, classes", [s[1:] for s in SPECS], ids=IDS)
def test_train_mode_loss_and_grads_match_torch(build, torch_net, shape, classes, rng):
    model = build()
    tnet = torch_net(model).double()
    pairs = copy_weights(model, tnet)
    X, y = _data(shape, classes, rng)
    loss, grads = model.loss(X, y)  # runs first: the torch net reuses its dropout masks
    t_loss, t_grads = torch_loss_and_grads(tnet, pairs, X, y, model.reg)
    assert model.reg > 0
    assert loss == pytest.approx(t_loss, rel=1e-10)
    assert grads.keys() == model.params.keys()
    scale = max(float(np.abs(g).max()) for g in t_grads.values())
    for name in grads:
        assert grads[name].shape == model.params[name].shape
        assert_close(grads[name], t_grads[name], scale, name)


@pytest.mark.parametrize("build, torch_net, shape, classes", [s[1:] for s in SPECS], ids=IDS)
def test_test_mode_scores_match_torch_eval(build, torch_net, shape, classes, rng):
    model = build()
    X, y = _data(shape, classes, rng)
    model.loss(X, y)  # a training pass moves any batch-norm running statistics
    tnet = torch_net(model).double()
    copy_weights(model, tnet)
    scores = model.loss(X)
    assert scores.shape == (len(X), classes)
    tnet.eval()
    with torch.no_grad():
        expected = tnet(torch.from_numpy(X)).numpy()
    assert_close(scores, expected, float(np.abs(expected).max()))


@pytest.mark.parametrize("build, torch_net, shape, classes", [s[1:] for s in SPECS], ids=IDS)
def test_summary_counts_match_torch(build, torch_net, shape, classes):
    model = build()
    tnet = torch_net(model)
    table = summary(model)
    trainable = sum(p.numel() for p in tnet.parameters())
    frozen = sum(b.numel() for n, b in tnet.named_buffers() if "running" in n)
    assert f"Trainable params: {trainable:,}" in table
    assert f"Non-trainable params: {frozen:,}" in table
    assert f"Total params: {trainable + frozen:,}" in table
    assert model.num_parameters() == trainable
