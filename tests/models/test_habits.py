"""The habits users bring from PyTorch, Keras and scikit-learn, on every model (float64, tiny).

``model(x)``, single inputs, ``predict_proba``, ``parameters()``, ``train()``/``eval()``,
``model.save`` / ``cnnlab.load`` and their errors. The oracle for the scores is ``loss(X)``
(itself checked against PyTorch in test_against_torch.py); for the probabilities PyTorch's
softmax. Same inputs through the same float64 arithmetic give the same bits, so the checks of
one computation reached two ways are exact; the softmax against PyTorch is to 1e-12 (a few
roundings of numbers below 1).
"""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import models, nn
from cnnlab.models import Classifier
from cnnlab.saving import Normalization, decode_args, encode_args
from tests.models.specs import SPECS

IDS = [s[0] for s in SPECS]
BUILDS = [s[1] for s in SPECS]
CLASSES = {s[0]: s[4] for s in SPECS}


def _batch(model, rng, n=4):
    return rng.standard_normal((n, *model.input_shape))


def _moved(model, rng):
    """The model after one training pass, so that running statistics and dropout counters
    (buffers) differ from their initial values."""
    X = _batch(model, rng)
    model.loss(X, rng.integers(model.loss(X).shape[1], size=len(X)))
    return model


def _flags(model):
    return {m.training for _, m in model.net.named_modules()}


# ------------------------------------------------------------------------- model(x)
@pytest.mark.parametrize("build", BUILDS, ids=IDS)
def test_call_in_eval_mode_is_loss_without_labels(build, rng):
    model = _moved(build(), rng)
    X = _batch(model, rng)
    assert model.eval() is model
    np.testing.assert_array_equal(model(X), model.loss(X))


@pytest.mark.parametrize("build", BUILDS, ids=IDS)
def test_single_input_is_a_batch_of_one_without_the_batch_axis(build, rng):
    model = _moved(build(), rng).eval()
    X = _batch(model, rng, n=1)
    np.testing.assert_array_equal(model(X[0]), model(X)[0])
    np.testing.assert_array_equal(model.predict_proba(X[0]), model.predict_proba(X)[0])
    assert model.predict(X[0]) == model.predict(X)[0]
    assert model(X[0]).ndim == 1 and np.ndim(model.predict(X[0])) == 0


@pytest.mark.parametrize("build", BUILDS, ids=IDS)
def test_predict_proba_is_softmax_of_scores_and_agrees_with_predict(build, rng):
    model = _moved(build(), rng)
    X = 3 * _batch(model, rng, n=5)
    probs = model.predict_proba(X, batch_size=2)
    assert probs.dtype == np.float64 and probs.shape == (5, CLASSES[IDS[BUILDS.index(build)]])
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=0, atol=1e-12)
    expected = torch.softmax(torch.from_numpy(model.loss(X)), dim=1).numpy()
    np.testing.assert_allclose(probs, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(probs.argmax(axis=1), model.predict(X, batch_size=3))


def test_predict_runs_in_eval_mode_and_call_in_the_current_mode(rng):
    """Batch norm in training mode normalises with the batch's statistics: scores differ."""
    model = dict(zip(IDS, BUILDS, strict=True))["fc-batchnorm-dropout"]()
    X = _batch(model, rng)
    assert model.training  # a new model, as in PyTorch
    eval_scores = model.loss(X)
    assert not np.allclose(model(X), eval_scores)  # training mode
    assert model.training and _flags(model) == {True}
    np.testing.assert_array_equal(model.predict_proba(X), model.eval().predict_proba(X))
    model.train()
    np.testing.assert_array_equal(model.predict(X), model.eval().predict(X))
    # the training-mode call moved the running statistics, as in PyTorch
    np.testing.assert_array_equal(model(X), model.loss(X))


@pytest.mark.parametrize("build", BUILDS, ids=IDS)
def test_train_and_eval_reach_every_layer_and_stay_after_loss(build, rng):
    model = build()
    assert model.train(False) is model and not model.training and _flags(model) == {False}
    _moved(model, rng)  # loss(X, y) runs in training mode (CS231n), then restores the mode
    assert _flags(model) == {False}
    assert model.train() is model and model.training and _flags(model) == {True}
    model.loss(_batch(model, rng))
    assert _flags(model) == {True}


# ------------------------------------------------------------------------- parameters
@pytest.mark.parametrize("build", BUILDS, ids=IDS)
def test_parameters_are_the_params_arrays_in_order(build):
    model = build()
    named = list(model.named_parameters())
    assert [name for name, _ in named] == list(model.params)
    assert all(array is model.params[name] for name, array in named)
    assert [id(p) for p in model.parameters()] == [id(model.params[k]) for k in model.params]
    assert sum(p.size for p in model.parameters()) == model.num_parameters()


# ------------------------------------------------------------------------- save / load
@pytest.mark.parametrize("build", BUILDS, ids=IDS)
def test_save_load_round_trip_predicts_bit_identically(build, rng, tmp_path):
    model = _moved(build(), rng)
    X = _batch(model, rng)
    path = model.save(tmp_path / "model.npz")
    loaded = cnnlab.load(path)
    assert type(loaded) is type(model) and not loaded.training and _flags(loaded) == {False}
    assert loaded.input_shape == model.input_shape and loaded.reg == model.reg
    assert loaded.dtype == model.dtype == np.float64
    state, back = model.state_dict(), loaded.state_dict()
    assert list(back) == list(state)
    assert all(np.array_equal(back[k], state[k]) and back[k].dtype == state[k].dtype for k in state)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded(X), model.eval()(X))
    assert encode_args(loaded.init_args) == encode_args(model.init_args)


# small sizes of every registered model; a newly registered one must be added here
SMALL = {
    "three_layer": {"input_dim": (3, 8, 8), "num_filters": 2, "hidden_dim": 4},
    "tf_three_layer": {"input_dim": (3, 6, 6), "channel_1": 2, "channel_2": 2},
    "fc": {"hidden_dims": [4], "input_dim": 12, "normalization": "batchnorm"},
    "mini_alexnet": {"input_dim": (3, 27, 27), "widths": (2, 2, 2, 2, 2), "hidden_dims": (4, 4)},
    "resnet": {"input_dim": (3, 8, 8), "widths": (2, 3)},
    "allconv": {"input_dim": (3, 8, 8), "widths": (2, 3)},
    "mnist": {"filters": (2, 2)},
    "two_layer_fc": {"input_dim": 12, "hidden_size": 4},
    "keras_three_layer": {"input_dim": (3, 6, 6), "channel_1": 2, "channel_2": 2},
    "spatial_sum": {"input_dim": (3, 21, 21), "widths": (2, 2, 2)},
    "tf_challenge": {"widths": (2, 2, 2), "hidden_dims": (3,), "dropout": 0.5},
}


@pytest.mark.parametrize("name", models.available())
def test_every_registered_model_is_rebuilt_by_load(name, rng, tmp_path):
    assert name in SMALL, f"add small sizes of {name!r} to SMALL"
    model = _moved(models.build(name, seed=0, num_classes=3, **SMALL[name]), rng)
    X = _batch(model, rng)
    loaded = cnnlab.load(model.save(tmp_path / f"{name}.npz"))
    assert type(loaded) is type(model) and models.name_of(loaded) == name
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict_proba(X[0]), model.predict_proba(X[:1])[0])


def test_constructor_arguments_are_recorded_and_written_as_json():
    model = models.MiniAlexNet(input_dim=(3, 27, 27), widths=(3, 4, 5, 5, 4), dtype=np.float64)
    assert model.init_args["widths"] == (3, 4, 5, 5, 4)
    assert model.init_args["hidden_dims"] == (1024, 1024)  # defaults are filled in
    encoded = encode_args(model.init_args)
    assert encoded["dtype"] == "float64" and encoded["widths"] == [3, 4, 5, 5, 4]
    assert decode_args(encoded)["dtype"] is np.float64
    seeded = models.ResNet(widths=(2,), seed=np.random.default_rng(0))
    assert encode_args(seeded.init_args)["seed"] is None  # the draws are in the weights
    assert copy.deepcopy(seeded).init_args["widths"] == (2,)
    # recording leaves the constructors' signatures alone (build() and help() read them)
    assert list(inspect.signature(Classifier).parameters)[:2] == ["net", "loss"]
    assert "widths" in inspect.signature(models.ResNet).parameters


def test_preprocessing_and_class_names_are_applied_saved_and_loaded(rng, tmp_path):
    model = models.ThreeLayerConvNet(
        input_dim=(3, 6, 6), num_filters=2, hidden_dim=5, num_classes=3, dtype=np.float64, seed=0
    )
    pixels = rng.integers(0, 256, (4, 3, 6, 6)).astype(np.uint8)
    mean, std = rng.uniform(50, 200, (3, 1, 1)), rng.uniform(20, 80, (3, 1, 1))
    expected = model.predict_proba((pixels - mean) / std)  # no preprocessing attached yet
    model.preprocess, model.class_names = Normalization(mean, std), ("a", "b", "c")
    np.testing.assert_array_equal(model.predict_proba(pixels), expected)
    loaded = cnnlab.load(model.save(tmp_path / "m.npz"))
    assert loaded.class_names == ("a", "b", "c")
    np.testing.assert_array_equal(loaded.preprocess.mean, mean)
    np.testing.assert_array_equal(loaded.predict_proba(pixels), expected)
    np.testing.assert_array_equal(loaded(pixels[0]), model.eval()(pixels[0]))
    plain = models.ThreeLayerConvNet(input_dim=(3, 6, 6), num_filters=2, hidden_dim=5)
    plain.save(tmp_path / "plain.npz", preprocess={"mean": mean, "std": std}, class_names="xyz")
    again = cnnlab.load(tmp_path / "plain.npz")
    np.testing.assert_array_equal(again.preprocess.std, std)
    assert again.class_names == ("x", "y", "z")
    assert cnnlab.load(plain.save(tmp_path / "none.npz")).preprocess is None


# ------------------------------------------------------------------------- errors
@pytest.mark.parametrize("method", ["__call__", "predict", "predict_proba"])
def test_wrong_rank_names_the_model_and_both_shapes(method):
    model = models.ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, hidden_dim=3)
    call = model if method == "__call__" else getattr(model, method)
    pattern = (
        rf"ThreeLayerConvNet\.{method}: input of shape \(2, 1, 3, 8, 8\) is neither one "
        r"input of shape \(3, 8, 8\) nor a batch of shape \(N, 3, 8, 8\)"
    )
    with pytest.raises(ValueError, match=pattern):
        call(np.zeros((2, 1, 3, 8, 8)))
    with pytest.raises(ValueError, match=r"input of shape \(8, 8\)"):
        call(np.zeros((8, 8)))


def test_empty_input_is_an_error():
    model = models.FullyConnectedNet([3], input_dim=4, num_classes=2)
    for method in (model.predict, model.predict_proba):
        with pytest.raises(ValueError, match=r"FullyConnectedNet\.predict.*empty.*\(0, 4\)"):
            method(np.zeros((0, 4)))


def _own_model(seed):
    net = nn.Sequential(nn.Linear(4, 5, rng=seed), nn.Tanh(), nn.Linear(5, 3, rng=seed + 1))
    return Classifier(net, loss="svm", dtype=np.float64, input_shape=(4,))


def test_unregistered_model_saves_weights_and_loads_into_a_given_instance(rng, tmp_path):
    model = _own_model(0)
    X = rng.standard_normal((6, 4))
    path = model.save(tmp_path / "own.npz")
    with pytest.raises(ValueError, match=r"registry cannot rebuild.*model=instance"):
        cnnlab.load(path)
    other = _own_model(7)
    assert not np.array_equal(other.predict_proba(X), model.predict_proba(X))
    assert cnnlab.load(path, model=other) is other and not other.training
    np.testing.assert_array_equal(other.predict_proba(X), model.predict_proba(X))


def test_registered_class_with_unwritable_arguments_needs_an_instance(tmp_path):
    class Wider(models.TFThreeLayerConvNet):  # a subclass is not the registered class
        pass

    for model in (
        Wider(input_dim=(3, 4, 4), channel_1=2, channel_2=2),
        models.MNISTNet(
            filters=(2, 2), weight_init=lambda shape, rng, dtype: np.ones(shape, dtype)
        ),
    ):
        with pytest.raises(ValueError, match=r"model=instance"):
            cnnlab.load(model.save(tmp_path / "m.npz"))


def test_loading_what_is_not_a_model_file(tmp_path):
    (tmp_path / "notes.npz").write_text("not a zip")
    with pytest.raises(ValueError, match=r"cnnlab.load: .*notes\.npz is not a cnnlab model file"):
        cnnlab.load(tmp_path / "notes.npz")
    np.savez(tmp_path / "plain.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match=r"plain\.npz is not a cnnlab model file"):
        cnnlab.load(tmp_path / "plain.npz")
    with pytest.raises(FileNotFoundError, match=r"missing\.npz does not exist"):
        cnnlab.load(tmp_path / "missing.npz")
    with pytest.raises(FileNotFoundError, match=r"model\.npz does not exist: give a run folder"):
        cnnlab.load(tmp_path)


def test_load_rejects_weights_that_do_not_fit(tmp_path):
    path = models.FullyConnectedNet([3], input_dim=4, num_classes=2).save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"FullyConnectedNet.load_state_dict: missing keys"):
        cnnlab.load(path, model=models.FullyConnectedNet([3, 3], input_dim=4, num_classes=2))
