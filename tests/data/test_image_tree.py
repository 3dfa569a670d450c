"""Image folders and zips: layout, class order, interleaving, errors, cache."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from PIL import Image

from cnnlab.data import cifar10
from cnnlab.data.images import list_image_tree, load_image_tree


def _expected(images, split, classes):
    """Images interleaved by class: first of each class, then second of each class, ..."""
    per_class = [images[split][c] for c in classes]
    X = [per_class[k][i] for i in range(len(per_class[0])) for k in range(len(classes))]
    y = [k for _ in range(len(per_class[0])) for k in range(len(classes))]
    return np.stack(X), np.array(y)


@pytest.mark.parametrize("as_zip", [False, True])
def test_png_tree_loads_exactly_in_official_class_order(make_image_tree, as_zip):
    path, images = make_image_tree(classes=("truck", "cat", "airplane"), as_zip=as_zip)
    data = load_image_tree(path)
    assert data.classes == ("airplane", "cat", "truck")
    for split, X, y in (("train", data.X_train, data.y_train), ("test", data.X_test, data.y_test)):
        X_exp, y_exp = _expected(images, split, data.classes)
        np.testing.assert_array_equal(X, X_exp)
        np.testing.assert_array_equal(y, y_exp)
        assert X.dtype == np.uint8 and y.dtype == np.int64


def test_non_cifar_classes_are_sorted(make_image_tree):
    path, _ = make_image_tree(classes=("zebra", "apple", "mango"))
    assert load_image_tree(path).classes == ("apple", "mango", "zebra")


def test_jpeg_tree_decodes_close_to_original(make_image_tree):
    path, images = make_image_tree(fmt="JPEG", as_zip=True)
    data = load_image_tree(path)
    X_exp, _ = _expected(images, "train", data.classes)
    assert data.X_train.shape == (9, 32, 32, 3)
    assert np.abs(data.X_train.astype(int) - X_exp).mean() < 3


def test_list_matches_load_order(make_image_tree):
    path, _ = make_image_tree(classes=("cat", "dog"), n_train=2, n_test=1, as_zip=True)
    classes, names = list_image_tree(path)
    assert classes == ("cat", "dog")
    assert names["train"] == [
        "train/cat/0000.png", "train/dog/0000.png", "train/cat/0001.png", "train/dog/0001.png"
    ]  # fmt: skip
    assert names["test"] == ["test/cat/0000.png", "test/dog/0000.png"]


def test_tree_under_one_top_folder_and_extra_files(make_image_tree):
    path, images = make_image_tree(name="outer/cifar")
    (path / "README.txt").write_text("not an image")
    data = load_image_tree(path.parent)
    np.testing.assert_array_equal(data.X_test, _expected(images, "test", data.classes)[0])


def test_corrupt_images_are_all_named(make_image_tree):
    path, _ = make_image_tree()
    (path / "train" / "cat" / "0001.png").write_bytes(b"this is not a png")
    png = (path / "test" / "truck" / "0000.png").read_bytes()
    (path / "test" / "truck" / "0000.png").write_bytes(png[: len(png) // 2])  # truncated
    with pytest.raises(ValueError, match="2 unreadable") as err:
        load_image_tree(path)
    assert "train/cat/0001.png" in str(err.value)
    assert "test/truck/0000.png" in str(err.value)


def test_wrong_size_image_is_named(make_image_tree):
    path, _ = make_image_tree()
    Image.new("RGB", (31, 32)).save(path / "train" / "airplane" / "0002.png")
    with pytest.raises(ValueError, match=r"train/airplane/0002\.png \(size 31x32, expected 32x32"):
        load_image_tree(path)


def test_grayscale_image_is_converted_to_rgb(make_image_tree):
    path, _ = make_image_tree(classes=("cat",), n_train=1, n_test=1)
    Image.fromarray(np.full((32, 32), 77, np.uint8), mode="L").save(path / "test/cat/0000.png")
    data = load_image_tree(path)
    assert data.X_test.shape == (1, 32, 32, 3) and (data.X_test == 77).all()


@pytest.mark.parametrize("evil", ["../evil.png", "/abs/evil.png", "train/cat/../../evil.png"])
def test_zip_with_unsafe_member_is_refused(tmp_path, evil):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("train/cat/0000.png", b"x")
        z.writestr(zipfile.ZipInfo(evil), b"x")
    assert evil in zipfile.ZipFile(path).namelist()
    with pytest.raises(ValueError, match="unsafe member"):
        load_image_tree(path)


def test_empty_tree_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="train/<class>"):
        load_image_tree(tmp_path / "empty")


def _count_opens(monkeypatch):
    calls = []
    real_open = Image.open

    def counting_open(*args, **kwargs):
        calls.append(1)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    return calls


@pytest.mark.parametrize("as_zip", [False, True])
def test_second_load_comes_from_the_cache(make_image_tree, monkeypatch, isolated_cache, as_zip):
    path, _ = make_image_tree(as_zip=as_zip)
    opens = _count_opens(monkeypatch)
    first = load_image_tree(path)
    assert len(opens) == 15
    assert len(list(isolated_cache.glob("*.npz"))) == 1
    assert not [p for p in isolated_cache.iterdir() if p.suffix == ".tmp"]
    second = load_image_tree(path)
    assert len(opens) == 15
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_changed_source_is_decoded_again(make_image_tree, monkeypatch):
    path, _ = make_image_tree()
    load_image_tree(path)
    img = np.zeros((32, 32, 3), np.uint8)
    Image.fromarray(img).save(path / "train" / "cat" / "0000.png")
    opens = _count_opens(monkeypatch)
    data = load_image_tree(path)
    assert len(opens) == 15
    assert (data.X_train[data.y_train == 1][0] == 0).all()  # cat is class 1 of airplane/cat/truck


def test_subset_is_not_cached_and_seeded(make_image_tree, isolated_cache):
    path, _ = make_image_tree(n_train=6, n_test=4, as_zip=True)
    a = load_image_tree(path, train_per_class=2, test_per_class=1, seed=5)
    b = load_image_tree(path, train_per_class=2, test_per_class=1, seed=5)
    assert a.X_train.shape == (6, 32, 32, 3) and a.X_test.shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert list(isolated_cache.iterdir()) == []
    with pytest.raises(ValueError, match="asked for 7 images of class"):
        load_image_tree(path, train_per_class=7)


def test_load_cifar10_raw_maps_tree_labels_to_official_indices(make_image_tree):
    path, _ = make_image_tree(classes=("dog", "cat"), as_zip=True)
    _, y_train, _, y_test = cifar10.load_cifar10_raw(path)
    np.testing.assert_array_equal(y_train, [3, 5, 3, 5, 3, 5])  # cat = 3, dog = 5
    np.testing.assert_array_equal(y_test, [3, 5, 3, 5])


def test_load_cifar10_raw_refuses_other_classes(make_image_tree):
    path, _ = make_image_tree(classes=("cat", "unicorn"))
    with pytest.raises(ValueError, match="unicorn"):
        cifar10.load_cifar10_raw(path)
