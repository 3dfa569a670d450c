"""``cnnlab summary`` and ``cnnlab gradcheck``."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnnlab import models
from cnnlab.cli import main
from cnnlab.experiment import TrainConfig
from cnnlab.models.cnn import ThreeLayerConvNet


def summary_counts(out: str) -> dict[str, int]:
    """The Total / Trainable / Non-trainable counts printed under the table."""
    found = re.findall(r"^(Total|Trainable|Non-trainable) params: ([\d,]+)$", out, re.M)
    return {kind: int(n.replace(",", "")) for kind, n in found}


def test_summary_three_layer_counts_by_hand(capsys):
    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    # cnnlab train's three_layer: 32 filters 7x7 on 3 channels, pool to 16x16, hidden 500, 10
    conv, fc1, fc2 = 32 * 3 * 7 * 7 + 32, 32 * 16 * 16 * 500 + 500, 500 * 10 + 10
    assert summary_counts(out) == {
        "Total": conv + fc1 + fc2,
        "Trainable": conv + fc1 + fc2,
        "Non-trainable": 0,
    }
    rows = [line.split() for line in out.splitlines() if "(" in line and "Layer" not in line]
    assert [int(r[-1].replace(",", "")) for r in rows] == [conv, 0, 0, fc1, 0, fc2]
    assert "(None, 32, 16, 16)" in out  # the pool's output shape


@pytest.mark.parametrize("name", models.available())
def test_summary_totals_match_the_model(name, capsys):
    assert main(["summary", "--model", name]) == 0
    counts = summary_counts(capsys.readouterr().out)
    model = models.build(name, **TrainConfig(model=name).resolved().model_kwargs)
    trainable = sum(w.size for w in model.params.values())
    everything = sum(
        a.size for a in model.state_dict().values() if np.issubdtype(a.dtype, np.floating)
    )
    assert counts["Trainable"] == trainable
    # float buffers (batch norm statistics) included; dropout's int64 random state is not
    assert counts["Total"] == everything
    assert counts["Non-trainable"] == everything - trainable


def test_summary_unknown_model(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["summary", "--model", "vgg"])
    assert exc.value.code == 2
    assert "invalid choice: 'vgg'" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["three_layer", "mnist", "fc", "tf_three_layer"])
def test_gradcheck_passes(name, capsys):
    assert main(["gradcheck", "--model", name]) == 0
    lines = capsys.readouterr().out.splitlines()
    params = models.build(name, **({"hidden_dims": [20, 20]} if name == "fc" else {})).params
    assert [line.split()[0] for line in lines[:-1]] == list(params)
    assert all(float(line.split()[-1]) < 1e-6 for line in lines[:-1])
    assert lines[-1].startswith("OK: worst relative error")


def test_gradcheck_catches_a_wrong_gradient(monkeypatch, capsys):
    right_loss = ThreeLayerConvNet.loss

    def loss_with_wrong_w2(self, X, y=None):
        out = right_loss(self, X, y)
        if y is None:
            return out
        loss, grads = out
        return loss, {**grads, "W2": grads["W2"] * 1.1}

    monkeypatch.setattr(ThreeLayerConvNet, "loss", loss_with_wrong_w2)
    assert main(["gradcheck", "--model", "three_layer"]) == 1
    lines = capsys.readouterr().out.splitlines()
    errors = {line.split()[0]: float(line.split()[-1]) for line in lines[:-1]}
    # |1.1 g - g| / (|1.1 g| + |g|) = 0.1 / 2.1 wherever the checked entry of g is not zero
    assert errors["W2"] == pytest.approx(0.1 / 2.1, rel=1e-3)
    assert max(v for k, v in errors.items() if k != "W2") < 1e-6
    assert lines[-1].startswith("FAILED")


def test_gradcheck_checks_and_seed_options(capsys):
    assert main(["gradcheck", "--model", "fc", "--checks", "2", "--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert main(["gradcheck", "--model", "fc", "--checks", "2", "--seed", "3"]) == 0
    assert capsys.readouterr().out == first
    assert np.isfinite(float(first.splitlines()[-1].split()[4]))
