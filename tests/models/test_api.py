"""The model interface: registry, Classifier wrapper, state dicts, summaries, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlab import models, nn
from cnnlab.compat.cs231n.classifiers.fc_net import FullyConnectedNet
from cnnlab.models import Classifier

F64 = np.float64


def test_registry_lists_and_builds_every_model():
    assert models.available() == [
        "allconv",
        "fc",
        "keras_three_layer",
        "mini_alexnet",
        "mnist",
        "resnet",
        "spatial_sum",
        "tf_challenge",
        "tf_three_layer",
        "three_layer",
        "two_layer_fc",
    ]
    model = models.build("three_layer", num_filters=4, hidden_dim=8, seed=0)
    assert isinstance(model, models.ThreeLayerConvNet) and model.params["W1"].shape[0] == 4
    assert isinstance(models.build("fc", hidden_dims=[5]), FullyConnectedNet)


def test_registry_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"unknown model 'vgg'.*'three_layer'"):
        models.build("vgg")
    with pytest.raises(ValueError, match=r"'resnet' takes no argument\(s\) \['depth'\]"):
        models.build("resnet", depth=20)
    with pytest.raises(ValueError, match=r"'fc' needs argument\(s\) \['hidden_dims'\]"):
        models.build("fc")


def test_default_models_give_scores_for_their_input_shapes():
    for name in models.available():
        kwargs = {"hidden_dims": [8]} if name == "fc" else {}
        model = models.build(name, seed=0, **kwargs)
        scores = model.loss(np.zeros((2, *model.input_shape), dtype=np.float32))
        assert scores.shape == (2, 10), name
        assert scores.dtype == np.float32, name


def test_state_dict_round_trip_includes_batchnorm_statistics(rng):
    a = models.ResNet(input_dim=(3, 8, 8), widths=(4, 6), seed=0, dtype=F64)
    b = models.ResNet(input_dim=(3, 8, 8), widths=(4, 6), seed=1, dtype=F64)
    X = rng.standard_normal((4, 3, 8, 8))
    a.loss(X, np.array([0, 1, 2, 3]))  # moves the running statistics
    state = a.state_dict()
    assert any(k.endswith("running_var") for k in state)
    assert set(a.params) <= set(state)
    b.load_state_dict(state)
    np.testing.assert_array_equal(a.loss(X), b.loss(X))


def test_three_layer_state_dict_uses_the_cs231n_names():
    state = models.ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, hidden_dim=3).state_dict()
    assert list(state) == ["W1", "b1", "W2", "b2", "W3", "b3"]


def test_load_state_dict_errors_name_keys_and_shapes():
    model = FullyConnectedNet([5, 4], input_dim=6, normalization="batchnorm")
    state = model.state_dict()
    state["W2"] = np.zeros((4, 5))
    with pytest.raises(ValueError, match=r"'W2'.*\(5, 4\).*\(4, 5\)"):
        model.load_state_dict(state)
    del state["gamma1"]
    with pytest.raises(ValueError, match=r"missing keys \['gamma1'\]"):
        model.load_state_dict(state)


def test_wrong_input_shape_names_the_layer():
    model = models.ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, hidden_dim=3)
    with pytest.raises(ValueError, match=r"layer 'conv' Conv2d.*input \(2, 1, 8, 8\).*1 channels"):
        model.loss(np.zeros((2, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"layer 'fc1' Linear\(32, 3.*input \(2, 2, 5, 5\)"):
        model.loss(np.zeros((2, 3, 10, 10)))


def test_model_argument_errors():
    with pytest.raises(ValueError, match="normalization must be None or one of"):
        FullyConnectedNet([5], normalization="groupnorm")
    with pytest.raises(ValueError, match=r"dropout_keep_ratio must be in \(0, 1\]"):
        FullyConnectedNet([5], dropout_keep_ratio=0)
    with pytest.raises(ValueError, match=r"MNISTNet: input \(1, 40, 40\) gives outputs"):
        models.MNISTNet(input_dim=(1, 40, 40))
    with pytest.raises(ValueError, match="loss must be one of"):
        Classifier(nn.Sequential(nn.Linear(2, 2)), loss="hinge")


def test_fc_net_names_and_shapes():
    model = FullyConnectedNet(
        [6, 5], input_dim=12, num_classes=3, normalization="layernorm", dropout_keep_ratio=0.5
    )
    assert {k: v.shape for k, v in model.params.items()} == {
        "W1": (12, 6),
        "b1": (6,),
        "gamma1": (6,),
        "beta1": (6,),
        "W2": (6, 5),
        "b2": (5,),
        "gamma2": (5,),
        "beta2": (5,),
        "W3": (5, 3),
        "b3": (3,),
    }
    assert model.num_layers == 3 and model.use_dropout


def test_classifier_wraps_any_sequential_with_svm_loss(rng):
    net = nn.Sequential(
        nn.Linear(5, 4, dtype=F64, rng=0), nn.Tanh(), nn.Linear(4, 3, dtype=F64, rng=1)
    )
    model = Classifier(net, loss="svm", reg=0.3, dtype=F64, input_shape=(5,))
    assert list(model.params) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    X, y = rng.standard_normal((6, 5)), rng.integers(3, size=6)
    loss, grads = model.loss(X, y)

    w1, b1, w2, b2 = (torch.tensor(model.params[k], requires_grad=True) for k in model.params)
    scores = torch.tanh(torch.from_numpy(X) @ w1 + b1) @ w2 + b2
    # torch's multi-margin loss divides by the number of classes, CS231n's SVM does not
    t_loss = 3 * torch.nn.functional.multi_margin_loss(scores, torch.from_numpy(y))
    t_loss = t_loss + 0.15 * ((w1 * w1).sum() + (w2 * w2).sum())
    t_loss.backward()
    assert loss == pytest.approx(float(t_loss.detach()), rel=1e-12)
    for k, t in zip(model.params, (w1, b1, w2, b2), strict=True):
        np.testing.assert_allclose(grads[k], t.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert model.predict(X).shape == (6,)


def test_summary_table_lists_layers_with_shapes():
    table = models.TFThreeLayerConvNet().summary()
    assert "conv1 (Conv2d)" in table and "(None, 32, 32, 32)" in table
    assert "fc (Linear)" in table and "(None, 10)" in table
    # 32*3*25+32 + 16*32*9+16 + 16*32*32*10+10, counted by hand from the architecture
    assert "Total params: 170,906" in table
    assert str(nn.summary(models.TFThreeLayerConvNet())) == table


def test_summary_leaves_the_training_mode_alone():
    model = models.MiniAlexNet(
        input_dim=(3, 9, 9), widths=(2, 2, 2, 2, 2), hidden_dims=(3, 3), pool_after=(0, 1)
    )
    model.net.train()
    model.summary()
    assert all(m.training for _, m in model.net.named_modules())


def test_mini_alexnet_default_size_matches_the_keras_count():
    # conv part 1,344 + 55,424 + 221,376 + 331,968 + 221,312 = 831,424; dense part
    # 128*1024+1024 + 1024*1024+1024 + 1024*10+10 = 1,191,946 (hand count)
    assert models.MiniAlexNet().num_parameters() == 831_424 + 1_191_946


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("three_layer", {"num_filters": 4, "hidden_dim": 8}),
        ("resnet", {"widths": (4, 8, 8)}),
        ("fc", {"hidden_dims": [6]}),
        ("spatial_sum", {"input_dim": (3, 24, 24), "widths": (2, 3, 4)}),
    ],
)
def test_loss_skips_the_datas_gradient_and_changes_no_parameter_gradient(name, kwargs, monkeypatch):
    """Classifier.loss runs the first layer with input_grad False (restored afterwards); every
    parameter gradient equals, bit for bit, the one of a pass that computes the data's too."""
    from cnnlab.models.classifier import LOSSES, first_layer

    model = models.build(name, dtype=F64, seed=0, **kwargs)
    shape = kwargs.get("input_dim", (3, 32, 32))
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((3, *shape)), rng.integers(0, 10, 3)
    first = first_layer(model.net)
    seen = []
    real_backward = first.backward

    def spy(dout):
        seen.append(first.input_grad)
        return real_backward(dout)

    monkeypatch.setattr(first, "backward", spy)
    _, grads = model.loss(X, y)
    assert seen == [False] and first.input_grad is True
    # the same pass computing the data's gradient: the network's own forward and backward
    model.net.train(True)
    _, dscores = LOSSES[model.loss_name](model.net.forward(X), y)
    assert model.net.backward(dscores).shape == X.shape
    for key, module, slot in model._param_slots:
        np.testing.assert_array_equal(grads[key], module.grads[slot])
