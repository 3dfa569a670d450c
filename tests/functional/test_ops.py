"""Every op in the table (``cases.py``) against PyTorch, numerical gradients, its naive twin and
its bad inputs. Nothing here names an op: a new entry in the table gets every check."""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnlab import functional
from cnnlab.gradcheck import eval_numerical_gradient_array

from ._compare import assert_close
from .cases import (
    EXACT_ATOL,
    EXACT_RTOL,
    NUM_ATOL,
    OPS,
    Case,
    OpInfo,
    as_tuple,
    implementations,
    msg,
)

IMPLS = list(implementations())


def _params(select=lambda op, case: True) -> list:
    """pytest params ``(op, forward, backward, case)`` for every implementation and case."""
    return [
        pytest.param(op, forward, backward, case, id=f"{name}-{case.id}")
        for name, op, forward, backward in IMPLS
        for case in op.cases
        if select(op, case)
    ]


def call(forward, arrays: list, case: Case):
    """``forward(*arrays, *params)`` on a copy of the params (batchnorm writes into bn_param)."""
    return forward(*arrays, *copy.deepcopy(case.params))


def torch_outputs(op: OpInfo, arrays: list, case: Case, dout: np.ndarray) -> list:
    """PyTorch's output and its gradients with respect to ``op.grad_args`` (None where the
    argument is None)."""
    tensors = [None if a is None else torch.from_numpy(np.array(a)) for a in arrays]
    wanted = [tensors[i] for i in op.grad_args if tensors[i] is not None]
    for t in wanted:
        t.requires_grad_(True)
    out = op.torch_ref(*tensors, *copy.deepcopy(case.params))
    grads = iter(torch.autograd.grad(out, wanted, torch.from_numpy(np.array(dout))))
    return [out.detach().numpy()] + [
        None if tensors[i] is None else next(grads).numpy() for i in op.grad_args
    ]


@pytest.mark.parametrize(("op", "forward", "backward", "case"), _params())
def test_against_torch(op: OpInfo, forward, backward, case: Case) -> None:
    rng = np.random.default_rng(0)
    arrays = op.make_inputs(rng, case)
    out, cache = call(forward, arrays, case)
    dout = rng.standard_normal(np.shape(out))
    ours = [out, *as_tuple(backward(dout, cache))]
    assert len(ours) == 1 + len(op.grad_args), "one gradient per differentiable argument"
    ref = torch_outputs(op, arrays, case, dout)
    names = ["out"] + [f"grad of argument {i}" for i in op.grad_args]
    for mine, theirs, name in zip(ours, ref, names, strict=True):
        if theirs is None:
            assert mine is None, f"{name}: the argument is None, so must its gradient be"
        else:
            assert_close(mine, theirs, EXACT_RTOL, EXACT_ATOL, name)


@pytest.mark.parametrize(
    ("op", "forward", "backward", "case"), _params(lambda op, case: case.smooth)
)
def test_numerical_gradients(op: OpInfo, forward, backward, case: Case) -> None:
    rng = np.random.default_rng(1)
    arrays = op.make_inputs(rng, case)
    out, cache = call(forward, arrays, case)
    dout = rng.standard_normal(np.shape(out))
    grads = as_tuple(backward(dout, cache))
    for i, grad in zip(op.grad_args, grads, strict=True):
        if arrays[i] is None:
            continue
        num = eval_numerical_gradient_array(
            lambda _: call(forward, arrays, case)[0], arrays[i], dout
        )
        assert_close(grad, num, op.num_rtol, NUM_ATOL, f"grad of argument {i}")


@pytest.mark.parametrize(
    "op", [op for op in OPS.values() if op.naive is not None], ids=lambda op: op.name
)
def test_fast_matches_naive(op: OpInfo) -> None:
    """Both implementations agree to rounding on random shapes, forward and backward."""

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=op.random_cases, seed=st.integers(0, 2**16))
    def check(case: Case, seed: int) -> None:
        rng = np.random.default_rng(seed)
        arrays = op.make_inputs(rng, case)
        (naive_forward, naive_backward) = op.naive
        out_n, cache_n = call(naive_forward, arrays, case)
        out_f, cache_f = call(op.forward, arrays, case)
        dout = rng.standard_normal(np.shape(out_n))
        pairs = zip(
            [out_f, *as_tuple(op.backward(dout, cache_f))],
            [out_n, *as_tuple(naive_backward(dout, cache_n))],
            strict=True,
        )
        for k, (fast, naive) in enumerate(pairs):
            assert_close(fast, naive, EXACT_RTOL, EXACT_ATOL, f"output {k}")

    check()


@pytest.mark.parametrize(
    ("forward", "bad"),
    [
        pytest.param(forward, bad, id=f"{name}-{k}")
        for name, op, forward, _ in IMPLS
        for k, bad in enumerate(op.bad_inputs)
    ],
)
def test_bad_input(forward, bad) -> None:
    with pytest.raises(ValueError, match=bad.match):
        forward(*bad.args)


@pytest.mark.parametrize(
    ("op", "forward", "backward", "case"),
    [
        pytest.param(op, forward, backward, op.cases[0], id=name)
        for name, op, forward, backward in IMPLS
        if op.dout_error is not None
    ],
)
def test_bad_dout(op: OpInfo, forward, backward, case: Case) -> None:
    out, cache = call(forward, op.make_inputs(np.random.default_rng(2), case), case)
    wrong = (*out.shape[:-1], out.shape[-1] + 1)
    with pytest.raises(ValueError, match=msg(op.dout_error, "dout", str(out.shape), str(wrong))):
        backward(np.zeros(wrong), cache)


def test_every_op_has_an_entry() -> None:
    """Each public function of cnnlab.functional is tested by some entry of the table."""
    tested = {f for op in OPS.values() for f in op.functions()}
    public = {name for name in functional.__all__ if inspect.isfunction(getattr(functional, name))}
    missing = sorted(name for name in public if getattr(functional, name) not in tested)
    assert not missing, f"ops without an entry in tests/functional/cases.py: {missing}"
