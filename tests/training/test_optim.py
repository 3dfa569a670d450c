"""Update rules against torch.optim (float64, several steps) and hand-computed values.

torch's SGD keeps a buffer b = mu * b + g and steps p -= lr * b (Nesterov: p -= lr * (g + mu*b));
CS231n keeps v = mu * v - lr * g and steps w += v (Nesterov: w += mu * v - lr * g). With a
constant learning rate v = -lr * b by induction (both start at 0), so the weights agree and the
states satisfy velocity == -lr * momentum_buffer. RMSprop: torch's alpha is decay_rate and eps is
added outside the square root, as in CS231n. Adam/AdamW: same bias correction, written as
lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps) in torch, so agreement is to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from cnnlab.training import optim

STEPS = 6
RTOL = 1e-12  # the same float64 formula in a different operation order

# Momentum and Adam run block by block on the thread pool: a parameter of shape SMALL takes the
# serial path, one of shape LARGE (above _parallel.SERIAL_BELOW, several blocks) the threaded one.
SMALL, LARGE = (4, 5), (300, 260)


def run_both(rule, config, torch_optimizer, rng, shape=(4, 5)):
    """Apply ``rule`` and a torch optimiser to the same weights and gradient sequence; yield
    (ours, theirs, config, torch state) after every step."""
    w = rng.standard_normal(shape)
    p = torch.nn.Parameter(torch.tensor(w.copy()))
    opt = torch_optimizer([p])
    for _ in range(STEPS):
        dw = rng.standard_normal(shape)
        w, config = rule(w, dw, config)
        p.grad = torch.tensor(dw.copy())
        opt.step()
        yield w, p.detach().numpy(), config, opt.state[p]


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-15)


def test_sgd_matches_torch(rng):
    for ours, theirs, _, _ in run_both(
        optim.sgd, {"learning_rate": 0.1}, lambda ps: torch.optim.SGD(ps, lr=0.1), rng
    ):
        close(ours, theirs)


@pytest.mark.parametrize("shape", [SMALL, LARGE])
@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_matches_torch(rng, nesterov, shape):
    lr, mu = 0.05, 0.9
    config = {"learning_rate": lr, "momentum": mu, "nesterov": nesterov}

    def make(ps):
        return torch.optim.SGD(ps, lr=lr, momentum=mu, nesterov=nesterov)

    with threadpool_limits(2):
        for ours, theirs, ours_state, state in run_both(
            optim.sgd_momentum, config, make, rng, shape
        ):
            close(ours, theirs)
            close(ours_state["velocity"], -lr * state["momentum_buffer"].numpy())


def test_sgd_momentum_by_hand():
    """w = 1, dw = 1 every step, lr 0.1, mu 0.9: v = -0.1, -0.19; w = 0.9, 0.71 (classical)
    and w = 1 - 0.09 - 0.1 = 0.81, 0.81 - 0.171 - 0.1 = 0.539 (Nesterov)."""
    for nesterov, expected in ((False, [0.9, 0.71]), (True, [0.81, 0.539])):
        w, config = np.ones(1), {"learning_rate": 0.1, "nesterov": nesterov}
        for want in expected:
            w, config = optim.sgd_momentum(w, np.ones(1), config)
            assert w[0] == pytest.approx(want, rel=1e-14)
        assert config["velocity"][0] == pytest.approx(-0.19, rel=1e-14)


def test_rmsprop_matches_torch(rng):
    config = {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8}

    def make(ps):
        return torch.optim.RMSprop(ps, lr=1e-2, alpha=0.99, eps=1e-8)

    for ours, theirs, ours_state, state in run_both(optim.rmsprop, config, make, rng):
        close(ours, theirs)
        close(ours_state["cache"], state["square_avg"].numpy())


@pytest.mark.parametrize(
    "rule, make",
    [
        (optim.adam, lambda ps: torch.optim.Adam(ps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)),
        (
            optim.adamw,
            lambda ps: torch.optim.AdamW(
                ps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2
            ),
        ),
    ],
)
@pytest.mark.parametrize("shape", [SMALL, LARGE])
def test_adam_and_adamw_match_torch(rng, rule, make, shape):
    with threadpool_limits(2):
        for step, (ours, theirs, config, state) in enumerate(
            run_both(rule, None, make, rng, shape), 1
        ):
            close(ours, theirs)
            close(config["m"], state["exp_avg"].numpy())
            close(config["v"], state["exp_avg_sq"].numpy())
            assert config["t"] == step == int(state["step"])


def test_adamw_decay_is_decoupled():
    """With a zero gradient Adam does not move; AdamW shrinks w by (1 - lr * weight_decay)."""
    w = np.array([2.0, -4.0])
    still, _ = optim.adam(w, np.zeros(2))
    shrunk, _ = optim.adamw(w, np.zeros(2), {"learning_rate": 0.1, "weight_decay": 0.5})
    np.testing.assert_array_equal(still, w)
    np.testing.assert_allclose(shrunk, w * 0.95, rtol=1e-15)


def test_defaults_are_cs231n():
    _, config = optim.sgd_momentum(np.zeros(3), np.zeros(3))
    assert config["learning_rate"] == 1e-2 and config["momentum"] == 0.9
    _, config = optim.rmsprop(np.zeros(3), np.zeros(3))
    assert (config["decay_rate"], config["epsilon"]) == (0.99, 1e-8)
    _, config = optim.adam(np.zeros(3), np.zeros(3))
    assert (config["learning_rate"], config["beta1"], config["beta2"]) == (1e-3, 0.9, 0.999)
    assert config["t"] == 1


@pytest.mark.parametrize("name", sorted(optim.RULES))
def test_rules_do_not_modify_inputs_or_state_in_place(rng, name):
    rule = optim.RULES[name]
    w, dw = rng.standard_normal(7), rng.standard_normal(7)
    _, config = rule(w.copy(), dw.copy(), None)
    state = {k: v.copy() for k, v in config.items() if isinstance(v, np.ndarray)}
    w0, dw0 = w.copy(), dw.copy()
    snapshot = {k: config[k] for k in state}
    rule(w, dw, dict(config))
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(dw, dw0)
    for key, value in state.items():
        np.testing.assert_array_equal(snapshot[key], value)


@pytest.mark.parametrize("name", sorted(optim.RULES))
def test_strided_parameter_same_as_contiguous(rng, name):
    """A transposed (not C-contiguous) parameter and gradient, large enough for the threaded
    blocks, step exactly as their contiguous copies (the blocks read a flat copy of each)."""
    rule = optim.RULES[name]
    w, dw = rng.standard_normal(LARGE).T, rng.standard_normal(LARGE).T
    assert not w.flags.c_contiguous
    with threadpool_limits(2):
        ours, config = rule(w, dw, None)
        ours, _ = rule(ours, dw, config)
        flat, config = rule(np.ascontiguousarray(w), np.ascontiguousarray(dw), None)
        flat, _ = rule(flat, np.ascontiguousarray(dw), config)
    assert ours.shape == w.shape
    np.testing.assert_array_equal(ours, flat)


@pytest.mark.parametrize("name", sorted(optim.RULES))
def test_float32_stays_float32(name):
    w = np.ones((2, 3), dtype=np.float32)
    next_w, _ = optim.RULES[name](w, np.full((2, 3), 0.5, dtype=np.float32), None)
    assert next_w.dtype == np.float32 and next_w.shape == (2, 3)


def test_bad_input():
    with pytest.raises(ValueError, match=r"adam: w has shape \(2, 3\) but dw has shape \(3, 2\)"):
        optim.adam(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="unknown update rule 'adagrad'"):
        optim.get_rule("adagrad")
    assert optim.get_rule("adamw") is optim.adamw
