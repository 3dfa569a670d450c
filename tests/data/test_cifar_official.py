"""The official CIFAR-10 python format on small archives written by the tests."""

from __future__ import annotations

import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from cnnlab.data import cifar10, cifar10_official
from cnnlab.data.cifar10_official import read_archive, read_folder


def _assert_same(got, expected):
    assert len(got) == 4
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)
    assert got[0].dtype == np.uint8 and got[0].shape[1:] == (32, 32, 3)
    assert got[1].dtype == np.int64


def test_archive_with_matching_md5_gives_nhwc_images(make_cifar_batches, file_md5):
    _, archive, expected, _ = make_cifar_batches(per_batch=3)
    got = read_archive(archive, md5=file_md5(archive))
    _assert_same(got, expected)
    assert got[0].shape == (15, 32, 32, 3) and got[2].shape == (3, 32, 32, 3)


def test_official_md5_is_the_default(make_cifar_batches):
    _, archive, _, _ = make_cifar_batches()
    with pytest.raises(ValueError, match=cifar10_official.ARCHIVE_MD5):
        read_archive(archive)


def test_load_cifar10_raw_reads_archive_when_md5_patched(
    make_cifar_batches, file_md5, monkeypatch, tmp_path
):
    _, archive, expected, _ = make_cifar_batches(seed=3)
    monkeypatch.setattr(cifar10_official, "ARCHIVE_MD5", file_md5(archive))
    _assert_same(cifar10.load_cifar10_raw(archive), expected)
    holder = tmp_path / "holder"  # a folder holding the archive is accepted too
    holder.mkdir()
    archive.rename(holder / archive.name)
    _assert_same(cifar10.load_cifar10_raw(holder), expected)


def _evil_pickle(marker) -> bytes:
    class Evil:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    return pickle.dumps({"data": Evil(), "labels": []}, protocol=2)


def _tar_with(path, members: dict[str, bytes]):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_tampered_archive_is_refused_before_unpickling(make_cifar_batches, file_md5, tmp_path):
    _, archive, _, _ = make_cifar_batches()
    good_md5 = file_md5(archive)
    flipped = bytearray(archive.read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF
    archive.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=f"refusing.*expected {good_md5}"):
        read_archive(archive, md5=good_md5)
    marker = tmp_path / "pwned"
    tampered = tmp_path / "tampered.tar.gz"
    _tar_with(tampered, {"cifar-10-batches-py/batches.meta": _evil_pickle(marker)})
    with pytest.raises(ValueError, match="refusing"):
        read_archive(tampered, md5=good_md5)
    assert not marker.exists()
    # even with a matching checksum, the unpickler only resolves NumPy's array names
    with pytest.raises(pickle.UnpicklingError, match="mkdir"):
        read_archive(tampered, md5=file_md5(tampered))
    assert not marker.exists()


@pytest.mark.parametrize("bad_name", ["../evil", "/tmp/evil", "cifar-10-batches-py/../../evil"])
def test_path_escape_members_are_refused(make_cifar_batches, file_md5, bad_name):
    info = tarfile.TarInfo(bad_name)
    info.size = 4
    _, archive, _, _ = make_cifar_batches(extra_members=[(info, b"evil")])
    with pytest.raises(ValueError, match="unsafe path"):
        read_archive(archive, md5=file_md5(archive))


def test_link_members_are_refused(make_cifar_batches, file_md5):
    info = tarfile.TarInfo("cifar-10-batches-py/link")
    info.type = tarfile.SYMTYPE
    info.linkname = "/etc/passwd"
    _, archive, _, _ = make_cifar_batches(extra_members=[(info, None)])
    with pytest.raises(ValueError, match="link"):
        read_archive(archive, md5=file_md5(archive))


def test_missing_member_is_named(tmp_path, file_md5):
    archive = tmp_path / "partial.tar.gz"
    _tar_with(archive, {"cifar-10-batches-py/readme.html": b"hi"})
    with pytest.raises(ValueError, match=r"batches\.meta"):
        read_archive(archive, md5=file_md5(archive))


def test_folder_with_matching_md5s(make_cifar_batches):
    folder, _, expected, md5s = make_cifar_batches(per_batch=2)
    _assert_same(read_folder(folder, md5s=md5s), expected)


def test_folder_file_with_wrong_md5_is_refused(make_cifar_batches):
    folder, _, _, md5s = make_cifar_batches()
    data = bytearray((folder / "data_batch_3").read_bytes())
    data[-5] ^= 1
    (folder / "data_batch_3").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="data_batch_3"):
        read_folder(folder, md5s=md5s)


def test_folder_defaults_to_official_md5s(make_cifar_batches, monkeypatch):
    folder, _, expected, md5s = make_cifar_batches()
    with pytest.raises(ValueError, match="refusing to unpickle"):
        cifar10.load_cifar10_raw(folder)
    monkeypatch.setattr(cifar10_official, "BATCH_MD5", md5s)
    _assert_same(cifar10.load_cifar10_raw(folder), expected)
    _assert_same(cifar10.load_cifar10_raw(folder.parent), expected)


def test_batch_with_wrong_shape_is_reported(tmp_path, file_md5):
    bad = pickle.dumps({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}, protocol=2)
    meta = pickle.dumps({"label_names": list(cifar10_official.CLASSES)}, protocol=2)
    members = {f"d/{n}": bad for n in (*cifar10_official.TRAIN_FILES, "test_batch")}
    members["d/batches.meta"] = meta
    archive = tmp_path / "bad.tar.gz"
    _tar_with(archive, members)
    with pytest.raises(ValueError, match=r"data_batch_1.*\(n, 3072\)"):
        read_archive(archive, md5=file_md5(archive))
