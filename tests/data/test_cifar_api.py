"""get_CIFAR10_data / load_cifar10 on the bundled sample; searching; download_cifar10."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from cnnlab.compat.cs231n import data_utils
from cnnlab.data import cifar10, cifar10_official
from cnnlab.data.cifar10 import get_CIFAR10_data, load_cifar10, load_cifar10_raw
from cnnlab.data.sample import load_sample


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No data anywhere: empty HOME, no CNNLAB_DATA, a working dir without ../shared/data."""
    home = tmp_path / "home"
    cwd = tmp_path / "a" / "b"
    home.mkdir()
    cwd.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CNNLAB_DATA", raising=False)
    monkeypatch.chdir(cwd)
    return tmp_path


def test_bundled_sample_contents():
    X_train, y_train, X_test, y_test = load_sample()
    assert X_train.shape == (500, 32, 32, 3) and X_test.shape == (100, 32, 32, 3)
    assert X_train.dtype == X_test.dtype == np.uint8
    assert y_train.dtype == y_test.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y_train), [50] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [10] * 10)
    np.testing.assert_array_equal(y_train[:10], np.arange(10))  # classes interleaved
    assert 60 < X_train.mean() < 200 and X_train.std() > 30  # natural images, not blank


def test_sample_used_with_a_notice_when_nothing_found(nowhere, capsys):
    got = load_cifar10_raw()
    err = capsys.readouterr().err
    assert "bundled" in err and "download_cifar10" in err and "CNNLAB_DATA" in err
    for a, b in zip(got, load_sample(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_nothing_found_without_sample_lists_places(nowhere, monkeypatch):
    (nowhere / "data").mkdir()
    monkeypatch.setenv("CNNLAB_DATA", str(nowhere / "data"))
    with pytest.raises(FileNotFoundError, match=str(nowhere / "data")):
        load_cifar10_raw(allow_sample=False)


def test_search_finds_a_folder_in_cnnlab_data(nowhere, monkeypatch, make_image_tree, capsys):
    path, _ = make_image_tree(classes=("ship",), n_train=2, n_test=1, name="data/cifar10")
    monkeypatch.setenv("CNNLAB_DATA", str(path.parent))
    X_train, y_train, _, _ = load_cifar10_raw(allow_sample=False)
    assert X_train.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(y_train, [8, 8])
    assert capsys.readouterr().err == ""


def test_search_prefers_official_archive(nowhere, monkeypatch, make_cifar_batches, file_md5):
    _, archive, expected, _ = make_cifar_batches()
    data = archive.parent
    (data / "cifar10-jpeg.zip").write_bytes(b"never read")
    shutil.rmtree(data / "cifar-10-batches-py")
    monkeypatch.setattr(cifar10_official, "ARCHIVE_MD5", file_md5(archive))
    monkeypatch.setenv("CNNLAB_DATA", str(data))
    np.testing.assert_array_equal(load_cifar10_raw()[1], expected[1])


def test_get_cifar10_data_on_sample():
    X_train, y_train, X_test, y_test = load_sample()
    data = get_CIFAR10_data(num_training=400, num_validation=100, num_test=50, source="sample")
    shapes = {k: v.shape for k, v in data.items()}
    assert shapes == {
        "X_train": (400, 3, 32, 32), "y_train": (400,),
        "X_val": (100, 3, 32, 32), "y_val": (100,),
        "X_test": (50, 3, 32, 32), "y_test": (50,),
    }  # fmt: skip
    assert all(data[k].dtype == np.float32 for k in ("X_train", "X_val", "X_test"))
    np.testing.assert_array_equal(data["y_val"], y_train[400:500])
    np.testing.assert_array_equal(data["y_test"], y_test[:50])
    # the mean image of the 400 training images, computed pixel by pixel
    mean = X_train[:400].astype(np.float64).sum(axis=0) / 400  # (32, 32, 3)
    expected_val = X_train[400:500].astype(np.float64) - mean
    np.testing.assert_allclose(data["X_val"], expected_val.transpose(0, 3, 1, 2), atol=1e-4)
    np.testing.assert_allclose(data["X_train"].mean(axis=0), 0, atol=1e-3)
    expected_test = (X_test[:50].astype(np.float64) - mean).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(data["X_test"], expected_test, atol=1e-4)


def test_get_cifar10_data_without_mean_subtraction():
    X_train, _, X_test, _ = load_sample()
    data = get_CIFAR10_data(10, 5, 5, subtract_mean=False, source="sample", dtype=np.float64)
    assert data["X_train"].dtype == np.float64
    assert data["X_test"][3, 1, 4, 7] == X_test[3, 4, 7, 1]  # NCHW vs NHWC index
    np.testing.assert_array_equal(data["X_train"], X_train[:10].transpose(0, 3, 1, 2))


def test_get_cifar10_data_too_many_requested():
    with pytest.raises(ValueError, match=r"get_CIFAR10_data: asked for 49000 .* 500 training"):
        get_CIFAR10_data(source="sample")
    with pytest.raises(ValueError, match="num_test"):
        get_CIFAR10_data(10, 10, -1, source="sample")


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_load_cifar10_normalises_per_channel(layout):
    X_train, y_train, X_val, y_val, X_test, y_test = load_cifar10(
        num_training=450, num_validation=50, num_test=100, layout=layout, source="sample"
    )
    channel_axis = 3 if layout == "NHWC" else 1
    assert X_train.shape[channel_axis] == 3 and X_train.shape[0] == 450
    assert X_val.shape[0] == 50 and X_test.shape[0] == 100 and X_train.dtype == np.float32
    reduce = tuple(a for a in range(4) if a != channel_axis)
    np.testing.assert_allclose(X_train.mean(axis=reduce, dtype=np.float64), 0, atol=1e-5)
    np.testing.assert_allclose(X_train.std(axis=reduce, dtype=np.float64), 1, rtol=1e-5)
    raw = load_sample()
    np.testing.assert_array_equal(y_train, raw[1][:450])
    np.testing.assert_array_equal(y_val, raw[1][450:500])
    np.testing.assert_array_equal(y_test, raw[3])
    # the same affine map applies to every split: validate with the training statistics
    Xr = raw[0][:450].astype(np.float64)
    m, s = Xr.mean(axis=(0, 1, 2)), Xr.std(axis=(0, 1, 2))
    expected = (raw[2].astype(np.float64) - m) / s
    if layout == "NCHW":
        expected = expected.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(X_test, expected, rtol=1e-5, atol=1e-5)


def test_missing_source_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_cifar10_raw(tmp_path / "nope.zip")


def test_load_cifar10_bad_layout():
    with pytest.raises(ValueError, match="layout"):
        load_cifar10(10, 10, 10, layout="CHW", source="sample")


def test_download_cifar10_then_load(
    http_server, make_cifar_batches, file_md5, monkeypatch, tmp_path
):
    _, archive, expected, _ = make_cifar_batches()
    http_server.files["/cifar.tar.gz"] = archive.read_bytes()
    monkeypatch.setattr(cifar10_official, "ARCHIVE_URL", http_server.url("/cifar.tar.gz"))
    monkeypatch.setattr(cifar10_official, "ARCHIVE_MD5", file_md5(archive))
    dest = cifar10.download_cifar10(tmp_path / "dl", progress=False)
    assert dest == tmp_path / "dl" / "cifar-10-python.tar.gz"
    for a, b in zip(load_cifar10_raw(dest.parent), expected, strict=True):
        np.testing.assert_array_equal(a, b)


def test_compat_load_cifar10(make_cifar_batches, monkeypatch):
    folder, _, expected, md5s = make_cifar_batches()
    monkeypatch.setattr(cifar10_official, "BATCH_MD5", md5s)
    Xtr, Ytr, Xte, Yte = data_utils.load_CIFAR10(folder)
    assert Xtr.dtype == np.float64 and Xtr.shape == (15, 32, 32, 3)
    for got, exp in zip((Xtr, Ytr, Xte, Yte), expected, strict=True):
        np.testing.assert_array_equal(got, exp)
    assert data_utils.get_CIFAR10_data is get_CIFAR10_data
