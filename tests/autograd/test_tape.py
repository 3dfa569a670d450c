"""The tape's mechanics: accumulation, detach, no_grad, leaves aliasing arrays, release of
memory after backward, and the errors of misuse."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from cnnlab.autograd import Function, Tensor, is_grad_enabled, no_grad
from cnnlab.autograd import functional as F


def test_a_value_used_twice_gets_both_gradients(rng):
    x = Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    y = x * 2.0
    (y * y + y).sum().backward()  # d/dx (4x^2 + 2x) = 8x + 2
    np.testing.assert_allclose(x.grad, 8 * x.data + 2, rtol=1e-15)


def test_diamond_graph_sums_every_path(rng):
    x = Tensor(rng.normal(size=4), requires_grad=True)
    a, b = x.exp(), x * 3.0
    (a * b + a + b).sum().backward()  # 3x e^x + e^x + 3 e^x... derivative below
    e = np.exp(x.data)
    np.testing.assert_allclose(x.grad, 3 * e + 3 * x.data * e + e + 3, rtol=1e-14)


def test_the_first_gradient_is_assigned_not_added():
    x = Tensor(np.ones(3), requires_grad=True)
    seed = np.array([1.0, 2.0, 3.0])
    (x + 0.0).backward(seed)
    # add passes dout through unchanged, and a single share is taken as is: no copy, no zeros
    assert x.grad is seed


def test_leaf_gradients_accumulate_over_backward_calls_until_reset(rng):
    w = Tensor(rng.normal(size=3), requires_grad=True)
    (w * w).sum().backward()
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad, 4 * w.data, rtol=1e-15)
    w.grad = None
    (w * 1.0).sum().backward()
    np.testing.assert_array_equal(w.grad, np.ones(3))


def test_shares_that_alias_each_other_are_added_into_a_new_array():
    # add returns the same dout object for both inputs; x + x must not add in place into it
    x = Tensor(np.ones(2), requires_grad=True)
    seed = np.array([1.0, 5.0])
    (x + x).backward(seed)
    np.testing.assert_array_equal(x.grad, [2.0, 10.0])
    np.testing.assert_array_equal(seed, [1.0, 5.0])


def test_detach_stops_the_gradient_and_shares_the_data(rng):
    x = Tensor(rng.normal(size=3), requires_grad=True)
    d = x.detach()
    assert d.data is x.data and not d.requires_grad and d.node is None
    (x * d).sum().backward()  # d is a constant: the gradient is d, not 2x
    np.testing.assert_array_equal(x.grad, x.data)


def test_no_grad_records_nothing_and_restores_the_mode(rng):
    x = Tensor(rng.normal(size=3), requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = (x * 2.0).exp()
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert not y.requires_grad and y.node is None
    with pytest.raises(RuntimeError, match=r"does not require grad.*no_grad"):
        y.sum().backward()
    with pytest.raises(KeyError), no_grad():
        raise KeyError("inside")
    assert is_grad_enabled()


def test_no_grad_as_a_decorator():
    @no_grad()
    def step():
        return is_grad_enabled()

    assert step() is False and is_grad_enabled()


def test_leaves_alias_the_arrays_they_wrap(rng):
    """An in-place update of the array (what optimisers do) is seen by the next forward."""
    w = rng.normal(size=(2, 3))
    leaf = Tensor(w, requires_grad=True)
    assert leaf.data is w
    x = np.ones((4, 2))
    (Tensor(x) @ leaf).sum().backward()
    with no_grad():
        w -= 0.1 * leaf.grad
    np.testing.assert_allclose((Tensor(x) @ leaf).data, x @ w, rtol=1e-15)


def test_float32_stays_float32_with_python_scalars(rng):
    x = Tensor(rng.normal(size=(2, 3)).astype(np.float32), requires_grad=True)
    y = (2 * x + 1.5) / 3 - x**2
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def _graph(rng):
    x = Tensor(rng.normal(size=(2, 3, 8, 8)), requires_grad=True)
    w = Tensor(rng.normal(size=(4, 3, 3, 3)), requires_grad=True)
    h = F.relu(F.conv2d(x, w, None, padding=1))
    out = F.max_pool2d(h, 2).mean()
    return x, w, h, out


def test_backward_releases_the_tape(rng):
    """After backward no node keeps its cache or inputs: intermediate arrays are freed."""
    x, w, h, out = _graph(rng)
    caches = [weakref.ref(h.data), weakref.ref(h.node.cache)]  # relu's output and its cache
    nodes = [out.node, h.node]
    del h
    out.backward()
    gc.collect()
    assert all(node.cache is None and node.inputs is None for node in nodes)
    assert all(ref() is None for ref in caches)
    assert x.grad is not None and w.grad is not None


def test_no_reference_cycles_keep_a_graph_alive(rng):
    """Dropping the result of a graph that was never differentiated frees it at once (by
    reference counting, without the cycle collector)."""
    gc.disable()
    try:
        x, w, h, out = _graph(rng)
        refs = [weakref.ref(h), weakref.ref(out), weakref.ref(h.data), weakref.ref(h.node.cache)]
        del x, w, h, out
        assert all(ref() is None for ref in refs)
    finally:
        gc.enable()


def test_backward_twice_is_an_error(rng):
    x = Tensor(rng.normal(size=3), requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="released by an earlier backward"):
        y.backward()


def test_backward_of_a_non_scalar_needs_a_gradient(rng):
    y = Tensor(rng.normal(size=(2, 3)), requires_grad=True) * 2.0
    with pytest.raises(ValueError, match=r"non-scalar Tensor of shape \(2, 3\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the Tensor has \(2, 3\)"):
        y.backward(np.ones(3))


def test_backward_of_a_constant_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor(np.ones(2)) * 2.0).sum().backward()


def test_requires_grad_needs_floats():
    with pytest.raises(ValueError, match="requires_grad needs floating-point data"):
        Tensor(np.arange(3), requires_grad=True)


def test_tensors_refuse_to_become_arrays_silently():
    with pytest.raises(TypeError, match=r"use \.data"):
        np.asarray(Tensor(np.ones(2)))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a, b: a + b, r"add: shapes \(2, 3\) and \(4,\) do not broadcast"),
        (lambda a, b: a - b, r"sub: shapes \(2, 3\) and \(4,\)"),
        (lambda a, b: a * b, r"mul: shapes \(2, 3\) and \(4,\)"),
        (lambda a, b: a / b, r"div: shapes \(2, 3\) and \(4,\)"),
        (lambda a, b: F.maximum(a, b), r"maximum: shapes \(2, 3\) and \(4,\)"),
        (
            lambda a, b: a @ b,
            r"matmul: inputs must be at least 2-D, got shapes \(2, 3\) and \(4,\)",
        ),
        (lambda a, b: a @ a, r"matmul: inner sizes differ: \(2, 3\) @ \(2, 3\)"),
        (lambda a, b: F.concatenate([a, b]), r"concatenate: arrays must have the same rank"),
        (lambda a, b: a.reshape(5, -1), r"reshape: cannot reshape \(2, 3\) to \(5, -1\)"),
        (lambda a, b: a.transpose(0, 0), r"transpose: repeated axis"),
        (lambda a, b: a.sum(axis=2), r"sum: axis 2 is invalid for shape \(2, 3\)"),
        (lambda a, b: a[:, :0].mean(axis=1), r"mean: no elements"),
        (lambda a, b: a**b, r"pow: the exponent must be a scalar"),
    ],
)
def test_incompatible_tensors_name_the_op_and_shapes(call, message):
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.ones(4))
    with pytest.raises(ValueError, match=message):
        call(a, b)


def test_an_index_out_of_range_names_the_op():
    with pytest.raises(IndexError, match=r"getitem: .* \(x \(2, 3\)"):
        Tensor(np.ones((2, 3)))[5]


def test_a_registered_function_is_one_node():
    calls = []

    def forward(x, scale):
        return x * scale, scale

    def backward(dout, scale):
        calls.append(scale)
        return dout * scale

    triple = Function("triple", forward, backward)
    x = Tensor(np.ones(2), requires_grad=True)
    y = triple(x, 3.0)
    assert y.node.function is triple and repr(triple) == "Function('triple')"
    y.sum().backward()
    assert calls == [3.0]
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_ndarray_operands_defer_to_the_tensor(rng):
    x = Tensor(rng.normal(size=3), requires_grad=True)
    a = rng.normal(size=3)
    y = a + x
    assert isinstance(y, Tensor)
    (a * x - a / (x * x + 1.0)).sum().backward()
    expected = a + 2 * a * x.data / (x.data**2 + 1) ** 2
    np.testing.assert_allclose(x.grad, expected, rtol=1e-14)


def test_a_constant_input_skips_its_gradient_and_changes_no_other(rng, monkeypatch):
    """conv2d/linear on an input that needs no gradient: their backward gets need_dx=False
    (spied), and the weights' gradients equal, bit for bit, those of a run where it needs one."""
    x = rng.standard_normal((2, 3, 5, 5))
    w1, w2 = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal((4 * 5 * 5, 2))
    calls = []
    for function in (F._CONV, F._AFFINE):

        def spy(dout, cache, real=function.backward, name=function.name, **kwargs):
            calls.append((name, kwargs.get("need_dx", True)))
            return real(dout, cache, **kwargs)

        monkeypatch.setattr(function, "backward", spy)
    grads = []
    for needs_grad in (True, False):
        calls.clear()
        xt = Tensor(x, requires_grad=needs_grad)
        params = [Tensor(w1, requires_grad=True), Tensor(w2, requires_grad=True)]
        out = F.linear(F.relu(F.conv2d(xt, params[0], padding=1)), params[1])
        out.sum().backward()
        assert (xt.grad is not None) == needs_grad
        assert sorted(calls) == [("conv2d", needs_grad), ("linear", True)]
        grads.append([p.grad for p in params])
    for with_dx, without_dx in zip(*grads, strict=True):
        np.testing.assert_array_equal(with_dx, without_dx)
