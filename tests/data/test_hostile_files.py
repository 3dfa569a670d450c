"""Hostile and damaged data files: 16-bit images, decompression bombs, oversized archive
members, truncated caches and truncated gzip files."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile

import numpy as np
import pytest
from PIL import Image

from cnnlab.data import images
from cnnlab.data.image_file import read_image
from cnnlab.data.images import load_image_tree
from cnnlab.data.mnist import read_idx
from cnnlab.data.pixels import ImageDecodeError, open_image, to_uint8


def png_bytes(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def test_a_16_bit_png_is_scaled_by_its_bit_depth(tmp_path, rng):
    wide = rng.integers(0, 65536, size=(8, 8), dtype=np.uint16)
    path = tmp_path / "wide.png"
    path.write_bytes(png_bytes(wide))
    with Image.open(path) as im:
        assert im.mode.startswith("I")  # Pillow keeps the 16 bits
    expected = np.rint(wide * (255 / 65535)).astype(np.uint8)
    got = read_image(path, (8, 8), channels=1)[0]
    assert np.abs(got.astype(int) - expected).max() <= 1  # the bilinear resize to the same size
    with open_image(path.read_bytes(), "wide.png") as im:
        assert np.array_equal(to_uint8(im, "L", "wide.png"), expected)
        assert np.array_equal(to_uint8(im, "RGB", "wide.png"), np.repeat(expected[..., None], 3, 2))


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bytes(np.zeros((100, 100, 3), np.uint8)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40 * 40)  # warning zone above, error 2x
    with pytest.raises(ValueError, match=r"read_image: .*bomb.png is too large to decode"):
        read_image(path, (32, 32))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 90 * 90)  # 10000 px: only the warning zone
    with pytest.raises(ValueError, match="too large to decode"):
        read_image(path, (32, 32))


def test_a_truncated_image_names_the_file(tmp_path):
    path = tmp_path / "cut.png"
    path.write_bytes(png_bytes(np.full((64, 64, 3), 7, np.uint8))[:80])
    with pytest.raises(ValueError, match=r"cut\.png"):
        read_image(path, (32, 32))
    with pytest.raises(ImageDecodeError):
        with open_image(b"not an image", "x"):
            pass


def tree_zip(tmp_path, entries):
    path = tmp_path / "tree.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


def test_archive_members_over_the_size_limit_are_refused(tmp_path, monkeypatch):
    image = png_bytes(np.zeros((32, 32, 3), np.uint8))
    big = image + bytes(5000)  # still an image to Pillow, but larger than the limit below
    path = tree_zip(tmp_path, {"train/cat/0.png": big, "test/cat/0.png": image})
    monkeypatch.setattr(images, "MAX_MEMBER_BYTES", len(image) + 100)
    with pytest.raises(ValueError, match=r"train/cat/0.png .*declares \d+ bytes, more than"):
        load_image_tree(path, cache=False)


def test_an_archive_member_larger_than_declared_is_not_read_past_its_size(tmp_path):
    image = png_bytes(np.zeros((32, 32, 3), np.uint8))
    path = tree_zip(tmp_path, {"train/cat/0.png": image, "test/cat/0.png": image})
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02")  # central directory entry of the first member
    struct.pack_into("<I", raw, at + 24, 10)  # claims 10 bytes
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"train/cat/0\.png"):
        load_image_tree(path, cache=False)


def test_a_truncated_cache_is_decoded_again_and_rewritten(make_image_tree, isolated_cache):
    path, _ = make_image_tree(as_zip=True)
    first = load_image_tree(path)
    (cache,) = isolated_cache.glob("*.npz")
    cache.write_bytes(cache.read_bytes()[:100])
    again = load_image_tree(path)
    assert np.array_equal(again.X_train, first.X_train)
    with np.load(cache) as z:  # rebuilt whole
        assert np.array_equal(z["X_train"], first.X_train)


def test_a_truncated_gzip_idx_file_is_a_value_error(tmp_path):
    header = struct.pack(">IIII", 0x803, 2, 28, 28)
    packed = gzip.compress(header + bytes(2 * 28 * 28))
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt gzip"):
        read_idx(path)
    path.write_bytes(packed)
    assert read_idx(path).shape == (2, 28, 28)
