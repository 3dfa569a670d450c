"""The op table: one :class:`OpInfo` entry per functional op (PyTorch's OpInfo idea).

An entry says how to call the op, what PyTorch computes for it, which sample inputs to try and
which bad inputs it must reject. The generic tests in ``test_ops.py`` run every check on every
entry:

* the PyTorch oracle (float64): the output and the gradient of every differentiable argument;
* numerical gradients (central differences, :mod:`cnnlab.gradcheck`);
* fast against naive on random shapes (hypothesis), for the entries with a naive twin;
* each bad input raises a ``ValueError`` whose message names the op and the shapes, and a
  ``dout`` of the wrong shape is rejected by the backward pass;
* every public forward and backward function of :mod:`cnnlab.functional` has an entry.

Adding an op therefore means adding one entry to :data:`OPS`. Per-family files keep only what a
table cannot say (the seeds' published numbers, dtypes, float32 accuracy, algorithm selection).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from cnnlab import functional as cf
from cnnlab.functional import conv as conv_module

# float64 against a float64 reference (PyTorch or the naive twin): only the rounding differs,
# about 1e-16 per operation on O(1) values, far below these.
EXACT_RTOL, EXACT_ATOL = 1e-10, 1e-12
# Central differences with h = 1e-5 in float64: truncation ~h^2 |f'''| ~ 1e-10, rounding
# ~1e-16 |sum(out * dout)| / h ~ 1e-10 for these tiny O(1) cases.
NUM_RTOL, NUM_ATOL = 1e-7, 1e-8
# Through batch normalisation the seeds accept up to 1e-6 ("1e-12~1e-06"): it divides by
# per-channel standard deviations estimated from few values.
BN_NUM_RTOL = 1e-6

# conv_module.IM2COL_BELOW_CHANNELS values that force each fast algorithm (a 1x1 kernel without
# padding always takes the pointwise one).
CONV_FORCE = {"im2col": 10**9, "shifted": 0}


# ------------------------------------------------------------------------------ the records


@dataclass(frozen=True)
class Case:
    """One sample call of an op.

    Attributes:
        shapes: the shape of each array argument, in call order; None passes None (an
            optional array such as a missing bias).
        params: the arguments after the arrays (``conv_param``, ``G``, a slope ...).
        values: how the arrays are filled: ``"normal"`` (standard normal), ``"kink"`` (normal
            with exact zeros, where relu and its kin switch branch) or ``"ties"`` (the integers
            0..2: pooling windows with several maxima).
    """

    shapes: tuple[tuple[int, ...] | None, ...]
    params: tuple[Any, ...] = ()
    values: str = "normal"

    @property
    def smooth(self) -> bool:
        """False where central differences straddle a kink or a tie and mean nothing."""
        return self.values == "normal"

    @property
    def id(self) -> str:
        """A short test id, e.g. ``2x3x5x5-2x3x3x3-2-stride=2,pad=1``."""
        parts = ["none" if s is None else "x".join(map(str, s)) or "scalar" for s in self.shapes]
        parts += [_compact(p) for p in self.params]
        if self.values != "normal":
            parts.append(self.values)
        return "-".join(parts)


def _compact(value: Any) -> str:
    """A parameter as a short string without spaces (arrays by their shape)."""
    if isinstance(value, dict):
        return ",".join(f"{k}={_compact(v)}" for k, v in value.items())
    if isinstance(value, np.ndarray):
        return "x".join(map(str, value.shape))
    return repr(value).replace(" ", "")


@dataclass(frozen=True)
class BadInput:
    """Arguments an op must reject, and the pattern its ``ValueError`` message must match."""

    args: tuple[Any, ...]
    match: str


def msg(op: str, *words: str) -> str:
    """A pattern for a message that starts with ``op:`` and contains every one of ``words``.

    Matching key words and shapes, not whole sentences, lets the wording change freely.
    """
    return "^" + re.escape(op) + ":" + "".join(f"(?=.*{re.escape(w)})" for w in words)


Inputs = list  # the array arguments of one call: np.ndarray, or None for an absent one


def fill(rng: np.random.Generator, case: Case) -> Inputs:
    """Arrays of ``case.shapes`` filled as ``case.values`` says (the default input maker)."""
    arrays = []
    for shape in case.shapes:
        if shape is None:
            arrays.append(None)
        elif case.values == "ties":
            arrays.append(rng.integers(0, 3, size=shape).astype(np.float64))
        else:
            a = rng.standard_normal(shape)
            if case.values == "kink":
                a.reshape(-1)[::3] = 0.0
            arrays.append(a)
    return arrays


@dataclass(frozen=True)
class OpInfo:
    """Everything the generic tests need to know about one op.

    Attributes:
        name: the entry's name (test ids).
        forward: ``forward(*arrays, *params) -> (out, cache)``.
        backward: ``backward(dout, cache)`` -> one gradient or a tuple of them, one for each
            argument in ``grad_args``, in that order.
        torch_ref: the same computation in PyTorch: ``torch_ref(*tensors, *params) -> out``,
            tensors float64 (integer arrays stay integer); used for the output and, through
            autograd, for every gradient.
        cases: the sample calls.
        grad_args: indices of the arguments the backward pass differentiates.
        naive: the ``(forward, backward)`` of a slower twin with the same contract (the loop
            version; for batchnorm the staged backward): it gets every check the entry gets,
            and is compared with the entry on random shapes drawn from ``random_cases``.
        random_cases: a hypothesis strategy of cases for that comparison.
        make_inputs: ``make_inputs(rng, case) -> arrays`` (standard normal by default).
        bad_inputs: argument lists the forward pass must reject.
        dout_error: the name that starts the backward pass's message for a ``dout`` of the
            wrong shape (the op's own, or an inner op's for the sandwich ops); None for the
            losses, whose backward takes the scalar's gradient.
        num_rtol: relative tolerance of the numerical gradient check.
    """

    name: str
    forward: Callable[..., tuple[Any, Any]]
    backward: Callable[[Any, Any], Any]
    torch_ref: Callable[..., torch.Tensor]
    cases: tuple[Case, ...]
    grad_args: tuple[int, ...] = (0,)
    naive: tuple[Callable[..., Any], Callable[..., Any]] | None = None
    random_cases: st.SearchStrategy[Case] | None = None
    make_inputs: Callable[[np.random.Generator, Case], Inputs] = fill
    bad_inputs: tuple[BadInput, ...] = ()
    dout_error: str | None = None
    num_rtol: float = NUM_RTOL

    def functions(self) -> Iterator[Callable[..., Any]]:
        """The cnnlab functions this entry tests (wrappers unwrapped)."""
        for f in (self.forward, self.backward, *(self.naive or ())):
            yield getattr(f, "__wrapped__", f)


def as_tuple(grads: Any) -> tuple[Any, ...]:
    """A backward pass's result as a tuple (single-gradient ops return one array)."""
    return grads if isinstance(grads, tuple) else (grads,)


# --------------------------------------------------------------- adapters to the OpInfo contract


def _loss_op(loss_fn: Callable[..., tuple[float, np.ndarray]]) -> Callable[..., Any]:
    """A loss ``(loss, dx) = loss_fn(x, y)`` as an op: out is the 0-d loss, the cache dx."""

    @functools.wraps(loss_fn)
    def forward(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        loss, dx = loss_fn(x, y)
        return np.asarray(loss), dx

    return forward


def _loss_backward(dout: np.ndarray, grads: Any) -> Any:
    """The chain rule for a scalar output: each gradient of the loss times the upstream scalar."""
    if isinstance(grads, tuple):
        return tuple(dout * g for g in grads)
    return dout * grads


@functools.wraps(cf.ae_cost)
def _ae_cost_op(W1, W2, b1, b2, data, params):
    """:func:`ae_cost` with the four weights as separate arguments, as an op."""
    cost, grads = cf.ae_cost((W1, W2, b1, b2), data, params)
    return np.asarray(cost), grads


def _conv_forced(algorithm: str) -> Callable[..., Any]:
    """:func:`conv_forward` with its fast algorithm forced (see :data:`CONV_FORCE`)."""

    @functools.wraps(cf.conv_forward)
    def forward(x, w, b, conv_param=None):
        with mock.patch.object(conv_module, "IM2COL_BELOW_CHANNELS", CONV_FORCE[algorithm]):
            return cf.conv_forward(x, w, b, conv_param)

    return forward


# ------------------------------------------------------------------------ PyTorch references


def _torch_conv(x, w, b, conv_param=None):
    p = conv_param or {}
    return F.conv2d(
        x, w, b, stride=p.get("stride", 1), padding=p.get("pad", 0), dilation=p.get("dilation", 1)
    )


def _pool_args(p: dict) -> dict[str, Any]:
    kernel = (p["pool_height"], p["pool_width"])
    return {
        "kernel_size": kernel,
        "stride": p.get("stride", kernel),
        "padding": p.get("pad", 0),
        "ceil_mode": p.get("ceil_mode", False),
    }


def _torch_max_pool(x, pool_param):
    return F.max_pool2d(x, **_pool_args(pool_param))


def _torch_avg_pool(x, pool_param):
    include = pool_param.get("count_include_pad", True)
    return F.avg_pool2d(x, **_pool_args(pool_param), count_include_pad=include)


def _torch_batchnorm(x, gamma, beta, bn_param):
    training = bn_param["mode"] == "train"
    stats = [
        None if training else torch.tensor(bn_param[k]) for k in ("running_mean", "running_var")
    ]
    return F.batch_norm(x, *stats, gamma, beta, training=training, eps=bn_param.get("eps", 1e-5))


def _torch_groupnorm(x, gamma, beta, groups, gn_param):
    c = x.shape[1]
    eps = (gn_param or {}).get("eps", 1e-5)
    return F.group_norm(x, groups, gamma.reshape(c), beta.reshape(c), eps=eps)


def _torch_dropout(x, dropout_param):
    """The mask cnnlab documents: ``default_rng(seed).random(x.shape) < p``, scaled by 1 / p."""
    p = dropout_param["p"]
    if dropout_param["mode"] == "test":
        return x * 1
    keep = np.random.default_rng(dropout_param["seed"]).random(tuple(x.shape)) < p
    return x * torch.from_numpy(keep / p)


def _torch_svm(x, y):
    """CS231n's hinge loss sums over classes: C times PyTorch's multi_margin_loss."""
    return x.shape[1] * F.multi_margin_loss(x, y, margin=1.0)


def _torch_ae_cost(W1, W2, b1, b2, data, params):
    """The sparse-autoencoder cost written out (reconstruction, weight decay, KL sparsity)."""
    _, _, lam, beta, rho = params
    h = torch.sigmoid(data @ W1 + b1)
    o = torch.sigmoid(h @ W2 + b2)
    cost = 0.5 * ((o - data) ** 2).sum() / data.shape[0]
    cost = cost + 0.5 * lam * ((W1**2).sum() + (W2**2).sum())
    rho_hat = h.mean(dim=0)
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
    return cost + beta * kl.sum()


def _torch_conv_bn_relu(x, w, b, gamma, beta, conv_param, bn_param):
    return F.relu(_torch_batchnorm(_torch_conv(x, w, b, conv_param), gamma, beta, bn_param))


# --------------------------------------------------------------------------- input makers


def _scores_labels(rng: np.random.Generator, case: Case) -> Inputs:
    """Scores (N, C) of scale 2 and integer labels (N,) in [0, C)."""
    (n, c), _ = case.shapes
    return [2.0 * rng.standard_normal((n, c)), rng.integers(c, size=n)]


def _batch_stats(rng: np.random.Generator, case: Case) -> Inputs:
    """x with mean 3 and std 2 (batch statistics far from the defaults), gamma and beta."""
    x, gamma, beta = fill(rng, case)
    return [3.0 + 2.0 * x, gamma, beta]


# ------------------------------------------------------------------------------- the cases


def _conv_cases() -> Iterator[Case]:
    # x, w, conv_param: N = 1, C = 1, odd and non-square sizes, stride/pad/dilation variety
    for x, w, param in [
        ((1, 1, 6, 6), (1, 1, 3, 3), {}),
        ((2, 3, 5, 5), (2, 3, 3, 3), {"stride": 1, "pad": 1}),  # the seed's gradient check
        ((1, 3, 5, 7), (3, 3, 3, 2), {"stride": 1, "pad": 1}),
        ((2, 3, 7, 6), (2, 3, 3, 3), {"stride": 3, "pad": 2}),
        ((1, 2, 7, 8), (2, 2, 4, 3), {"stride": (2, 3), "pad": (1, 2), "dilation": (2, 1)}),
        ((2, 3, 7, 6), (2, 3, 2, 3), {"dilation": 2}),
        ((2, 3, 7, 7), (2, 3, 2, 2), {"stride": 3}),  # stride > kernel: some pixels never read
        ((2, 4, 5, 4), (3, 4, 1, 1), {}),  # 1x1: one matrix product
        ((2, 4, 5, 4), (3, 4, 1, 1), {"stride": 2}),
        ((1, 4, 5, 4), (2, 4, 1, 1), {"pad": 2}),  # 1x1 with padding
        ((1, 3, 8, 5), (2, 3, 5, 1), {"stride": 2, "pad": (2, 0)}),  # leftover rows
        ((1, 2, 6, 7), (3, 2, 3, 3), {"stride": 2, "pad": 1, "dilation": 2}),
        ((1, 8, 5, 4), (2, 8, 3, 3), {"pad": 1}),  # channels around the algorithm switch
        ((1, 7, 5, 4), (2, 7, 3, 3), {"stride": 2}),
        ((2, 2, 5, 6), (2, 2, 3, 3), {"pad": (3, 0)}),  # pad beyond the kernel's reach
        ((2, 2, 5, 6), (2, 2, 3, 2), {"pad": (0, 1), "dilation": (1, 2)}),  # shared pad, dilated
    ]:
        yield Case((x, w, (w[0],)), (param,))
    yield Case(((2, 3, 5, 5), (2, 3, 3, 3), None), ({"pad": 1},))  # no bias


@st.composite
def _random_conv_case(draw: st.DrawFn) -> Case:
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    stride = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    pad = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    # the input is at least as large as the dilated window less the padding (else rejected)
    h, w = (
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 7))
        for k, p, d in zip(kernel, pad, dilation, strict=True)
    )
    param = {"stride": stride, "pad": pad, "dilation": dilation}
    return Case(((n, c, h, w), (f, c, *kernel), (f,)), (param,))


def pool_param(kernel, stride=None, pad=0, ceil_mode=False, **extra) -> dict[str, Any]:
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    p = {"pool_height": kh, "pool_width": kw, "pad": pad, "ceil_mode": ceil_mode, **extra}
    if stride is not None:
        p["stride"] = stride
    return p


POOL_SHAPES = [
    # x shape, kernel, stride, pad, ceil_mode
    ((1, 2, 8, 8), 2, 2, 0, False),
    ((1, 1, 7, 9), (3, 2), (2, 1), (1, 1), False),
    ((1, 2, 9, 10), 3, 2, 1, True),
    ((2, 1, 9, 10), 3, 2, 0, True),
    ((2, 1, 5, 7), (2, 3), 3, 0, False),  # stride > window: gaps
    ((1, 2, 6, 6), 4, 1, 2, True),
    ((1, 2, 10, 10), 3, 3, 0, False),  # tf 'VALID': the last row/col is dropped
    ((1, 3, 5, 11), (1, 4), (1, 3), (0, 2), True),
    ((2, 1, 4, 6), 2, None, 0, False),  # stride defaults to the window
]


def _max_pool_cases() -> Iterator[Case]:
    for x, kernel, stride, pad, ceil_mode in POOL_SHAPES:
        yield Case((x,), (pool_param(kernel, stride, pad, ceil_mode),))


def _avg_pool_cases() -> Iterator[Case]:
    for x, kernel, stride, pad, ceil_mode in POOL_SHAPES:
        for include in (True, False):
            param = pool_param(kernel, stride, pad, ceil_mode, count_include_pad=include)
            yield Case((x,), (param,))


@st.composite
def _random_pool_case(draw: st.DrawFn, avg: bool) -> Case:
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = draw(st.tuples(st.integers(1, 4), st.integers(1, 4)))
    stride = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    pad = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    h, w = (draw(st.integers(max(1, k - 2 * p), 8)) for k, p in zip(kernel, pad, strict=True))
    extra = {"count_include_pad": draw(st.booleans())} if avg else {}
    param = pool_param(kernel, stride, pad, draw(st.booleans()), **extra)
    values = draw(st.sampled_from(["normal", "ties"]))
    return Case(((n, c, h, w),), (param,), values)


@st.composite
def _random_batchnorm_case(draw: st.DrawFn) -> Case:
    n, d = draw(st.integers(2, 8)), draw(st.integers(1, 5))
    return Case(((n, d), (d,), (d,)), ({"mode": "train"},))


@st.composite
def _random_upsample_case(draw: st.DrawFn) -> Case:
    shape = tuple(draw(st.integers(1, k)) for k in (2, 3, 5, 5))
    return Case((shape,), (draw(st.integers(1, 3)),))


def _stats(d: int, seed: int) -> dict[str, np.ndarray]:
    """Running statistics for test-mode batchnorm: means normal, variances in [0.5, 2]."""
    rng = np.random.default_rng(seed)
    return {"running_mean": rng.standard_normal(d), "running_var": rng.uniform(0.5, 2.0, d)}


def _per_channel(x_shape: tuple[int, ...]) -> tuple[int]:
    """The shape of a scale or shift with one entry per feature / channel (axis 1)."""
    return (x_shape[1],)


def _norm_cases(x_shapes, gamma_shape, params) -> tuple[Case, ...]:
    """Cases (x, gamma, beta) for normalisation ops; ``gamma_shape(x_shape)`` sizes the scale."""
    return tuple(
        Case((x, gamma_shape(x), gamma_shape(x)), p) for x, p in zip(x_shapes, params, strict=True)
    )


ACTIVATION_SHAPES = [(4, 3, 5), (3, 7), (1, 1)]


def _activation_cases(*param_sets: tuple[Any, ...]) -> tuple[Case, ...]:
    """Each shape with each parameter set, plus one case on the kink (exact zeros)."""
    cases = [Case((s,), p) for s in ACTIVATION_SHAPES for p in param_sets]
    cases += [Case(((4, 3, 5),), p, "kink") for p in param_sets]
    return tuple(cases)


# --------------------------------------------------------------------------- the bad inputs


def _z(*shape: int, dtype: type = np.float64) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


CONV_BAD = (
    BadInput(
        (_z(2, 4, 8, 8), _z(5, 3, 3, 3), _z(5), {}),
        msg("conv2d", "channels", "(2, 4, 8, 8)", "(5, 3, 3, 3)"),
    ),
    BadInput((_z(4, 8, 8), _z(5, 4, 3, 3), _z(5), {}), msg("conv2d", "4-D", "(4, 8, 8)")),
    BadInput((_z(2, 4, 8, 8), _z(5, 4, 3), _z(5), {}), msg("conv2d", "4-D", "(5, 4, 3)")),
    BadInput((_z(2, 4, 8, 8), _z(5, 4, 3, 3), _z(4), {}), msg("conv2d", "bias", "(5,)", "(4,)")),
    BadInput((_z(2, 4, 8, 8), _z(5, 4, 3, 3), _z(5, 1), {}), msg("conv2d", "bias", "(5, 1)")),
    BadInput(
        (_z(2, 4, 4, 4), _z(5, 4, 5, 5), _z(5), {}),
        msg("conv2d", "5x5", "larger", "4x4", "(2, 4, 4, 4)"),
    ),
    BadInput((_z(2, 4, 8, 8), _z(5, 4, 3, 3), _z(5), {"dilation": 4}), msg("conv2d", "9x9")),
    BadInput((_z(2, 4, 8, 8), _z(5, 4, 3, 3), _z(5), {"stride": 0}), msg("conv2d", "stride", "0")),
    BadInput(
        (_z(2, 4, 8, 8), _z(5, 4, 3, 3), _z(5), {"dilation": (1, 0)}),
        msg("conv2d", "dilation", "(1, 0)"),
    ),
    BadInput((_z(2, 4, 8, 8), _z(5, 4, 3, 3), _z(5), {"pad": -1}), msg("conv2d", "pad", "-1")),
    BadInput((_z(2, 4, 8, 8), _z(5, 4, 3, 3), _z(5), {"pad": 1.5}), msg("conv2d", "pad", "1.5")),
    BadInput(
        (_z(1, 1, 4, 4, dtype=np.int64), _z(2, 1, 3, 3), _z(2), {}),
        msg("conv2d", "floating", "int64"),
    ),
)


def _pool_bad(op: str) -> tuple[BadInput, ...]:
    p2 = pool_param(2)
    return (
        BadInput((_z(4, 4, 4), p2), msg(op, "4-D", "(4, 4, 4)")),
        BadInput((_z(1, 1, 4, 4), {"pool_height": 2}), msg(op, "pool_width")),
        BadInput((_z(1, 1, 4, 4), pool_param(0)), msg(op, "pool_height", "0")),
        BadInput((_z(1, 1, 4, 4), pool_param(2, 0)), msg(op, "stride", "0")),
        BadInput((_z(1, 1, 4, 4), pool_param(2, pad=-1)), msg(op, "pad", "-1")),
        BadInput((_z(1, 1, 4, 4), pool_param(2, pad=2)), msg(op, "pad", "2x2", "(1, 1, 4, 4)")),
        BadInput((_z(1, 1, 2, 3), pool_param(4)), msg(op, "4x4", "2x3", "(1, 1, 2, 3)")),
        BadInput((_z(1, 1, 4, 4, dtype=np.int32), p2), msg(op, "floating", "int32")),
    )


def _activation_bad(op: str, *params: Any) -> tuple[BadInput, ...]:
    return (BadInput((np.arange(3), *params), msg(op, "floating", "int64")),)


AFFINE_BAD = (
    BadInput((_z(2, 3, 4), _z(10, 5), _z(5)), msg("affine", "12", "(10, 5)")),
    BadInput((_z(2, 3, 4), _z(12), _z(1)), msg("affine", "2-D", "(12,)")),
    BadInput((_z(2, 3, 4), _z(12, 5), _z(4)), msg("affine", "(5,)", "(4,)")),
    BadInput((_z(2, 12, dtype=np.int32), _z(12, 5), _z(5)), msg("affine", "floating", "int32")),
    BadInput((_z(), _z(1, 5), _z(5)), msg("affine", "batch", "()")),
)

_ONES3 = np.ones(3)
BATCHNORM_BAD = (
    BadInput(
        (_z(4, 3, 1), _ONES3, _ONES3, {"mode": "train"}), msg("batchnorm", "2-D", "(4, 3, 1)")
    ),
    BadInput(
        (_z(4, 3), _z(4), _ONES3, {"mode": "train"}), msg("batchnorm", "gamma", "(3,)", "(4,)")
    ),
    BadInput(
        (_z(4, 3), _ONES3, _z(1, 3), {"mode": "train"}), msg("batchnorm", "beta", "(3,)", "(1, 3)")
    ),
    BadInput((_z(4, 3), _ONES3, _ONES3, {}), msg("batchnorm", "mode", "None")),
    BadInput((_z(4, 3), _ONES3, _ONES3, {"mode": "eval"}), msg("batchnorm", "mode", "'eval'")),
    BadInput(
        (_z(4, 3), _ONES3, _ONES3, {"mode": "test", "running_var": np.ones(2)}),
        msg("batchnorm", "running_var", "(3,)", "(2,)"),
    ),
    BadInput((_z(4, 3), _ONES3, _ONES3, {"mode": "train", "eps": 0}), msg("batchnorm", "eps", "0")),
    BadInput(
        (_z(4, 3, dtype=np.int64), _ONES3, _ONES3, {"mode": "train"}),
        msg("batchnorm", "floating", "int64"),
    ),
)

SPATIAL_BATCHNORM_BAD = (
    BadInput(
        (_z(2, 3), _ONES3, _ONES3, {"mode": "train"}), msg("spatial_batchnorm", "4-D", "(2, 3)")
    ),
    BadInput(
        (_z(2, 3, 4, 4), _z(1, 3, 1, 1), _ONES3, {"mode": "train"}),
        msg("spatial_batchnorm", "gamma", "(3,)", "(1, 3, 1, 1)"),
    ),
    BadInput(
        (_z(2, 3, 4, 4), _ONES3, _ONES3, {"mode": "Train"}),
        msg("spatial_batchnorm", "mode", "'Train'"),
    ),
)

LAYERNORM_BAD = (
    BadInput((_z(4, 5), _z(4), _z(5), {}), msg("layernorm", "gamma", "(5,)", "(4,)")),
    BadInput((_z(5), _z(5), _z(5), {}), msg("layernorm", "2-D", "(5,)")),
    BadInput((_z(4, 5), _z(5), _z(5), {"eps": -1}), msg("layernorm", "eps", "-1")),
)

_G6 = np.ones((1, 6, 1, 1))
GROUPNORM_BAD = (
    BadInput((_z(2, 6, 3, 3), _G6, _G6, 4, {}), msg("spatial_groupnorm", "6", "4", "(2, 6, 3, 3)")),
    BadInput((_z(2, 6, 3, 3), _G6, _G6, 0, {}), msg("spatial_groupnorm", "G", "0")),
    BadInput((_z(2, 6, 3, 3), _G6, _G6, 2.0, {}), msg("spatial_groupnorm", "G", "2.0")),
    BadInput(
        (_z(2, 6, 3, 3), _z(6), _G6, 2, {}),
        msg("spatial_groupnorm", "gamma", "(1, 6, 1, 1)", "(6,)"),
    ),
    BadInput(
        (_z(2, 6, 3, 3), _G6, _z(1, 3, 1, 1), 2, {}),
        msg("spatial_groupnorm", "beta", "(1, 6, 1, 1)", "(1, 3, 1, 1)"),
    ),
    BadInput((_z(6, 3, 3), _G6, _G6, 2, {}), msg("spatial_groupnorm", "4-D", "(6, 3, 3)")),
)

DROPOUT_BAD = (
    *(
        BadInput((_z(3), {"mode": "train", "p": p}), msg("dropout", "'p'", repr(p)))
        for p in (0, 0.0, -0.1, 1.5, None, "0.5", True)
    ),
    BadInput((_z(2, 3), {"p": 0.5}), msg("dropout", "mode", "None")),
    BadInput((_z(2, 3), {"p": 0.5, "mode": "train", "rng": 3}), msg("dropout", "rng", "int")),
    BadInput((np.ones(3, dtype=int), {"p": 0.5, "mode": "train"}), msg("dropout", "floating")),
)


def _classification_bad(op: str) -> tuple[BadInput, ...]:
    x = _z(4, 3)
    return (
        BadInput((x, np.array([0, 1, 2, 3])), msg(op, "[0, 3)", "3")),
        BadInput((x, np.array([0, -1, 2, 2])), msg(op, "[0, 3)", "-1")),
        BadInput((x, np.array([0, 1, 2])), msg(op, "4", "(3,)")),
        BadInput((x, _z(4)), msg(op, "float64")),
        BadInput((x, _z(4, 1, dtype=int)), msg(op, "(4, 1)")),
        BadInput((_z(12), _z(12, dtype=int)), msg(op, "2-D", "(12,)")),
        BadInput((_z(0, 3), _z(0, dtype=int)), msg(op, "(0, 3)")),
    )


MSE_BAD = (
    BadInput((_z(2, 3), _z(3, 2)), msg("mse_loss", "(2, 3)", "(3, 2)")),
    BadInput((_z(2, 3), _z(2, 3, dtype=int)), msg("mse_loss", "target", "floating")),
    BadInput((_z(0, 3), _z(0, 3)), msg("mse_loss", "empty", "(0, 3)")),
)

UPSAMPLE_BAD = (
    BadInput((_z(2, 3, 4), 2), msg("upsample_nearest", "4-D", "(2, 3, 4)")),
    BadInput((_z(1, 1, 2, 2), 0), msg("upsample_nearest", "scale_factor", "0")),
    BadInput((_z(1, 1, 2, 2), 1.5), msg("upsample_nearest", "scale_factor", "1.5")),
    BadInput((_z(1, 1, 2, 2), True), msg("upsample_nearest", "scale_factor", "True")),
    BadInput((_z(1, 1, 2, 2, dtype=np.int64), 2), msg("upsample_nearest", "floating", "int64")),
)

AE = (6, 3, 1e-3, 3.0, 0.1)  # sparse-autoencoder params (Lin, Lhid, lambda, beta, rho)

_CONV3 = {"stride": 1, "pad": 1}
_POOL2 = {"pool_height": 2, "pool_width": 2, "stride": 2}


# ------------------------------------------------------------------------------- the table


def _conv_entries() -> list[OpInfo]:
    common = dict(
        torch_ref=_torch_conv,
        cases=tuple(_conv_cases()),
        grad_args=(0, 1, 2),
        bad_inputs=CONV_BAD,
        dout_error="conv2d",
    )
    common["naive"] = (cf.conv_forward_naive, cf.conv_backward_naive)
    common["random_cases"] = _random_conv_case()
    return [
        OpInfo("conv2d", cf.conv_forward, cf.conv_backward, **common),
        *(
            OpInfo(f"conv2d_{algorithm}", _conv_forced(algorithm), cf.conv_backward, **common)
            for algorithm in CONV_FORCE
        ),
    ]


def _pool_entries() -> list[OpInfo]:
    entries = []
    for kind, ref, cases in (
        ("max", _torch_max_pool, tuple(_max_pool_cases())),
        ("avg", _torch_avg_pool, tuple(_avg_pool_cases())),
    ):
        op = f"{kind}_pool2d"
        entries.append(
            OpInfo(
                op,
                getattr(cf, f"{kind}_pool_forward"),
                getattr(cf, f"{kind}_pool_backward"),
                torch_ref=ref,
                cases=cases,
                naive=(
                    getattr(cf, f"{kind}_pool_forward_naive"),
                    getattr(cf, f"{kind}_pool_backward_naive"),
                ),
                random_cases=_random_pool_case(avg=kind == "avg"),
                bad_inputs=_pool_bad(op),
                dout_error=op,
            )
        )
    return entries


def _activation_entries() -> list[OpInfo]:
    entries = []
    for name, ref, param_sets in (
        ("relu", F.relu, [()]),
        ("leaky_relu", F.leaky_relu, [(), (0.2,)]),
        ("elu", F.elu, [(), (1.3,)]),
        ("sigmoid", torch.sigmoid, [()]),
        ("tanh", torch.tanh, [()]),
    ):
        entries.append(
            OpInfo(
                name,
                getattr(cf, f"{name}_forward"),
                getattr(cf, f"{name}_backward"),
                torch_ref=ref,
                cases=_activation_cases(*param_sets),
                bad_inputs=_activation_bad(name, *param_sets[-1]),
                dout_error=name,
            )
        )
    return entries


def _norm_entries() -> list[OpInfo]:
    return [
        OpInfo(
            "batchnorm",
            cf.batchnorm_forward,
            cf.batchnorm_backward_alt,
            naive=(cf.batchnorm_forward, cf.batchnorm_backward),  # the staged backward
            random_cases=_random_batchnorm_case(),
            torch_ref=_torch_batchnorm,
            cases=_norm_cases(
                [(7, 5), (2, 3), (1, 4), (6, 4)],
                _per_channel,
                [
                    ({"mode": "train", "momentum": 0.8, "eps": 1e-4},),
                    ({"mode": "train"},),
                    ({"mode": "test", **_stats(4, 1)},),  # N = 1 needs the running statistics
                    ({"mode": "test", **_stats(4, 2)},),
                ],
            ),
            grad_args=(0, 1, 2),
            make_inputs=_batch_stats,
            bad_inputs=BATCHNORM_BAD,
            dout_error="batchnorm",
        ),
        OpInfo(
            "spatial_batchnorm",
            cf.spatial_batchnorm_forward,
            cf.spatial_batchnorm_backward,
            torch_ref=_torch_batchnorm,
            cases=_norm_cases(
                [(3, 4, 5, 2), (1, 1, 3, 3), (2, 3, 4, 5)],
                _per_channel,
                [
                    ({"mode": "train", "momentum": 0.7},),
                    ({"mode": "train"},),
                    ({"mode": "test", **_stats(3, 3)},),
                ],
            ),
            grad_args=(0, 1, 2),
            make_inputs=_batch_stats,
            bad_inputs=SPATIAL_BATCHNORM_BAD,
            dout_error="spatial_batchnorm",
        ),
        OpInfo(
            "layernorm",
            cf.layernorm_forward,
            cf.layernorm_backward,
            torch_ref=lambda x, gamma, beta, p: F.layer_norm(
                x, gamma.shape, gamma, beta, eps=(p or {}).get("eps", 1e-5)
            ),
            cases=_norm_cases(
                [(4, 7), (4, 7), (1, 5), (3, 2)],
                _per_channel,
                [({"mode": "train", "eps": 1e-3},), ({"mode": "test"},), ({},), (None,)],
            ),
            grad_args=(0, 1, 2),
            make_inputs=_batch_stats,
            bad_inputs=LAYERNORM_BAD,
            dout_error="layernorm",
        ),
        OpInfo(
            "spatial_groupnorm",
            cf.spatial_groupnorm_forward,
            cf.spatial_groupnorm_backward,
            torch_ref=_torch_groupnorm,
            cases=_norm_cases(
                [(2, 6, 4, 5), (3, 4, 3, 1), (1, 3, 2, 2), (2, 6, 2, 3)],
                lambda x: (1, x[1], 1, 1),
                [(2, {}), (4, {"mode": "test"}), (1, None), (3, {"eps": 1e-3})],
            ),
            grad_args=(0, 1, 2),
            make_inputs=_batch_stats,
            bad_inputs=GROUPNORM_BAD,
            dout_error="spatial_groupnorm",
        ),
    ]


def _loss_entries() -> list[OpInfo]:
    classification = [Case(((8, 5), (8,))), Case(((1, 3), (1,))), Case(((6, 4), (6,)))]
    return [
        OpInfo(
            "softmax_loss",
            _loss_op(cf.softmax_loss),
            _loss_backward,
            torch_ref=F.cross_entropy,
            cases=tuple(classification),
            make_inputs=_scores_labels,
            bad_inputs=_classification_bad("softmax_loss"),
        ),
        OpInfo(
            "svm_loss",
            _loss_op(cf.svm_loss),
            _loss_backward,
            torch_ref=_torch_svm,
            cases=tuple(classification),
            make_inputs=_scores_labels,
            bad_inputs=_classification_bad("svm_loss"),
        ),
        OpInfo(
            "ae_cost",
            _ae_cost_op,
            _loss_backward,
            torch_ref=_torch_ae_cost,
            cases=tuple(
                Case(((lin, hid), (hid, lin), (hid,), (lin,), (n, lin)), (p,))
                for lin, hid, n, p in [
                    (6, 3, 5, (6, 3, 1e-3, 3.0, 0.1)),
                    (4, 2, 1, (4, 2, 0.0, 0.5, 0.3)),  # one sample
                    (5, 4, 3, (5, 4, 0.1, 0.0, 0.1)),  # no sparsity term
                ]
            ),
            grad_args=(0, 1, 2, 3),
            bad_inputs=(
                BadInput(
                    (_z(5, 3), _z(3, 6), _z(3), _z(6), _z(2, 6), AE),
                    msg("ae_cost", "W1", "(5, 3)", "(6, 3)"),
                ),
                BadInput(
                    (_z(6, 3), _z(3, 6), _z(3), _z(6), _z(2, 5), AE),
                    msg("ae_cost", "data", "(2, 5)"),
                ),
                BadInput(
                    (_z(6, 3), _z(3, 6), _z(3), _z(6), _z(2, 6), (6, 3, 0.0, 1.0, 1.5)),
                    msg("ae_cost", "rho", "1.5"),
                ),
            ),
        ),
        OpInfo(
            "mse_loss",
            _loss_op(cf.mse_loss),
            _loss_backward,
            torch_ref=F.mse_loss,
            cases=(Case(((4, 3, 2), (4, 3, 2))), Case(((5, 3), (5, 3))), Case(((1,), (1,)))),
            bad_inputs=MSE_BAD,
        ),
    ]


def _sandwich_entries() -> list[OpInfo]:
    return [
        OpInfo(
            "affine_relu",
            cf.affine_relu_forward,
            cf.affine_relu_backward,
            torch_ref=lambda x, w, b: F.relu(F.linear(x.reshape(x.shape[0], -1), w.T, b)),
            cases=(Case(((4, 2, 3), (6, 5), (5,))), Case(((1, 3), (3, 2), (2,)))),
            grad_args=(0, 1, 2),
            bad_inputs=(BadInput((_z(2, 3), _z(4, 5), _z(5)), msg("affine", "3", "(4, 5)")),),
            dout_error="relu",
        ),
        OpInfo(
            "conv_relu",
            cf.conv_relu_forward,
            cf.conv_relu_backward,
            torch_ref=lambda x, w, b, p: F.relu(_torch_conv(x, w, b, p)),
            cases=(Case(((2, 3, 5, 6), (3, 3, 3, 3), (3,)), (_CONV3,)),),
            grad_args=(0, 1, 2),
            bad_inputs=(CONV_BAD[0],),
            dout_error="relu",
        ),
        OpInfo(
            "conv_relu_pool",
            cf.conv_relu_pool_forward,
            cf.conv_relu_pool_backward,
            torch_ref=lambda x, w, b, cp, pp: _torch_max_pool(F.relu(_torch_conv(x, w, b, cp)), pp),
            cases=(Case(((2, 3, 8, 8), (3, 3, 3, 3), (3,)), (_CONV3, _POOL2)),),
            grad_args=(0, 1, 2),
            bad_inputs=(BadInput((*CONV_BAD[0].args, _POOL2), CONV_BAD[0].match),),
            dout_error="max_pool2d",
        ),
        OpInfo(
            "conv_bn_relu",
            cf.conv_bn_relu_forward,
            cf.conv_bn_relu_backward,
            torch_ref=_torch_conv_bn_relu,
            cases=(
                Case(
                    ((3, 2, 6, 5), (4, 2, 3, 3), (4,), (4,), (4,)),
                    (_CONV3, {"mode": "train", "momentum": 0.9}),
                ),
            ),
            grad_args=(0, 1, 2, 3, 4),
            num_rtol=BN_NUM_RTOL,
            dout_error="relu",
        ),
    ]


def _build() -> tuple[OpInfo, ...]:
    return (
        *_conv_entries(),
        *_pool_entries(),
        OpInfo(
            "global_avg_pool2d",
            cf.global_avg_pool_forward,
            cf.global_avg_pool_backward,
            torch_ref=lambda x: x.mean(dim=(2, 3)),
            cases=(Case(((2, 3, 4, 5),)), Case(((1, 1, 3, 1),)), Case(((3, 4, 5, 7),))),
            bad_inputs=(
                BadInput((_z(2, 3),), msg("global_avg_pool2d", "4-D", "(2, 3)")),
                BadInput((_z(1, 1, 2, 2, dtype=np.int64),), msg("global_avg_pool2d", "floating")),
            ),
            dout_error="global_avg_pool2d",
        ),
        OpInfo(
            "affine",
            cf.affine_forward,
            cf.affine_backward,
            torch_ref=lambda x, w, b: F.linear(x.reshape(x.shape[0], -1), w.T, b),
            cases=(
                Case(((3, 4, 5), (20, 6), (6,))),
                Case(((4, 2, 3), (6, 5), (5,))),
                Case(((1, 7), (7, 1), (1,))),
                Case(((3, 4), (4, 2), None)),  # no bias
            ),
            grad_args=(0, 1, 2),
            bad_inputs=AFFINE_BAD,
            dout_error="affine",
        ),
        *_activation_entries(),
        *_norm_entries(),
        OpInfo(
            "dropout",
            cf.dropout_forward,
            cf.dropout_backward,
            torch_ref=_torch_dropout,
            cases=(
                Case(((6, 8),), ({"mode": "train", "p": 0.6, "seed": 42},)),
                Case(((2, 3, 4, 4),), ({"mode": "train", "p": 0.25, "seed": 1},)),
                Case(((3, 4),), ({"mode": "train", "p": 1.0, "seed": 0},)),
                Case(((4, 5),), ({"mode": "test", "p": 0.3},)),
            ),
            bad_inputs=DROPOUT_BAD,
            dout_error="dropout",
        ),
        *_loss_entries(),
        *_sandwich_entries(),
        OpInfo(
            "upsample_nearest",
            cf.upsample_nearest_forward,
            cf.upsample_nearest_backward,
            torch_ref=lambda x, k: F.interpolate(x, scale_factor=k, mode="nearest"),
            cases=(
                Case(((2, 3, 4, 5),), (2,)),
                Case(((1, 1, 3, 1),), (3,)),
                Case(((2, 2, 2, 3),), (1,)),
            ),
            naive=(cf.upsample_nearest_forward_naive, cf.upsample_nearest_backward_naive),
            random_cases=_random_upsample_case(),
            bad_inputs=UPSAMPLE_BAD,
            dout_error="upsample_nearest",
        ),
    )


#: Every op, by entry name.
OPS: dict[str, OpInfo] = {op.name: op for op in _build()}


def implementations() -> Iterator[tuple[str, OpInfo, Callable[..., Any], Callable[..., Any]]]:
    """``(id, op, forward, backward)`` of every implementation in the table: each entry's own
    and its naive twin's (id ``<name>-naive``), the naive twin once when entries share it."""
    seen = set()
    for op in OPS.values():
        pairs = [(op.name, op.forward, op.backward)]
        if op.naive is not None:
            pairs.append((f"{op.name}-naive", *op.naive))
        for name, forward, backward in pairs:
            if (forward, backward) not in seen:
                seen.add((forward, backward))
                yield name, op, forward, backward
