"""cnnlab.experiment from Python: configuration, data, preprocessing, train / evaluate / predict,
and reading image files (cnnlab.data.image_file)."""

from __future__ import annotations

import dataclasses
import json
import struct

import numpy as np
import pytest
from PIL import Image

import cnnlab
from cnnlab import experiment, models, runs
from cnnlab.data.image_file import read_image
from cnnlab.data.sample import load_sample
from cnnlab.experiment import TrainConfig

TINY = TrainConfig(
    model="three_layer",
    model_kwargs={"hidden_dim": 20, "num_filters": 4},
    data="sample",
    num_train=100,
    num_test=30,
    batch_size=25,
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny run through the Python API: ``(TrainResult, run folder)``."""
    out = tmp_path_factory.mktemp("api") / "run"
    return experiment.train(TINY, out, verbose=False), out


# ------------------------------------------------------------------------- configuration
def test_three_layer_defaults_are_the_seed_settings():
    cfg = TrainConfig().resolved()
    # seed 001 section 9: hidden 500, weight scale 1e-3, reg 1e-3, Adam 1e-3, batch 50
    assert cfg.model == "three_layer" and cfg.data == "cifar10"
    assert cfg.model_kwargs == {"hidden_dim": 500, "weight_scale": 1e-3}
    assert (cfg.optimizer, cfg.lr, cfg.batch_size, cfg.weight_decay) == ("adam", 1e-3, 50, 1e-3)
    assert (cfg.preprocess, cfg.schedule, cfg.augment) == ("mean_image", "constant", False)


def test_explicit_values_override_defaults_and_original_is_unchanged():
    cfg = TrainConfig(
        model="three_layer", model_kwargs={"hidden_dim": 20}, lr=0.1, batch_size=7, augment=True
    )
    resolved = cfg.resolved()
    assert resolved.model_kwargs == {"hidden_dim": 20, "weight_scale": 1e-3}
    assert (resolved.lr, resolved.batch_size, resolved.augment) == (0.1, 7, True)
    assert cfg.optimizer is None and cfg.model_kwargs == {"hidden_dim": 20}


def test_per_model_defaults():
    assert TrainConfig(model="mnist").resolved().data == "mnist"
    resnet = TrainConfig(model="resnet").resolved()
    assert (resnet.optimizer, resnet.schedule, resnet.augment) == ("nesterov", "onecycle", True)
    tf = TrainConfig(model="tf_three_layer").resolved()
    assert (tf.optimizer, tf.lr, tf.batch_size, tf.preprocess) == ("nesterov", 3e-3, 64, "channel")


def test_every_model_has_valid_defaults():
    assert set(experiment.MODEL_DEFAULTS) <= set(models.available())
    for name in models.available():
        TrainConfig(model=name).resolved()  # raises on an invalid default


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"model": "lenet"}, "unknown model 'lenet'; available"),
        ({"optimizer": "adagrad"}, "unknown optimizer 'adagrad'"),
        ({"schedule": "linear"}, "unknown schedule 'linear'"),
        ({"preprocess": "zca"}, "unknown preprocess 'zca'"),
        ({"batch_size": 0}, "batch_size must be at least 1, got 0"),
        ({"epochs": 0}, "epochs must be at least 1, got 0"),
        ({"schedule": "cosine", "lr_decay": 0.95}, "not both"),
        ({"lr": 0.0}, "lr must be positive"),
    ],
)
def test_invalid_configurations(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(TrainConfig(), **changes).resolved()


def test_solver_options():
    def options(**kw):
        return experiment.make_solver_options(dataclasses.replace(TrainConfig(), **kw).resolved())

    nesterov = options(optimizer="nesterov", lr=0.1, momentum=0.8)
    assert nesterov["update_rule"] == "sgd_momentum"
    assert nesterov["optim_config"] == {"learning_rate": 0.1, "momentum": 0.8, "nesterov": True}
    assert options(optimizer="momentum")["optim_config"]["nesterov"] is False
    adamw = options(optimizer="adamw", weight_decay=0.05)
    assert adamw["update_rule"] == "adamw" and adamw["optim_config"]["weight_decay"] == 0.05
    assert options(schedule="constant")["schedule"] is None
    cosine = options(schedule="cosine", epochs=4)["schedule"]
    assert cosine(0) == pytest.approx(1.0) and cosine(4) < 1e-6


def test_fully_connected_net_gets_a_flat_input():
    model = experiment.build_model("fc", {"hidden_dims": [5]}, (3, 4, 4), 10)
    assert model.params["W1"].shape == (48, 5)
    assert model.params["W1"].dtype == np.float32


# ------------------------------------------------------------------------- data
def test_load_data_cuts_like_cs231n():
    X_tr, y_tr, X_te, y_te = load_sample()
    ds = experiment.load_data(TINY.resolved())
    nchw = (0, 3, 1, 2)
    np.testing.assert_array_equal(ds.X_train, X_tr[:100].transpose(nchw))
    np.testing.assert_array_equal(ds.X_val, X_tr[100:150].transpose(nchw))  # a tenth of 500
    np.testing.assert_array_equal(ds.y_val, y_tr[100:150])
    np.testing.assert_array_equal(ds.X_test, X_te[:30].transpose(nchw))
    np.testing.assert_array_equal(ds.y_test, y_te[:30])
    assert ds.X_train.dtype == np.uint8 and len(ds.class_names) == 10


def test_load_data_all_training_images_by_default():
    cfg = dataclasses.replace(TINY, num_train=None, num_test=None, num_val=20).resolved()
    ds = experiment.load_data(cfg)
    assert (len(ds.X_train), len(ds.X_val), len(ds.X_test)) == (480, 20, 100)
    assert ds.data == "sample" and ds.source == "bundled sample (480/20/100)"


def test_the_sample_by_default_is_450_50_100():
    ds = experiment.load_data(TrainConfig(data="sample").resolved())
    assert ds.sizes == {"train": 450, "val": 50, "test": 100}
    assert ds.source == "bundled sample (450/50/100)"


def test_num_val_is_honoured_up_to_what_the_data_has():
    ds = experiment.load_data(dataclasses.replace(TINY, num_val=400).resolved())
    assert ds.sizes == {"train": 100, "val": 400, "test": 30}
    with pytest.raises(ValueError, match=r"num_train 100 \+ num_val 401 = 501 .* 500 training"):
        experiment.load_data(dataclasses.replace(TINY, num_val=401).resolved())
    with pytest.raises(ValueError, match="num_val 1000 leaves no training images: the bundled"):
        experiment.load_data(dataclasses.replace(TINY, num_train=None, num_val=1000).resolved())
    with pytest.raises(ValueError, match="num_test 101, but the bundled sample has 100 test"):
        experiment.load_data(dataclasses.replace(TINY, num_test=101).resolved())


@pytest.mark.parametrize(
    ("counts", "sizes"),
    [
        ({}, (80, 10, 10)),  # a tenth each for validation and test, the rest for training
        ({"num_train": 50, "num_val": 20, "num_test": 5}, (50, 20, 5)),
        ({"num_val": 30}, (60, 30, 10)),
    ],
)
def test_mnist_split_honours_the_counts(counts, sizes, tmp_path, monkeypatch):
    y = _write_mnist(tmp_path, 100)
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path))
    ds = experiment.load_data(TrainConfig(model="mnist", data="mnist", **counts).resolved())
    assert tuple(ds.sizes.values()) == sizes
    assert ds.source == f"MNIST t10k ({sizes[0]}/{sizes[1]}/{sizes[2]})"
    # disjoint parts of the 100 digits (each image holds its index)
    seen = np.concatenate([ds.X_train, ds.X_val, ds.X_test])[:, 0, 0, 0]
    assert len(set(seen.tolist())) == sum(sizes)
    labels = np.concatenate([ds.y_train, ds.y_val, ds.y_test])
    np.testing.assert_array_equal(labels, y[seen])


def test_mnist_counts_beyond_the_digits_are_refused(tmp_path, monkeypatch):
    _write_mnist(tmp_path, 100)
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path))
    cfg = TrainConfig(model="mnist", data="mnist", num_train=90, num_val=20).resolved()
    with pytest.raises(
        ValueError, match=r"90 \+ num_val 20 \+ num_test 10 = 120 .* MNIST t10k has 100"
    ):
        experiment.load_data(cfg)


def _write_mnist(folder, n):
    """t10k IDX files of ``n`` digits whose first pixel is the digit's index; returns y."""
    X = np.zeros((n, 28, 28), np.uint8)
    X[:, 0, 0] = np.arange(n)
    y = np.arange(n) % 10
    (folder / "t10k-images-idx3-ubyte").write_bytes(
        struct.pack(">IIII", 0x803, n, 28, 28) + X.tobytes()
    )
    labels = struct.pack(">II", 0x801, n) + y.astype(np.uint8).tobytes()
    (folder / "t10k-labels-idx1-ubyte").write_bytes(labels)
    return y


# ------------------------------------------------------------------------- train / evaluate
def test_train_result_matches_results_json(trained):
    result, out = trained
    results = json.loads((out / "results.json").read_text())
    assert result.run_dir == out and result.interrupted is None
    assert result.test_acc == results["test_acc"] and result.val_acc == results["val_acc"]
    assert results["epochs_run"] == 1 and results["stopped_early"] is False
    config = runs.read_json(out / "config.json")
    # config.json rebuilds the configuration, with the split sizes used
    assert TrainConfig(**config) == dataclasses.replace(TINY.resolved(), num_val=50)
    assert results["data"] == "bundled sample (100/50/30)"
    assert results["split"] == {"train": 100, "val": 50, "test": 30}


def test_load_rebuilds_the_trained_model(trained):
    _, out = trained
    model = cnnlab.load(out)
    assert isinstance(model, models.ThreeLayerConvNet) and model.input_shape == (3, 32, 32)
    with np.load(out / "model.npz", allow_pickle=False) as z:
        for key, value in model.state_dict().items():
            np.testing.assert_array_equal(value, z[f"state/{key}"])
    assert model.preprocess.mean.shape == (3, 32, 32)  # three_layer's default: the mean image
    assert list(model.class_names) == runs.read_json(out / "results.json")["class_names"]


def test_evaluate_matches_training(trained):
    result, out = trained
    res = experiment.evaluate(out)
    assert res["accuracy"] == result.test_acc
    assert res["probs"].shape == (30, 10)
    assert res["source"] == "bundled sample (100/50/30)"
    # on other data: all its test images (the sample's 100)
    other = experiment.evaluate(out / "model.npz", data="sample")
    assert np.sum(other["confusion"]) == 100 and other["source"] == "bundled sample (450/50/100)"


def test_predict_image_file_equals_test_prediction(trained, tmp_path):
    """A test image written losslessly at the network's size predicts what training saw."""
    _, out = trained
    with np.load(out / "samples.npz", allow_pickle=False) as z:
        images, probs = z["images"], z["probs"]
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"test{i}.png")
        Image.fromarray(images[i]).save(paths[i])
    tops = experiment.predict_images(out, paths, top=10)
    names = runs.read_json(out / "results.json")["class_names"]
    for top, expected in zip(tops, probs[:3], strict=True):
        assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
        got = np.array([dict(top)[name] for name in names])
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)  # saved as float32


def test_predict_single_channel_model(tmp_path, rng):
    """A 1-channel model gets grayscale inputs at its own size, preprocessed as saved."""
    model = models.build("mnist", seed=3)
    prep = {"mean": np.full((1, 1, 1), 33.0), "std": np.full((1, 1, 1), 78.0)}
    runs.save_model(
        tmp_path / "model.npz",
        model.state_dict(),
        "mnist",
        {},
        (1, 28, 28),
        prep,
        [str(d) for d in range(10)],
    )
    rgb = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "digit.png")
    (top,) = experiment.predict_images(tmp_path / "model.npz", [tmp_path / "digit.png"], top=10)
    gray = Image.fromarray(rgb).convert("L").resize((28, 28), Image.Resampling.BILINEAR)
    x = (np.asarray(gray, dtype=np.float32)[None, None] - 33) / 78
    scores = model.loss(x)[0].astype(np.float64)
    expected = np.exp(scores - scores.max())
    expected /= expected.sum()
    got = np.array([dict(top)[str(d)] for d in range(10)])
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_load_rejects_a_mismatched_state(trained, tmp_path):
    _, out = trained
    meta, state, prep = runs.load_model_file(out / "model.npz")
    runs.save_model(
        tmp_path / "model.npz",
        state,
        "tf_three_layer",
        {},
        meta["input_shape"],
        prep,
        meta["class_names"],
    )
    with pytest.raises(ValueError, match="load_state_dict"):
        cnnlab.load(tmp_path)


def test_resume_with_dropout_is_bit_exact(tmp_path):
    cfg = dataclasses.replace(
        TINY, model="fc", model_kwargs={"hidden_dims": [20], "dropout_keep_ratio": 0.5}
    )
    experiment.train(dataclasses.replace(cfg, epochs=1), tmp_path / "A", verbose=False)
    experiment.train(dataclasses.replace(cfg, epochs=2), tmp_path / "A", resume=True, verbose=False)
    experiment.train(dataclasses.replace(cfg, epochs=2), tmp_path / "B", verbose=False)
    a = runs.load_model_file(tmp_path / "A" / "model.npz")[1]
    b = runs.load_model_file(tmp_path / "B" / "model.npz")[1]
    assert all(np.array_equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------------- read_image
def test_read_image_rgb_resize_and_layout(tmp_path):
    colour = np.array([10, 200, 30], dtype=np.uint8)
    Image.fromarray(np.tile(colour, (9, 13, 1))).save(tmp_path / "c.png")
    x = read_image(tmp_path / "c.png", (5, 7))
    assert x.shape == (3, 5, 7) and x.dtype == np.uint8 and x.flags.c_contiguous
    np.testing.assert_array_equal(x, np.broadcast_to(colour[:, None, None], (3, 5, 7)))


def test_read_image_keeps_pixels_at_the_same_size(tmp_path, rng):
    pixels = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_image(tmp_path / "p.png", (6, 8)), pixels.transpose(2, 0, 1))


def test_read_image_channel_conversions(tmp_path):
    Image.fromarray(np.full((4, 4), 77, dtype=np.uint8), mode="L").save(tmp_path / "g.png")
    np.testing.assert_array_equal(read_image(tmp_path / "g.png", (2, 2)), np.full((3, 2, 2), 77))
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 128  # red, half transparent
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    np.testing.assert_array_equal(read_image(tmp_path / "a.png", (4, 4))[:, 0, 0], [255, 0, 0])
    gray = read_image(tmp_path / "a.png", (4, 4), channels=1)
    assert gray.shape == (1, 4, 4)
    assert gray[0, 0, 0] == round(255 * 299 / 1000)  # ITU-R 601-2 luma of pure red


def test_read_image_errors(tmp_path):
    with pytest.raises(ValueError, match="channels must be 1 or 3, got 4"):
        read_image(tmp_path / "x.png", (2, 2), channels=4)
    with pytest.raises(FileNotFoundError, match=r"x\.png does not exist"):
        read_image(tmp_path / "x.png", (2, 2))
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(ValueError, match=r"cannot read .*x\.png as an image"):
        read_image(tmp_path / "x.png", (2, 2))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_image(tmp_path, (2, 2))  # a folder is not an image file
