"""cnnlab.load on what ``cnnlab train`` writes: the run folder, its model.npz and its
checkpoint.npz, and the agreement with ``cnnlab predict``.

Every run is tiny (100 training images of the bundled sample, a 4-filter ThreeLayerConvNet
with 20 hidden units, or a 20-unit fully connected net), so a training takes about a second.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

import cnnlab
from cnnlab import experiment, models, runs
from cnnlab.cli import main
from cnnlab.data.image_file import read_image
from cnnlab.training.checkpoint import load_checkpoint

TINY = ["--data", "sample", "--num-train", "100", "--num-test", "20", "--batch-size", "25"]


def _train(out, *model_args):
    assert main(["train", *TINY, *model_args, "--out", str(out), "--quiet", "--no-report"]) == 0
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("saving") / "run"
    return _train(out, "--set", "hidden_dim=20", "--set", "num_filters=4")


@pytest.fixture
def image(tmp_path, rng):
    path = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 256, (45, 60, 3), dtype=np.uint8)).save(path)
    return path


def _printed(capsys, argv):
    """``cnnlab predict`` output for one image: [(class name, printed probability)]."""
    capsys.readouterr()
    assert main(["predict", *argv, "--top", "10"]) == 0
    _, _, rest = capsys.readouterr().out.strip().partition(": ")
    return [(name, float(p)) for name, p in (part.rsplit(" ", 1) for part in rest.split(", "))]


def _expected(model, image):
    probs = model.predict_proba(read_image(image, model.input_shape[1:]))
    return [(model.class_names[k], round(float(probs[k]), 3)) for k in np.argsort(-probs)]


def test_load_predict_proba_equals_what_cnnlab_predict_prints(run, image, capsys):
    model = cnnlab.load(run)
    assert isinstance(model, models.ThreeLayerConvNet) and not model.training
    assert _printed(capsys, [str(run), str(image)]) == _expected(model, image)
    # the run's model file loads to the same model
    np.testing.assert_array_equal(
        cnnlab.load(run / runs.MODEL_FILE).predict_proba(read_image(image, (32, 32))),
        model.predict_proba(read_image(image, (32, 32))),
    )


def test_loaded_model_reproduces_the_test_probabilities_of_training(run):
    """samples.npz holds the test probabilities training computed (as float32)."""
    with np.load(run / "samples.npz", allow_pickle=False) as z:
        images, probs = z["images"], z["probs"]
    got = cnnlab.load(run).predict_proba(images.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(got, probs, rtol=1e-6, atol=1e-8)  # float32 rounding


def test_checkpoint_loads_as_the_model_it_holds(run, image, capsys):
    ckpt = run / runs.CHECKPOINT_FILE
    model = cnnlab.load(ckpt)
    arrays, _ = load_checkpoint(ckpt)
    state = model.state_dict()
    assert set(state) == {k.removeprefix("model/") for k in arrays if k.startswith("model/")}
    assert all(np.array_equal(value, arrays[f"model/{key}"]) for key, value in state.items())
    assert model.class_names == cnnlab.load(run).class_names
    assert _printed(capsys, [str(ckpt), str(image)]) == _expected(model, image)
    res = experiment.evaluate(ckpt)
    assert np.sum(res["confusion"]) == 20


def test_checkpoint_without_its_spec_is_a_clear_error(run, tmp_path):
    lone = tmp_path / "checkpoint.npz"
    shutil.copy(run / runs.CHECKPOINT_FILE, lone)
    with pytest.raises(FileNotFoundError, match=r"Solver checkpoint.*model_spec\.npz"):
        cnnlab.load(lone)
    with pytest.raises(ValueError, match=r"is not a cnnlab model file .*'cnnlab.model_spec/1'"):
        cnnlab.load(run / runs.SPEC_FILE)  # the spec alone holds no weights


def test_fully_connected_run_takes_images(tmp_path, image, capsys):
    """The fc net has a flat input_dim but its input_shape is the image's: one (3, 32, 32)
    image is one input."""
    out = _train(tmp_path / "fc", "--model", "fc", "--set", "hidden_dims=[20]")
    model = cnnlab.load(out)
    assert model.input_shape == (3, 32, 32) and model.params["W1"].shape == (3072, 20)
    assert _printed(capsys, [str(out), str(image)]) == _expected(model, image)
