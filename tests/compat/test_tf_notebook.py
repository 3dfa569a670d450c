"""The TensorFlow notebook's styles on the tape (cnnlab.compat.tf_notebook, models.keras_style):
the seed's shape tests, gradients against central differences and PyTorch, the Keras-style
modules against their explicit-backward twins, training, the printed formats, the examples."""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from cnnlab import models, nn
from cnnlab.autograd import Tensor
from cnnlab.autograd import functional as F
from cnnlab.compat import tf_notebook as tn
from cnnlab.data import Dataset
from cnnlab.gradcheck import check
from cnnlab.models.classifier import Classifier
from cnnlab.models.keras_style import TRUNCATED_NORMAL_STD, variance_scaling

F64 = np.float64
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=F64), np.asarray(b, dtype=F64)
    return float(np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-300))


# --- the seed's own shape tests -----------------------------------------------------------------


def test_two_layer_fc_test_of_the_seed():
    x = np.zeros((64, 32, 32, 3))
    scores = tn.two_layer_fc(x, [np.zeros((32 * 32 * 3, 42)), np.zeros((42, 10))])
    assert scores.shape == (64, 10)


def test_three_layer_convnet_test_of_the_seed():
    params = [
        np.zeros((5, 5, 3, 6)),
        np.zeros((6,)),
        np.zeros((3, 3, 6, 9)),
        np.zeros((9,)),
        np.zeros((32 * 32 * 9, 10)),
        np.zeros((10,)),
    ]
    assert tn.three_layer_convnet(np.zeros((64, 32, 32, 3)), params).shape == (64, 10)


def test_TwoLayerFC_test_of_the_seed():
    model = tn.TwoLayerFC(42, 10, input_dim=50, seed=0)
    assert model(Tensor(np.zeros((64, 50), dtype=np.float32))).shape == (64, 10)


def test_ThreeLayerConvNet_test_of_the_seed_in_cnnlab_layout():
    model = tn.ThreeLayerConvNet(12, 8, 10, seed=0)
    assert model(Tensor(np.zeros((64, 3, 32, 32), dtype=np.float32))).shape == (64, 10)


def test_init_functions_give_the_notebooks_parameter_lists():
    fc = tn.two_layer_fc_init(seed=0)
    assert [p.shape for p in fc] == [(3072, 4000), (4000, 10)]
    conv = tn.three_layer_convnet_init(seed=0)
    assert [p.shape for p in conv] == [
        (5, 5, 3, 32),
        (32,),
        (3, 3, 32, 16),
        (16,),
        (32 * 32 * 16, 10),
        (10,),
    ]
    assert all(p.requires_grad and p.dtype == np.float32 for p in fc + conv)
    assert not any(p.data.any() for p in conv[1::2])  # zero biases


# --- initialisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "fan_in"), [((7, 5), 7), ((3, 2, 4, 6), 3 * 2 * 4)])
def test_kaiming_normal_uses_the_seeds_fan_in(shape, fan_in):
    expected = np.random.default_rng(3).standard_normal(shape) * np.sqrt(2.0 / fan_in)
    np.testing.assert_allclose(tn.kaiming_normal(shape, seed=3, dtype=F64), expected, rtol=1e-15)


def test_kaiming_normal_rejects_other_ranks():
    with pytest.raises(ValueError, match=r"kaiming_normal: shape must be 2-D or 4-D, got \(3,\)"):
        tn.kaiming_normal((3,))


def test_truncated_normal_constant_is_the_std_of_n01_cut_at_two():
    density = math.exp(-2.0) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    assert TRUNCATED_NORMAL_STD == pytest.approx(math.sqrt(1 - 4 * density / mass), rel=1e-15)


def test_variance_scaling_is_truncated_with_kaimings_std():
    rng = np.random.default_rng(0)
    fan_in = 16 * 3 * 3
    w = variance_scaling((400, 16, 3, 3), rng, F64)  # 57,600 values, cnnlab conv layout
    target = np.sqrt(2.0 / fan_in)
    assert np.abs(w).max() <= 2 * target / TRUNCATED_NORMAL_STD
    # the standard error of a std estimate from n normal-ish values is about std / sqrt(2 n)
    assert w.std() == pytest.approx(target, rel=5 / np.sqrt(2 * w.size))


# --- gradients of the barebones functions ---------------------------------------------------------


def _barebones_case(rng):
    """Small float64 inputs for both functions: (x NHWC, fc params, conv params, labels)."""
    n, h, w = 3, 6, 5
    x = rng.standard_normal((n, h, w, 3))
    fc = [rng.standard_normal((h * w * 3, 7)) * 0.2, rng.standard_normal((7, 4)) * 0.3]
    conv = [
        rng.standard_normal((5, 5, 3, 4)) * 0.2,
        rng.standard_normal(4) * 0.1,
        rng.standard_normal((3, 3, 4, 3)) * 0.2,
        rng.standard_normal(3) * 0.1,
        rng.standard_normal((h * w * 3, 4)) * 0.2,
        rng.standard_normal(4) * 0.1,
    ]
    return x, fc, conv, rng.integers(0, 4, size=n)


def _torch_three_layer_convnet(x, conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b):
    """The notebook's network in torch, NHWC in and TensorFlow kernels, written independently."""
    h = TF.relu(TF.conv2d(x.permute(0, 3, 1, 2), conv_w1.permute(3, 2, 0, 1), conv_b1, padding=2))
    h = TF.relu(TF.conv2d(h, conv_w2.permute(3, 2, 0, 1), conv_b2, padding=1))
    return h.permute(0, 2, 3, 1).reshape(x.shape[0], -1) @ fc_w + fc_b


def _torch_two_layer_fc(x, w1, w2):
    return TF.relu(x.reshape(x.shape[0], -1) @ w1) @ w2


@pytest.mark.parametrize(
    ("ours", "theirs", "which"),
    [
        (tn.two_layer_fc, _torch_two_layer_fc, 1),
        (tn.three_layer_convnet, _torch_three_layer_convnet, 2),
    ],
    ids=["two_layer_fc", "three_layer_convnet"],
)
def test_barebones_loss_and_gradients_match_torch(ours, theirs, which, rng):
    case = _barebones_case(rng)
    x, params, y = case[0], case[which], case[3]
    leaves = [Tensor(a, requires_grad=True) for a in (x, *params)]
    loss = F.cross_entropy(ours(leaves[0], leaves[1:]), y)
    loss.backward()
    tleaves = [torch.tensor(a, requires_grad=True) for a in (x, *params)]
    tloss = TF.cross_entropy(theirs(*tleaves), torch.tensor(y))
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    for ours_leaf, their_leaf in zip(leaves, tleaves, strict=True):
        assert _rel(ours_leaf.grad, their_leaf.grad.numpy()) < 1e-10


@pytest.mark.parametrize(
    ("fn", "which"),
    [(tn.two_layer_fc, 1), (tn.three_layer_convnet, 2)],
    ids=["two_layer_fc", "three_layer_convnet"],
)
def test_barebones_gradients_match_central_differences(fn, which, rng):
    case = _barebones_case(rng)
    x, params = case[0], case[which]
    assert check(lambda x, *p: fn(x, list(p)), x, *params, atol=1e-8, rtol=1e-6)


def test_three_layer_convnet_names_the_layout_in_its_error():
    params = tn.three_layer_convnet_init(seed=0)
    with pytest.raises(ValueError, match=r"three_layer_convnet: x \(2, 3, 32, 32\) must be NHWC"):
        tn.three_layer_convnet(np.zeros((2, 3, 32, 32), dtype=np.float32), params)
    with pytest.raises(ValueError, match=r"two_layer_fc: params must be \[w1, w2\], got 3"):
        tn.two_layer_fc(np.zeros((2, 4)), [np.zeros((4, 2))] * 3)


# --- Keras-style modules against their explicit-backward twins ---------------------------------


def _explicit_two_layer_fc(input_dim, hidden, classes):
    net = nn.Sequential(
        {
            "flatten": nn.Flatten(),
            "fc1": nn.Linear(input_dim, hidden, dtype=F64),
            "relu": nn.ReLU(),
            "fc2": nn.Linear(hidden, classes, dtype=F64),
        }
    )
    return Classifier(net, reg=0.3, dtype=F64)


@pytest.mark.parametrize("kind", ["two_layer_fc", "three_layer"])
def test_keras_style_models_equal_their_explicit_twins(kind, rng):
    if kind == "two_layer_fc":
        tape = models.build("two_layer_fc", input_dim=60, hidden_size=7, reg=0.3, dtype=F64, seed=1)
        explicit = _explicit_two_layer_fc(60, 7, 10)
        X = rng.standard_normal((5, 3, 4, 5))
    else:
        kwargs = {"input_dim": (3, 6, 5), "channel_1": 4, "channel_2": 3, "num_classes": 10}
        tape = models.build("keras_three_layer", reg=0.3, dtype=F64, seed=1, **kwargs)
        explicit = models.TFThreeLayerConvNet(reg=0.3, dtype=F64, seed=2, **kwargs)
        X = rng.standard_normal((5, 3, 6, 5))
    assert tape.net.backward.__func__ is nn.Module.backward  # forward only: the tape's backward
    explicit.load_state_dict(tape.state_dict())
    y = rng.integers(0, 10, size=5)
    loss, grads = tape.loss(X, y)
    e_loss, e_grads = explicit.loss(X, y)
    assert loss == pytest.approx(e_loss, rel=1e-12)
    assert grads.keys() == e_grads.keys()
    for name in grads:
        assert _rel(grads[name], e_grads[name]) < 1e-12, name
    assert _rel(tape.loss(X), explicit.loss(X)) < 1e-12


def test_registered_models_take_images_through_build_for():
    model = models.build_for("two_layer_fc", (3, 4, 4), hidden_size=5, num_classes=3, seed=0)
    assert model.params["fc1.weight"].shape == (48, 5) and model.input_shape == (3, 4, 4)
    assert model.predict(np.zeros((2, 3, 4, 4), dtype=np.float32)).shape == (2,)


# --- training -----------------------------------------------------------------------------------


def _synthetic(rng, layout: str, n: int = 96) -> tn.NotebookData:
    """Two-class 8x8 images whose class is the sign of the mean of channel 0."""
    y = rng.integers(0, 2, size=n)
    X = rng.standard_normal((n, 3, 8, 8)).astype(np.float32) * 0.5
    X[:, 0] += (2 * y - 1)[:, None, None]
    if layout == "NHWC":
        X = np.ascontiguousarray(X.transpose(0, 2, 3, 1))
    train = Dataset(X[:64], y[:64], 16, shuffle=True, seed=0)
    return tn.NotebookData(train, Dataset(X[64:], y[64:], 16), Dataset(X[64:], y[64:], 16))


def test_training_step_lowers_the_loss_with_sgd(rng):
    x = rng.standard_normal((16, 8, 8, 3)).astype(np.float32)
    y = rng.integers(0, 2, size=16)
    params = tn.three_layer_convnet_init(4, 3, 2, image_shape=(8, 8, 3), seed=0)
    before = [p.data.copy() for p in params]
    losses = [tn.training_step(tn.three_layer_convnet(x, params), y, params, 1e-2)]
    assert all(not np.array_equal(p.data, b) for p, b in zip(params, before, strict=True))
    assert all(p.grad is None for p in params)  # reset for the next step
    for _ in range(20):
        losses.append(tn.training_step(tn.three_layer_convnet(x, params), y, params, 1e-2))
    assert losses[-1] < 0.5 * losses[0]


def test_train_prints_like_the_notebook_and_learns(rng, capsys):
    data = _synthetic(rng, "NHWC")
    init = lambda: tn.two_layer_fc_init(20, input_dim=192, num_classes=2, seed=0)  # noqa: E731
    params, history = tn.train(tn.two_layer_fc, init, 1e-2, data, num_epochs=6, print_every=8)
    out = capsys.readouterr().out.splitlines()
    assert [h["iteration"] for h in history] == [0, 8, 16]  # 4 batches an epoch, 6 epochs
    assert re.fullmatch(r"Iteration 0, loss = \d+\.\d{4}", out[0])
    assert history[-1]["loss"] < history[0]["loss"]
    assert tn.check_accuracy(data.val, lambda x: tn.two_layer_fc(x, params)) > 0.9


def test_train_part34_wraps_a_module_and_stops_after_num_iterations(rng, capsys):
    data = _synthetic(rng, "NCHW")
    model, history = tn.train_part34(
        lambda: tn.ThreeLayerConvNet(4, 3, 2, input_dim=(3, 8, 8), seed=0),
        lambda: tn.MomentumOptimizer(1e-2, 0.9, use_nesterov=True),
        num_epochs=10,
        data=data,
        print_every=4,
        num_iterations=24,
    )
    out = capsys.readouterr().out
    assert isinstance(model, Classifier) and out.count("Starting epoch") == 6
    assert [h["iteration"] for h in history] == [0, 4, 8, 12, 16, 20]
    assert history[-1]["loss"] < history[0]["loss"]
    assert tn.check_accuracy(data.val, model.loss) > 0.9


def test_nesterov_momentum_takes_tensorflows_steps(rng):
    """TensorFlow's accumulator form, written out, against MomentumOptimizer."""
    lr, mu = 0.1, 0.9
    w0 = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(4)]
    params = {"w": w0.copy()}
    optimizer = tn.MomentumOptimizer(lr, mu, use_nesterov=True)
    w, accumulation = w0.copy(), np.zeros(5)
    for g in grads:
        optimizer.step(params, {"w": g})
        accumulation = mu * accumulation + g
        w = w - lr * (g + mu * accumulation)
    np.testing.assert_allclose(params["w"], w, rtol=1e-12)


def test_check_accuracy_prints_the_notebooks_line(capsys):
    y = np.array([0, 1, 2, 1, 0, 2, 2])
    predicted = np.array([0, 1, 0, 1, 2, 2, 1])  # 4 of 7 right
    dset = Dataset(np.arange(7), y, batch_size=3)
    acc = tn.check_accuracy(dset, lambda idx: np.eye(3)[predicted[idx]])
    assert acc == 4 / 7
    assert capsys.readouterr().out == "Got 4 / 7 correct (57.14%)\n"


def test_make_datasets_uses_the_notebooks_batches_and_normalisation():
    nhwc, nchw = tn.make_datasets("NHWC", sample=True), tn.make_datasets("NCHW", sample=True)
    assert [len(d.X) for d in nhwc] == list(tn.SAMPLE_SPLIT)
    assert nhwc.train.X.shape[1:] == (32, 32, 3) and nchw.train.X.shape[1:] == (3, 32, 32)
    assert nhwc.train.batch_size == 64 and nhwc.train.shuffle and not nhwc.val.shuffle
    X = nhwc.train.X.astype(F64)
    np.testing.assert_allclose(X.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(X.std(axis=(0, 1, 2)), 1, rtol=1e-5)
    np.testing.assert_array_equal(nchw.val.X, nhwc.val.X.transpose(0, 3, 1, 2))


# --- the examples -------------------------------------------------------------------------------


def _example(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tf_barebones", "keras_style"])
def test_example_runs_in_tiny_mode(name, capsys):
    assert _example(name).main(["--tiny"]) == 0
    out = capsys.readouterr().out
    assert out.count("Iteration 0, loss = ") == 2
    assert out.count("Final validation accuracy: Got ") == 2
