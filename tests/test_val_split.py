"""The validation split of cnnlab.experiment: CS231n's cut or the last images (seed 003)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cnnlab import experiment
from cnnlab.cli import main
from cnnlab.data.sample import load_sample
from cnnlab.experiment import TrainConfig

NCHW = (0, 3, 1, 2)
SAMPLE = TrainConfig(data="sample", num_train=100, num_val=30, num_test=10)


def test_last_takes_the_end_of_the_training_set():
    X_tr, y_tr, _, _ = load_sample()
    ds = experiment.load_data(dataclasses.replace(SAMPLE, val_split="last").resolved())
    np.testing.assert_array_equal(ds.X_train, X_tr[:100].transpose(NCHW))
    np.testing.assert_array_equal(ds.X_val, X_tr[-30:].transpose(NCHW))
    np.testing.assert_array_equal(ds.y_val, y_tr[-30:])


def test_after_takes_the_images_after_the_training_ones():
    X_tr, y_tr, _, _ = load_sample()
    ds = experiment.load_data(SAMPLE.resolved())
    assert SAMPLE.val_split == "after"
    np.testing.assert_array_equal(ds.X_val, X_tr[100:130].transpose(NCHW))
    np.testing.assert_array_equal(ds.y_val, y_tr[100:130])


def test_both_agree_when_every_other_image_trains():
    cfgs = [
        dataclasses.replace(SAMPLE, num_train=None, val_split=s).resolved()
        for s in "after last".split()
    ]
    after, last = (experiment.load_data(cfg) for cfg in cfgs)
    np.testing.assert_array_equal(after.X_val, last.X_val)
    np.testing.assert_array_equal(after.X_train, last.X_train)
    assert len(last.X_train) + len(last.X_val) == len(load_sample()[0])


def test_unknown_split_is_refused():
    with pytest.raises(
        ValueError, match=r"unknown val_split 'first'; choose from \('after', 'last'\)"
    ):
        dataclasses.replace(SAMPLE, val_split="first").resolved()


def test_cli_option_reaches_the_config(monkeypatch, tmp_path):
    seen = {}

    def fake_train(cfg, out, **options):
        seen["cfg"] = cfg
        raise KeyboardInterrupt

    monkeypatch.setattr(experiment, "train", fake_train)
    argv = ["train", "--data", "sample", "--val-split", "last", "--out", str(tmp_path / "r")]
    assert main(argv) == 130
    assert seen["cfg"].val_split == "last"
