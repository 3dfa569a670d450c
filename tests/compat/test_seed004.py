"""Seed 004's graph ops: the seed's signatures, its pooling rule, its training loop, and every
op's forward and gradients against PyTorch (written out here, float64) and numerical gradients."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as tF

from cnnlab import compat, models
from cnnlab.compat import seed004
from cnnlab.compat.seed004 import (
    OpAvgPool,
    OpConv2D,
    OpRelu,
    OpSoftmaxCrossEntropyLoss,
    Variable,
    cmp_ops,
)
from cnnlab.gradcheck import eval_numerical_gradient_array

TOL = 1e-10  # float64 rounding on O(1) values


def _variable(value) -> Variable:
    v = Variable()
    v.value = value
    return v


def _image_tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W, C) -> a (1, C, H, W) leaf tensor requiring grad."""
    return torch.tensor(image.transpose(2, 0, 1)[None], requires_grad=True)


# --------------------------------------------------------------------------- the seed's API


@pytest.mark.parametrize(
    ("obj", "names"),
    [
        (OpConv2D, ["filters", "kernel_size", "inputs"]),
        (OpRelu, ["inputs"]),
        (OpAvgPool, ["cell_size", "inputs"]),
        (OpSoftmaxCrossEntropyLoss, ["logits", "true_label"]),
        (cmp_ops, ["your_op", "torch_op", "inputs", "weights"]),
    ],
)
def test_signatures_are_the_seeds(obj, names):
    params = list(inspect.signature(obj).parameters.values())
    positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == names
    assert all(p.kind is p.KEYWORD_ONLY for p in params if p.name not in names)


@pytest.mark.parametrize("cls", [OpConv2D, OpRelu, OpAvgPool, OpSoftmaxCrossEntropyLoss])
def test_ops_have_the_seeds_methods(cls):
    for method, args in [("forward", []), ("backward", []), ("gradient_step", ["step_size"])]:
        params = list(inspect.signature(getattr(cls, method)).parameters)
        assert params == ["self", *args]


def test_variable_is_a_placeholder_with_value_zero():
    assert Variable().value == 0
    assert compat.seed004 is seed004


def test_conv_shapes_and_initialisation_follow_the_seed():
    op = OpConv2D(64, 3, _variable(np.zeros((40, 30, 5))), rng=0)
    assert (op.height, op.width, op.filters, op.kernel_size) == (38, 28, 64, 3)
    assert op.weights.shape == (64, 3, 3, 5)
    assert op.value.shape == op.dloss_dvalue.shape == (38, 28, 64)
    # N(0, 0.1^2): with 2880 draws the sample deviation is within a few percent of 0.1
    assert abs(op.weights.std() - 0.1) < 0.01 and abs(op.weights.mean()) < 0.01


def test_forward_returns_none_and_sets_value():
    x = _variable(np.random.default_rng(0).normal(size=(6, 5, 2)))
    op = OpRelu(x)
    assert op.forward() is None
    np.testing.assert_array_equal(op.value, np.maximum(x.value, 0))


# --------------------------------------------------------------------------- against PyTorch


@pytest.mark.parametrize(("shape", "filters", "k"), [((10, 10, 3), 4, 3), ((7, 9, 1), 2, 4)])
def test_conv_matches_torch(rng, shape, filters, k, capsys):
    inputs = _variable(rng.normal(size=shape))
    op = OpConv2D(filters, k, inputs, rng=rng)
    t_in = _image_tensor(inputs.value)
    t_w = torch.tensor(op.weights.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    diffs = cmp_ops(op, tF.conv2d(t_in, t_w), t_in, t_w)
    assert max(diffs.values()) < TOL and set(diffs) == {"forward", "inputs", "weights"}
    assert "Values equal: True" in capsys.readouterr().out


def test_relu_matches_torch(rng):
    inputs = _variable(rng.normal(size=(5, 4, 3)))
    t_in = _image_tensor(inputs.value)
    assert max(cmp_ops(OpRelu(inputs), tF.relu(t_in), t_in).values()) < TOL


@pytest.mark.parametrize(("shape", "cell"), [((10, 10, 3), 2), ((9, 6, 2), 3), ((4, 4, 1), 4)])
def test_avg_pool_on_whole_cells_matches_torch(rng, shape, cell):
    inputs = _variable(rng.normal(size=shape))
    t_in = _image_tensor(inputs.value)
    diffs = cmp_ops(OpAvgPool(cell, inputs), tF.avg_pool2d(t_in, cell), t_in)
    assert max(diffs.values()) < TOL


def test_loss_matches_torch(rng):
    logits = _variable(rng.normal(size=(1, 1, 5)))
    op = OpSoftmaxCrossEntropyLoss(logits, _variable(3))
    t_in = _image_tensor(logits.value)
    t_loss = tF.cross_entropy(t_in.reshape(1, 5), torch.tensor([3]), reduction="none")
    assert max(cmp_ops(op, t_loss, t_in).values()) < TOL
    np.testing.assert_allclose(op.softmax_prob, torch.softmax(t_in.reshape(5), 0).detach(), 0, TOL)
    assert op.max_label == int(np.argmax(logits.value))


# --------------------------------------------------------------------------- partial pool cells


def _seed_avg_pool(x: np.ndarray, c: int) -> np.ndarray:
    """The seed's OpAvgPool.forward loops, verbatim in substance (integer division)."""
    h, w, f = x.shape
    out = np.zeros(((h + c - 1) // c, (w + c - 1) // c, f))
    for y in range(out.shape[0]):
        for xx in range(out.shape[1]):
            for ch in range(f):
                z = 0.0
                for ky in range(min(c, h - y * c)):
                    for kx in range(min(c, w - xx * c)):
                        z += x[c * y + ky, c * xx + kx, ch]
                out[y, xx, ch] = z / (c * c)
    return out


@pytest.mark.parametrize(("shape", "cell"), [((5, 7, 2), 2), ((10, 10, 3), 3), ((3, 8, 1), 5)])
def test_partial_cells_are_divided_by_the_full_cell_area(rng, shape, cell):
    inputs = _variable(rng.normal(size=shape))
    op = OpAvgPool(cell, inputs)
    op.forward()
    np.testing.assert_allclose(op.value, _seed_avg_pool(inputs.value, cell), rtol=0, atol=TOL)
    # the corner cell of a 5 x 7 input with cell 2 holds one pixel: x[4, 6] / 4, not x[4, 6]
    if shape == (5, 7, 2):
        np.testing.assert_allclose(op.value[2, 3], inputs.value[4, 6] / 4, rtol=0, atol=TOL)


def test_partial_cell_gradient_is_a_quarter_everywhere(rng):
    inputs = _variable(rng.normal(size=(5, 5, 1)))
    op = OpAvgPool(2, inputs)
    op.forward()
    op.dloss_dvalue = np.ones(op.value.shape)
    op.backward()
    np.testing.assert_array_equal(inputs.dloss_dvalue, np.full((5, 5, 1), 0.25))


# --------------------------------------------------------------------------- numerical gradients


def _input_gradient_check(op, inputs, rng):
    """Analytic inputs.dloss_dvalue against central differences of sum(value * dout)."""
    op.forward()
    dout = rng.normal(size=op.value.shape)

    def f(x):
        inputs.value = x
        op.forward()
        return op.value.copy()

    x = inputs.value
    num = eval_numerical_gradient_array(f, x, dout)
    inputs.value = x
    op.forward()
    op.dloss_dvalue = dout
    op.backward()
    np.testing.assert_allclose(inputs.dloss_dvalue, num, rtol=1e-7, atol=1e-9)


def test_conv_gradients_match_numerical(rng):
    inputs = _variable(rng.normal(size=(6, 5, 2)))
    op = OpConv2D(3, 3, inputs, rng=rng)
    _input_gradient_check(op, inputs, rng)
    dout = op.dloss_dvalue.copy()

    def f(w):
        op.weights = w
        op.forward()
        return op.value.copy()

    w = op.weights
    num = eval_numerical_gradient_array(f, w, dout)
    op.weights = w
    op.forward()
    op.dloss_dvalue = dout
    op.backward()
    np.testing.assert_allclose(op.dloss_dweights, num, rtol=1e-7, atol=1e-9)


def test_relu_and_pool_gradients_match_numerical(rng):
    inputs = _variable(rng.normal(size=(7, 5, 2)))
    _input_gradient_check(OpRelu(inputs), inputs, rng)
    _input_gradient_check(OpAvgPool(3, inputs), inputs, rng)


def test_loss_gradient_matches_numerical_and_accumulates(rng):
    logits = _variable(rng.normal(size=(1, 1, 4)))
    op = OpSoftmaxCrossEntropyLoss(logits, _variable(np.uint8(2)))

    def f(x):
        logits.value = x
        op.forward()
        return op.value.copy()

    x = logits.value
    num = eval_numerical_gradient_array(f, x, np.ones(1))
    logits.value = x
    op.forward()
    start = rng.normal(size=(1, 1, 4))
    logits.dloss_dvalue = start.copy()
    op.backward()  # the seed's loss adds to what is there
    np.testing.assert_allclose(logits.dloss_dvalue - start, num, rtol=1e-7, atol=1e-9)


# --------------------------------------------------------------------------- the network


def _seed_network(inputs, true_label, rng, filters=(16, 16), classes=10, sizes=(5, 5, 3)):
    op1 = OpConv2D(filters[0], sizes[0], inputs, rng=rng)
    op2 = OpAvgPool(2, op1)
    op3 = OpRelu(op2)
    op4 = OpConv2D(filters[1], sizes[1], op3, rng=rng)
    op5 = OpAvgPool(2, op4)
    op6 = OpRelu(op5)
    op7 = OpConv2D(classes, sizes[2], op6, rng=rng)
    op8 = OpAvgPool(2, op7)
    op9 = OpSoftmaxCrossEntropyLoss(op8, true_label)
    return [op1, op2, op3, op4, op5, op6, op7, op8, op9]


def test_network_gradients_equal_mnistnet(rng):
    """The seed's MNIST graph and cnnlab's MNISTNet, same weights, one image: same loss and
    weight gradients."""
    inputs, label = _variable(rng.normal(size=(28, 28, 1))), _variable(7)
    ops = _seed_network(inputs, label, rng, filters=(3, 2))
    model = models.MNISTNet(filters=(3, 2), dtype=np.float64, seed=0)
    convs = {name: op for name, op in zip(["conv1", "conv2", "conv3"], ops[::3], strict=True)}
    for name, op in convs.items():
        model.params[f"{name}.weight"][...] = op.weights.transpose(0, 3, 1, 2)
    loss, grads = model.loss(inputs.value.transpose(2, 0, 1)[None], np.array([7]))
    for op in ops:
        op.forward()
    for op in reversed(ops):
        op.backward()
    assert abs(ops[-1].value[0] - loss) < TOL
    for name, op in convs.items():
        expected = grads[f"{name}.weight"].transpose(0, 2, 3, 1)
        np.testing.assert_allclose(op.dloss_dweights, expected, rtol=1e-9, atol=TOL)


def _train(ops, inputs, true_label, images, labels, steps, learning_rate):
    """The seed's loop: per image, forward every op, then backward + step in reverse."""
    losses = []
    for _ in range(steps):
        total = 0.0
        for image, label in zip(images, labels, strict=True):
            inputs.value, true_label.value = image, label
            for op in ops:
                op.forward()
            total += ops[-1].value[0]
            for op in reversed(ops):
                op.backward()
                op.gradient_step(learning_rate)
        losses.append(total)
    return losses


def test_three_training_steps_lower_the_loss(rng):
    """Three classes of 12 x 12 images, each a bright square in its own place plus noise."""
    labels = np.arange(6) % 3
    images = 0.1 * rng.normal(size=(6, 12, 12, 1))
    for image, label in zip(images, labels, strict=True):
        image[4 * label : 4 * label + 4, 2:10] += 1.0
    inputs, true_label = _variable(images[0]), _variable(0)
    ops = _seed_network(inputs, true_label, rng, filters=(4, 4), classes=3, sizes=(3, 3, 2))
    assert ops[-2].value.shape == (1, 1, 3)
    losses = _train(ops, inputs, true_label, images, labels, steps=3, learning_rate=0.2)
    assert losses[2] < losses[1] < losses[0]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: OpConv2D(2, 5, _variable(np.zeros((4, 4, 1)))), "OpConv2D: kernel_size 5"),
        (lambda: OpAvgPool(2, _variable(np.zeros((4, 4)))), r"OpAvgPool: .*\(4, 4\)"),
        (lambda: OpAvgPool(0, _variable(np.zeros((4, 4, 1)))), "OpAvgPool: cell_size"),
    ],
)
def test_bad_construction_names_the_op(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_bad_forward_inputs_name_the_op():
    inputs = _variable(np.zeros((6, 6, 2)))
    op = OpConv2D(2, 3, inputs)
    inputs.value = np.zeros((6, 6, 3))
    with pytest.raises(ValueError, match=r"OpConv2D: .*\(6, 6, 3\).*\(6, 6, 2\)"):
        op.forward()
    loss = OpSoftmaxCrossEntropyLoss(_variable(np.zeros((1, 1, 3))), _variable(5))
    with pytest.raises(ValueError, match=r"OpSoftmaxCrossEntropyLoss: .*labels"):
        loss.forward()
    loss.inputs.value = np.zeros((1, 2, 3))
    with pytest.raises(ValueError, match=r"OpSoftmaxCrossEntropyLoss: logits .*\(1, 2, 3\)"):
        loss.forward()


# --------------------------------------------------------------------------- the example


def _example():
    path = Path(__file__).resolve().parents[2] / "examples" / "seed004_graph_mnist.py"
    spec = importlib.util.spec_from_file_location("seed004_graph_mnist", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.realdata
def test_example_trains_and_checks_every_op(data_root, monkeypatch, capsys):
    monkeypatch.setenv("CNNLAB_DATA", str(data_root))
    assert _example().main(["--steps", "2", "--batch-size", "3"]) == 0
    out = capsys.readouterr().out
    assert out.count("Iteration ") == 2
    assert out.count("Values equal: True") == 2 * 9 + 3 and "False" not in out


def test_example_without_mnist_says_where_to_put_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert _example().main([]) == 1
    assert "MNIST is not bundled" in capsys.readouterr().err
