"""The training memory guard: the estimate, the limit, and a probe that changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import models
from cnnlab.training import memory


def bn_dropout_net():
    return models.build(
        "fc", hidden_dims=[16, 8], input_dim=12, num_classes=3, normalization="batchnorm",
        dropout_keep_ratio=0.5, seed=0,
    )  # fmt: skip


def one_sample(rng):
    return rng.standard_normal((1, 12)).astype(np.float32), np.array([2])


def test_the_probe_step_leaves_the_model_as_it_was(rng):
    model = bn_dropout_net()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    memory.estimate_training_memory(model, *one_sample(rng), batch_size=4, update_rule="adam")
    after = model.state_dict()
    assert set(after) == set(before)
    for name, value in before.items():  # running statistics and dropout counters included
        assert np.array_equal(after[name], value), name


def test_the_estimate_counts_samples_parameters_and_optimiser_state(rng, monkeypatch):
    model = bn_dropout_net()
    x, y = one_sample(rng)
    params = sum(w.nbytes for w in model.params.values())
    assert memory.estimate_training_memory(model, x, y, 1, "sgd")["per_sample"] > 0
    monkeypatch.setattr(memory, "_traced_step", lambda *args: params + 1000)  # a fixed peak
    est = {
        (b, rule): memory.estimate_training_memory(model, x, y, b, rule)["total"]
        for b in (10, 100, 1000)
        for rule in ("sgd", "adam")
    }
    assert est[10, "sgd"] == est[100, "sgd"] == 1000 * 100 + 4 * params  # eval batches of 100
    assert est[1000, "sgd"] == 1000 * 1000 + 4 * params
    assert est[100, "adam"] - est[100, "sgd"] == 2 * params  # Adam's two moments


@pytest.mark.parametrize(
    ("text", "size"),
    [("1024", 1024), ("2K", 2048), ("1.5G", 1.5 * 2**30), ("3MiB", 3 * 2**20), ("inf", np.inf)],
)
def test_sizes_parse(text, size):
    assert memory.parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "", "-1G", "1Q"])
def test_bad_sizes_name_the_variable(text):
    with pytest.raises(ValueError, match="CNNLAB_MAX_MEMORY"):
        memory.parse_size(text)


def test_over_the_limit_is_refused_with_the_figure_and_the_override(rng, monkeypatch):
    monkeypatch.setenv("CNNLAB_MAX_MEMORY", "10K")
    refused = r"needs about .* more than 10\.0 KiB .*CNNLAB_MAX_MEMORY"
    with pytest.raises(MemoryError, match=refused):
        memory.check_training_memory(bn_dropout_net(), *one_sample(rng), 50, "adam")
    monkeypatch.setenv("CNNLAB_MAX_MEMORY", "inf")
    assert memory.check_training_memory(bn_dropout_net(), *one_sample(rng), 50, "adam") == {}
    monkeypatch.setenv("CNNLAB_MAX_MEMORY", "1G")
    need = memory.check_training_memory(bn_dropout_net(), *one_sample(rng), 50, "adam")
    assert 0 < need["total"] < 2**30


def test_available_memory_is_a_positive_figure():
    assert memory.available_memory() > 0
