"""Patch sampling, image sources and the seed's part-A preprocessing (cnnlab.data.patches)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from PIL import Image

from cnnlab.data.patches import (
    LUMA_WEIGHTS,
    cifar10_images,
    load_h5_patches,
    load_image_folder,
    preprocess_patches,
    sample_patches,
    skimage_photos,
    to_grayscale,
    whiten_images,
)


def coordinate_image(h: int, w: int, ident: int) -> np.ndarray:
    """(h, w, 3) image whose pixels spell their own position: R = row, G = col, B = image id."""
    rows, cols = np.mgrid[0:h, 0:w]
    return np.stack([rows, cols, np.full((h, w), ident)], axis=-1).astype(np.float64)


def test_sample_patches_are_windows_of_the_images():
    sizes = [(20, 31), (9, 9), (40, 12)]
    images = [coordinate_image(h, w, k) for k, (h, w) in enumerate(sizes)]
    p = 8
    patches = sample_patches(images, num_patches=3000, patch_size=p, seed=1)
    assert patches.shape == (3000, 3, p, p)
    assert patches.dtype == np.float64
    ident = patches[:, 2, 0, 0].astype(int)
    assert np.all(patches[:, 2] == ident[:, None, None])
    top, left = patches[:, 0, 0, 0], patches[:, 1, 0, 0]
    ramp = np.arange(p)
    np.testing.assert_array_equal(patches[:, 0], (top[:, None] + ramp)[:, :, None] + np.zeros(p))
    np.testing.assert_array_equal(
        patches[:, 1], (left[:, None] + ramp)[:, None, :] + np.zeros((p, 1))
    )
    for k, (h, w) in enumerate(sizes):
        mine = ident == k
        # every image is used, each valid offset is reachable and none goes out of bounds
        assert 800 < mine.sum() < 1200
        assert top[mine].min() == 0 and top[mine].max() == h - p
        assert left[mine].min() == 0 and left[mine].max() == w - p


def test_sample_patches_seeding_and_formats():
    rng = np.random.default_rng(0)
    images = [
        rng.integers(0, 256, (30, 40, 3), dtype=np.uint8),
        rng.integers(0, 256, (25, 25), dtype=np.uint8),
    ]
    a = sample_patches(images, 50, 5, seed=3)
    np.testing.assert_array_equal(a, sample_patches(images, 50, 5, seed=3))
    assert not np.array_equal(a, sample_patches(images, 50, 5, seed=4))
    assert a.min() >= 0.0 and a.max() <= 1.0
    np.testing.assert_array_equal(a * 255, np.round(a * 255))  # uint8 scaled by 1/255
    grey = a[np.all(a[:, 0] == a[:, 1], axis=(1, 2)) & np.all(a[:, 1] == a[:, 2], axis=(1, 2))]
    assert len(grey) > 10  # the grey image was copied into the three channels


def test_sample_patches_rejects_bad_input():
    with pytest.raises(ValueError, match=r"sample_patches: images\[1\] of shape \(7, 30, 3\)"):
        sample_patches([np.zeros((10, 10, 3)), np.zeros((7, 30, 3))], 4, 8)
    with pytest.raises(ValueError, match="sample_patches: no images"):
        sample_patches([], 4, 8)
    with pytest.raises(ValueError, match=r"as_rgb_float: images\[0\] must be"):
        sample_patches([np.zeros((10, 10, 2))], 4, 8)


def test_grayscale_uses_luminosity_weights():
    patch = np.empty((4, 3, 2, 2))
    patch[:] = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.2, 0.4, 0.6]])[:, :, None, None]
    grey = to_grayscale(patch)
    np.testing.assert_allclose(grey[:, 0, 0], [0.2126, 0.7152, 0.0722, 0.37192], rtol=0, atol=1e-15)


def heavy_tailed_patches(rng, n=300, p=6):
    """RGB patches with per-patch brightness offsets and outliers beyond 3 sigma."""
    x = rng.laplace(0.5, 0.1, (n, 3, p, p)) + rng.uniform(-0.3, 0.3, (n, 1, 1, 1))
    return x


def test_preprocess_range_and_seed_equivalence(rng):
    rgb = heavy_tailed_patches(rng)
    out = preprocess_patches(rgb)
    assert out.shape == (300, 36)
    assert out.min() == 0.1 and out.max() == 0.9  # clipping reached on both sides
    # the seed's own recipe, written from its formulas: luminosity, per-patch mean, clip at
    # 3 std of everything, then x * 0.8 / (2 max) shifted so that the minimum is 0.1
    g = 0.2126 * rgb[:, 0] + 0.7152 * rgb[:, 1] + 0.0722 * rgb[:, 2]
    g = g - g.mean(axis=(1, 2))[:, None, None]
    s = np.std(g)
    g = np.maximum(np.minimum(g, 3 * s), -3 * s)
    g = g * 0.8 / (2 * g.max())
    g = g + (0.1 - g.min())
    np.testing.assert_allclose(out, g.reshape(300, 36), rtol=0, atol=1e-15)
    assert preprocess_patches(rgb, flatten=False).shape == (300, 6, 6)


def test_preprocess_removes_each_patch_mean_before_scaling(rng):
    rgb = heavy_tailed_patches(rng)
    shifted = rgb + rng.uniform(-0.2, 0.2, (300, 1, 1, 1))  # per-patch brightness change
    np.testing.assert_allclose(preprocess_patches(shifted), preprocess_patches(rgb), atol=1e-13)
    # without clipping the map is linear, so a zero-mean patch has mean exactly 0.5
    mild = 0.5 + 0.01 * np.sign(rng.standard_normal((50, 3, 4, 4)))
    mild = mild.mean(axis=1, keepdims=True).repeat(3, axis=1)
    out = preprocess_patches(mild)
    np.testing.assert_allclose(out.mean(axis=1), 0.5, atol=1e-15)
    assert 0.1 <= out.min() and out.max() <= 0.9
    np.testing.assert_array_equal(preprocess_patches(np.full((3, 3, 4, 4), 0.7)), 0.5)


def test_load_h5_patches_channel_first_and_last(tmp_path, rng):
    data = rng.random((12, 3, 5, 5))
    path = tmp_path / "assign3_data1.h5"
    with h5py.File(path, "w") as f:  # the seed's file: data, invXForm, xForm
        f["data"] = data
        f["invXForm"] = rng.random((25, 25))
        f["xForm"] = rng.random((25, 25))
    np.testing.assert_array_equal(load_h5_patches(path), data)
    last = tmp_path / "last.h5"
    with h5py.File(last, "w") as f:
        f["patches"] = (data.transpose(0, 2, 3, 1) * 255).round().astype(np.uint8)
    np.testing.assert_allclose(load_h5_patches(last), np.round(data * 255) / 255, atol=1e-15)
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f["x"] = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"load_h5_patches: .* no 4-d dataset"):
        load_h5_patches(tmp_path / "bad.h5")
    with pytest.raises(FileNotFoundError):
        load_h5_patches(tmp_path / "missing.h5")


def test_load_image_folder(tmp_path, rng):
    a = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (12, 17), dtype=np.uint8)
    Image.fromarray(a).save(tmp_path / "a.png")
    Image.fromarray(b, mode="L").save(tmp_path / "b.PNG")
    (tmp_path / "notes.txt").write_text("not an image")
    images = load_image_folder(tmp_path)
    assert [im.shape for im in images] == [(20, 30, 3), (12, 17, 3)]
    np.testing.assert_array_equal(images[0], a / 255.0)
    np.testing.assert_array_equal(images[1], np.repeat(b[:, :, None], 3, axis=2) / 255.0)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="load_image_folder: no image files"):
        load_image_folder(empty)


def test_skimage_photos_are_rgb_natural_images():
    photos = skimage_photos()
    assert len(photos) == 5
    for im in photos:
        assert im.ndim == 3 and im.shape[2] == 3 and min(im.shape[:2]) >= 256
        assert im.dtype == np.float64 and 0.0 <= im.min() and im.max() <= 1.0
        assert im.std() > 0.1  # real photographs, not blank images


def radial_power(image: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mean |FFT|^2 of a square grey image in rings edges[k] <= |f| < edges[k+1] (cycles/px)."""
    f = np.hypot(
        *np.meshgrid(np.fft.fftfreq(image.shape[0]), np.fft.fftfreq(image.shape[1]), indexing="ij")
    )
    power = np.abs(np.fft.fft2(image)) ** 2
    ring = np.digitize(f, edges)
    return np.array([power[ring == k].mean() for k in range(1, len(edges))])


def pink_noise(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(n, n) image with amplitude spectrum |W(f)| / |f| (W: the white noise also returned)."""
    white = rng.standard_normal((n, n))
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n), indexing="ij"))
    f[0, 0] = np.inf  # no DC
    return np.fft.ifft2(np.fft.fft2(white) / f).real, white


def test_whiten_images_undoes_a_one_over_f_spectrum(rng):
    # A 1/f image times the filter |f| exp(-(|f|/f0)^4) is the white noise it was made from,
    # low-passed by exp(-(|f|/f0)^4), up to the global scale: exactly, coefficient by
    # coefficient, and so its ring powers are flat where the low-pass is ~1.
    n = 256
    image, white = pink_noise(n, rng)
    (out,) = whiten_images([np.repeat(image[:, :, None], 3, axis=2)])  # f0 = 0.4
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n), indexing="ij"))
    lowpassed = np.fft.fft2(white) * np.exp(-((f / 0.4) ** 4))
    lowpassed[0, 0] = 0.0
    got = np.fft.fft2(out)
    scale = np.vdot(lowpassed, got).real / np.vdot(lowpassed, lowpassed).real
    np.testing.assert_allclose(got, scale * lowpassed, rtol=0, atol=1e-10 * np.abs(got).max())

    # Rings between 0.02 and 0.2 cycles/pixel hold >= 200 coefficients each (relative error of
    # their mean power ~7 %, exp(-2 (f/f0)^4) >= 0.88 there): 25 % is a 3.5-sigma bound.
    edges = np.linspace(0.02, 0.2, 7)
    before, after = radial_power(image, edges), radial_power(out, edges)
    assert before[0] / before[-1] > 15  # steep 1/f^2 going in (ring centres: f^2 ratio 28)
    np.testing.assert_allclose(after / after.mean(), 1.0, rtol=0.25)


def test_whiten_images_flattens_a_natural_photo():
    # A natural photo's ring powers fall as ~1/f^2 or steeper (log-log slope <= -2 between
    # 0.02 and 0.2 cycles/pixel); the filter's ramp |f| multiplies power by f^2 (slope +2, less
    # 0.03 for the roll-off exp(-2 (f/0.4)^4) there), so whitening leaves it nearly flat.
    import skimage.data

    camera = skimage.data.camera()  # 512x512 grey photograph
    (out,) = whiten_images([camera])
    edges = np.geomspace(0.02, 0.2, 9)
    centres = np.log(np.sqrt(edges[:-1] * edges[1:]))
    slope_before = np.polyfit(centres, np.log(radial_power(camera / 255.0, edges)), 1)[0]
    slope_after = np.polyfit(centres, np.log(radial_power(out, edges)), 1)[0]
    assert slope_before < -1.8
    assert slope_after - slope_before == pytest.approx(2 - 0.03, abs=0.1)
    assert abs(slope_after) < abs(slope_before) / 4


def test_whiten_images_shapes_grey_and_normalisation(rng):
    images = [rng.random((20, 30, 3)), (rng.random((16, 16)) * 255).astype(np.uint8)]
    out = whiten_images(images)
    assert [w.shape for w in out] == [(20, 30), (16, 16)]
    assert all(w.dtype == np.float64 for w in out)
    for w in out:
        assert abs(w.mean()) < 1e-12  # no DC survives the filter
    np.testing.assert_allclose(np.mean(np.concatenate([w.ravel() for w in out]) ** 2), 1.0)
    # colour images are whitened through their luminosity, linearly
    rgb = rng.random((1, 12, 12, 3))
    (a,) = whiten_images(rgb)
    (b,) = whiten_images([rgb[0] @ LUMA_WEIGHTS])
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # usable as a patch source
    patches = sample_patches(out, num_patches=5, patch_size=8, seed=0)
    assert patches.shape == (5, 3, 8, 8)


def test_whiten_images_rejects_bad_input(rng):
    with pytest.raises(ValueError, match="whiten_images: cutoff"):
        whiten_images([rng.random((8, 8))], cutoff=0.0)
    with pytest.raises(ValueError, match="whiten_images: no images"):
        whiten_images([])
    with pytest.raises(ValueError, match=r"images\[0\] must be"):
        whiten_images([rng.random((8, 8, 5))])


@pytest.mark.realdata
def test_cifar10_images_are_the_training_photos(data_root):
    images = cifar10_images(7)
    assert images.shape == (7, 32, 32, 3) and images.dtype == np.uint8
    assert images.std() > 10  # real photos, not blank
