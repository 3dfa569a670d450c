"""cnnlab.gradcheck against functions whose gradients are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.autograd import Function, Tensor
from cnnlab.autograd import functional as F
from cnnlab.gradcheck import (
    GradcheckError,
    check,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)


def test_gradient_of_sum_of_squares(rng):
    x = rng.normal(size=(3, 4))
    saved = x.copy()
    grad = eval_numerical_gradient(lambda a: np.sum(a**2), x, verbose=False)
    # Central differences are exact for quadratics up to rounding: ~1e-16 * |f| / h.
    np.testing.assert_allclose(grad, 2 * saved, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(x, saved)


def test_gradient_of_sum_of_sines(rng):
    x = rng.normal(size=(2, 3, 2))
    grad = eval_numerical_gradient(lambda a: np.sin(a).sum(), x, verbose=False, h=1e-4)
    # Truncation error h**2 / 6 * |f'''| <= 1.7e-9.
    np.testing.assert_allclose(grad, np.cos(x), rtol=0, atol=1e-8)


def test_verbose_prints_every_index(capsys):
    x = np.array([1.0, 2.0])
    eval_numerical_gradient(lambda a: float(a @ a), x)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("(0,)") and lines[1].startswith("(1,)")


def test_array_gradient_is_the_vector_jacobian_product(rng):
    x = rng.normal(size=(4, 5))
    df = rng.normal(size=(4, 5))
    saved = x.copy()
    grad = eval_numerical_gradient_array(np.sin, x, df)
    np.testing.assert_allclose(grad, df * np.cos(saved), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(x, saved)


def test_array_gradient_of_a_non_elementwise_function(rng):
    a = rng.normal(size=(3, 4))
    x = rng.normal(size=(4, 2))
    df = rng.normal(size=(3, 2))
    grad = eval_numerical_gradient_array(lambda v: a @ v, x, df)
    np.testing.assert_allclose(grad, a.T @ df, rtol=0, atol=1e-9)


def test_array_gradient_copies_results_that_alias_x(rng):
    # f returns x itself: without a copy the +h result would be overwritten by the -h one.
    x = rng.normal(size=5)
    df = rng.normal(size=5)
    grad = eval_numerical_gradient_array(lambda v: v, x, df)
    np.testing.assert_allclose(grad, df, rtol=1e-9)


def test_x_is_restored_when_f_raises():
    x = np.array([1.0, 2.0, 3.0])

    def f(a):
        if a[1] != 2.0:
            raise RuntimeError("boom")
        return a.sum()

    with pytest.raises(RuntimeError):
        eval_numerical_gradient(f, x, verbose=False)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


def test_grad_check_sparse_accepts_the_right_gradient(rng, capsys):
    x = rng.normal(size=(5, 6))
    saved = x.copy()
    errors = grad_check_sparse(lambda a: np.sum(a**3), x, 3 * x**2, num_checks=7, seed=0)
    assert errors.shape == (7,)
    assert np.all(errors < 1e-8)
    np.testing.assert_array_equal(x, saved)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 7 and all(line.startswith("numerical: ") for line in lines)


def test_grad_check_sparse_flags_a_wrong_gradient(rng):
    x = rng.uniform(1, 2, size=(4, 4))
    errors = grad_check_sparse(lambda a: np.sum(a**2), x, 4 * x, num_checks=5, seed=1)
    # |2x - 4x| / (|2x| + |4x|) = 1/3 at every entry.
    np.testing.assert_allclose(errors, 1 / 3, rtol=1e-8)


def test_grad_check_sparse_seed_picks_the_same_entries(rng, capsys):
    x = rng.normal(size=(10, 10))
    grad_check_sparse(lambda a: np.sum(a**2), x, 2 * x, num_checks=4, seed=5)
    first = capsys.readouterr().out
    grad_check_sparse(lambda a: np.sum(a**2), x, 2 * x, num_checks=4, seed=5)
    assert capsys.readouterr().out == first


def test_grad_check_sparse_shape_error():
    with pytest.raises(
        ValueError,
        match=r"grad_check_sparse: analytic_grad has shape \(3,\) but x has shape \(4,\)",
    ):
        grad_check_sparse(np.sum, np.zeros(4), np.zeros(3))


def test_rel_error():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 6.0])) == 0.5
    # Below 1e-8 the denominator is floored: 1e-12 vs 0 gives 1e-4, not 1.
    assert rel_error(np.array([1e-12]), np.array([0.0])) == pytest.approx(1e-4)


# --- check: numerical gradients of tape functions ---------------------------------------------


def test_check_passes_a_correct_tape_function_and_leaves_inputs_unchanged(rng):
    x, w = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    saved = x.copy(), w.copy()
    assert check(lambda a, b: F.tanh(a @ b), x, w) is True
    np.testing.assert_array_equal(x, saved[0])
    np.testing.assert_array_equal(w, saved[1])


def test_check_names_the_input_and_the_worst_entry(rng):
    def backward(dout, x):
        grad = 2 * dout * x
        grad[1, 2] += 1.0  # one wrong entry
        return grad

    square = Function("square", lambda x: (x * x, x), backward)
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(2, 3\)\) differs at \(1, 2\)"):
        check(lambda a, b: a + square(b), rng.normal(size=(2, 3)), rng.normal(size=(2, 3)))


def test_check_holds_constant_tensors_fixed_and_needs_float64(rng):
    const = Tensor(rng.normal(size=3))
    assert check(lambda a, c: (a * c).exp(), rng.normal(size=3), const)
    assert const.grad is None
    with pytest.raises(ValueError, match="check: input 0 is float32"):
        check(lambda a: a * 2.0, np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match="check: no input requires grad"):
        check(lambda c: c * 2.0, const)
