"""Every tape primitive against central differences (float64, odd shapes, broadcasting)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.autograd import Tensor
from cnnlab.autograd import functional as F
from cnnlab.gradcheck import check

# (id, function of Tensors, input shapes). Odd sizes everywhere; broadcasting in both
# directions, against scalars (shape ()) and with added leading axes.
BINARY_SHAPES = [((3, 5), (3, 5)), ((3, 5), (5,)), ((2, 1, 5), (3, 1)), ((), (1, 4)), ((4, 1), ())]

CASES = [
    *[(f"add{a}{b}", lambda x, y: x + y, (a, b)) for a, b in BINARY_SHAPES],
    *[(f"sub{a}{b}", lambda x, y: x - y, (a, b)) for a, b in BINARY_SHAPES],
    *[(f"mul{a}{b}", lambda x, y: x * y, (a, b)) for a, b in BINARY_SHAPES],
    *[(f"div{a}{b}", lambda x, y: x / (y * y + 1.0), (a, b)) for a, b in BINARY_SHAPES],
    *[(f"maximum{a}{b}", F.maximum, (a, b)) for a, b in BINARY_SHAPES],
    ("neg", lambda x: -x, ((3, 1, 2),)),
    ("pow-3", lambda x: x**3, ((2, 3),)),
    ("pow-half", lambda x: (x * x + 1.0) ** 0.5, ((5,),)),
    ("radd-rsub-rmul-rdiv", lambda x: 2.0 - (1.5 + x) * 3 / (2.0 + x * x), ((3, 2),)),
    ("matmul", lambda a, b: a @ b, ((3, 4), (4, 5))),
    ("matmul-batched-broadcast", lambda a, b: a @ b, ((2, 1, 3, 4), (3, 4, 2))),
    ("sum-all", lambda x: x.sum(), ((3, 4, 2),)),
    ("sum-axis", lambda x: x.sum(axis=1), ((3, 4, 2),)),
    ("sum-axes-keepdims", lambda x: x.sum(axis=(0, -1), keepdims=True), ((3, 4, 2),)),
    ("mean-all", lambda x: x.mean(), ((3, 5),)),
    ("mean-axis", lambda x: x.mean(axis=-1), ((3, 5, 2),)),
    ("mean-keepdims", lambda x: F.mean(x, axis=(1, 2), keepdims=True), ((3, 5, 2),)),
    ("reshape", lambda x: x.reshape(5, -1), ((3, 5, 2),)),
    ("reshape-tuple", lambda x: F.reshape(x, (2, 15)), ((3, 5, 2),)),
    ("transpose", lambda x: x.transpose(2, 0, 1), ((3, 5, 2),)),
    ("transpose-default", lambda x: F.transpose(x), ((3, 5, 2),)),
    ("T", lambda x: x.T, ((3, 5),)),
    ("getitem-slices", lambda x: x[1:, ::2, -1], ((3, 5, 2),)),
    ("getitem-int-newaxis", lambda x: x[1, None, ..., 0], ((3, 5, 2),)),
    ("getitem-repeated-int-array", lambda x: x[np.array([0, 2, 0, 0])], ((3, 5),)),
    ("getitem-bool-mask", lambda x: x[np.array([True, False, True])], ((3, 5),)),
    ("getitem-pairs", lambda x: x[np.array([0, 1, 1]), np.array([2, 2, 4])], ((3, 5),)),
    (
        "getitem-tensor-index",
        lambda x: x[Tensor(np.arange(3)), Tensor(np.array([4, 0, 4]))],
        ((3, 5),),
    ),
    ("exp", lambda x: x.exp(), ((3, 5),)),
    ("exp-function", F.exp, ((2, 3, 1),)),
    ("log", lambda x: (x * x + 0.5).log(), ((3, 5),)),
    ("log-function", lambda x: F.log(x * x + 0.5), ((4,),)),
    ("concatenate-axis0", lambda a, b: F.concatenate([a, b]), ((2, 3), (1, 3))),
    (
        "concatenate-axis-1",
        lambda a, b, c: F.concatenate([a, b, c], axis=-1),
        ((2, 3), (2, 1), (2, 2)),
    ),
    ("concatenate-one", lambda a: F.concatenate([a], axis=1), ((2, 3),)),
    ("matmul-function", F.matmul, ((1, 4), (4, 3))),
    ("sum-function", lambda x: F.sum(x, axis=0), ((3, 2),)),
]


@pytest.mark.parametrize(("fn", "shapes"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_primitive_matches_central_differences(fn, shapes, rng):
    inputs = [rng.normal(size=s) for s in shapes]
    # float64 central differences with eps 1e-6: truncation ~1e-12, rounding ~1e-10
    assert check(fn, *inputs, atol=1e-8, rtol=1e-7)


def _has_numpy_meaning(fn, shapes) -> bool:
    """True when ``fn`` applied to plain arrays is a NumPy expression (operators, methods)."""
    try:
        return isinstance(fn(*(np.ones(s) for s in shapes)), np.ndarray)
    except (TypeError, AttributeError):
        return False


OPERATOR_CASES = [c for c in CASES if _has_numpy_meaning(c[1], c[2])]


@pytest.mark.parametrize(
    ("fn", "shapes"), [c[1:] for c in OPERATOR_CASES], ids=[c[0] for c in OPERATOR_CASES]
)
def test_operator_forward_is_numpy(fn, shapes, rng):
    """The tape's forward values are those of the same expression on plain arrays."""
    inputs = [rng.normal(size=s) for s in shapes]
    out = fn(*(Tensor(x) for x in inputs))
    np.testing.assert_array_equal(out.data, fn(*inputs))


def test_most_cases_have_a_numpy_forward():
    assert len(OPERATOR_CASES) >= 35


def test_a_wrong_backward_is_caught(rng):
    from cnnlab.autograd import Function
    from cnnlab.gradcheck import GradcheckError

    square = Function("square", lambda x: (x * x, x), lambda dout, x: dout * x)  # misses 2
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(3, 2\)\)"):
        check(square, rng.normal(size=(3, 2)))
