"""download(): full, resumed, restarted, interrupted and refused transfers from a local server."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from cnnlab.data.download import download

PAYLOAD = np.random.default_rng(1).integers(0, 256, size=200_000, dtype=np.uint8).tobytes()
MD5 = hashlib.md5(PAYLOAD).hexdigest()
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


def test_full_download_with_both_checksums(http_server, tmp_path):
    http_server.files["/f.bin"] = PAYLOAD
    dest = tmp_path / "sub" / "f.bin"
    out = download(http_server.url("/f.bin"), dest, md5=MD5, sha256=SHA256, progress=False)
    assert out == dest
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "sub" / "f.bin.part").exists()
    assert http_server.log == [("/f.bin", None)]


def test_resume_asks_for_the_rest_only(http_server, tmp_path):
    http_server.files["/f.bin"] = PAYLOAD
    dest = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD[:12345])
    download(http_server.url("/f.bin"), dest, md5=MD5, progress=False)
    assert http_server.log == [("/f.bin", "bytes=12345-")]
    assert dest.read_bytes() == PAYLOAD


def test_server_ignoring_range_restarts_from_zero(http_server, tmp_path):
    http_server.files["/f.bin"] = PAYLOAD
    http_server.modes["/f.bin"] = "norange"
    dest = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(b"x" * 500)  # junk that must not survive
    download(http_server.url("/f.bin"), dest, sha256=SHA256, progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_interrupted_transfer_keeps_part_and_resumes(http_server, tmp_path):
    http_server.files["/f.bin"] = PAYLOAD
    http_server.modes["/f.bin"] = "truncate-once"
    dest = tmp_path / "f.bin"
    with pytest.raises(OSError, match="resume"):
        download(http_server.url("/f.bin"), dest, md5=MD5, progress=False, timeout=10)
    part = tmp_path / "f.bin.part"
    assert not dest.exists()
    assert part.read_bytes() == PAYLOAD[: len(PAYLOAD) // 2]
    download(http_server.url("/f.bin"), dest, md5=MD5, progress=False, timeout=10)
    assert http_server.log[-1] == ("/f.bin", f"bytes={len(PAYLOAD) // 2}-")
    assert dest.read_bytes() == PAYLOAD


def test_checksum_mismatch_deletes_the_download(http_server, tmp_path):
    http_server.files["/f.bin"] = PAYLOAD
    dest = tmp_path / "f.bin"
    with pytest.raises(ValueError, match="md5"):
        download(http_server.url("/f.bin"), dest, md5="0" * 32, progress=False)
    assert not dest.exists()
    assert not (tmp_path / "f.bin.part").exists()


def test_complete_part_file_is_verified_and_renamed(http_server, tmp_path):
    http_server.files["/f.bin"] = PAYLOAD
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD)  # server will answer 416
    dest = download(http_server.url("/f.bin"), tmp_path / "f.bin", md5=MD5, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert http_server.log == [("/f.bin", f"bytes={len(PAYLOAD)}-")]


def test_existing_verified_file_is_not_downloaded_again(http_server, tmp_path):
    http_server.files["/f.bin"] = PAYLOAD
    dest = tmp_path / "f.bin"
    dest.write_bytes(PAYLOAD)
    download(http_server.url("/f.bin"), dest, md5=MD5, progress=False)
    assert http_server.log == []


def test_existing_damaged_file_is_replaced(http_server, tmp_path):
    http_server.files["/f.bin"] = PAYLOAD
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"damaged")
    download(http_server.url("/f.bin"), dest, md5=MD5, progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_progress_bar_is_shown_when_asked(http_server, tmp_path, capsys):
    http_server.files["/f.bin"] = PAYLOAD
    download(http_server.url("/f.bin"), tmp_path / "f.bin", progress=True)
    err = capsys.readouterr().err
    assert "f.bin" in err and "100%" in err


def test_http_error_is_raised(http_server, tmp_path):
    with pytest.raises(OSError, match="404"):
        download(http_server.url("/missing"), tmp_path / "m.bin", progress=False)
    assert not (tmp_path / "m.bin").exists()
