"""Natural-image patches for the sparse autoencoder (seed 002, question 1, part A).

Images are handled as a list of ``(H, W, 3)`` RGB arrays of any sizes (what Pillow and
scikit-image return); patches come out channel-first, ``(N, 3, p, p)`` float64 in ``[0, 1]``,
the layout of the seed's ``assign3_data1.h5``. :func:`preprocess_patches` then turns them into
the autoencoder's input, ``(N, p*p)`` grey values in ``[0.1, 0.9]``.

:func:`whiten_images` optionally flattens the images' power spectrum first (Olshausen & Field's
filter, how UFLDL's ``IMAGES.mat`` was made). Whitening is what makes a sparse autoencoder's
filters local: on raw photos its oriented filters span the whole patch, on whitened ones they
shrink to short edge segments (with enough sparsity: see ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np
from PIL import Image

#: ITU-R BT.709 luminosity weights of R, G, B (the seed's Y = 0.2126 R + 0.7152 G + 0.0722 B).
LUMA_WEIGHTS = np.array([0.2126, 0.7152, 0.0722])

#: The RGB photographs of natural scenes bundled with scikit-image (no download needed).
SKIMAGE_PHOTO_NAMES = ("astronaut", "chelsea", "coffee", "rocket", "stereo_motorcycle")

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def as_rgb_float(image: np.ndarray, name: str = "image") -> np.ndarray:
    """One image as float64 RGB in ``[0, 1]``.

    Inputs:
    - image: (H, W, 3) RGB, (H, W, 4) RGBA (alpha dropped), or (H, W) / (H, W, 1) grey (copied
      into the three channels); uint8 (divided by 255), bool, or float already in [0, 1].

    Returns: (H, W, 3) float64.
    """
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(
            f"as_rgb_float: {name} must be (H, W), (H, W, 3) or (H, W, 4), got shape {a.shape}"
        )
    a = a[:, :, :3]
    if a.dtype == np.uint8:
        return a / 255.0
    if a.dtype.kind not in "biuf":
        raise ValueError(f"as_rgb_float: {name} has unsupported dtype {a.dtype}")
    return a.astype(np.float64)


def skimage_photos() -> list[np.ndarray]:
    """scikit-image's bundled RGB photographs of natural scenes (offline).

    Astronaut (512x512), Chelsea the cat (300x451), coffee (400x600), rocket (427x640) and the
    left view of the stereo motorcycle (500x741).

    Returns: list of (H, W, 3) float64 arrays in [0, 1].
    """
    import skimage.data

    photos = []
    for name in SKIMAGE_PHOTO_NAMES:
        image = getattr(skimage.data, name)()
        if isinstance(image, tuple):  # stereo_motorcycle -> (left, right, disparity)
            image = image[0]
        photos.append(as_rgb_float(image, name))
    return photos


def load_image_folder(directory: str | os.PathLike) -> list[np.ndarray]:
    """Every image file directly inside ``directory``, in name order, as RGB.

    Files are recognised by extension (:data:`IMAGE_EXTENSIONS`) and decoded with Pillow.

    Returns: list of (H, W, 3) float64 arrays in [0, 1].
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise FileNotFoundError(f"load_image_folder: no such directory: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise ValueError(
            f"load_image_folder: no image files ({', '.join(IMAGE_EXTENSIONS)}) in {folder}"
        )
    images = []
    for path in files:
        with Image.open(path) as im:
            images.append(as_rgb_float(np.asarray(im.convert("RGB")), path.name))
    return images


def cifar10_images(num_images: int | None = None) -> np.ndarray:
    """CIFAR-10 training photos (32x32 RGB), via :func:`cnnlab.data.cifar10.load_cifar10_raw`.

    Natural photos of many different scenes: 8x8 patches cut from thousands of them cover far
    more variety than the five scikit-image photos. The full data set must be available (the
    small bundled sample is refused).

    Inputs: num_images: keep the first ``num_images`` (default all 50,000).
    Returns: (num_images, 32, 32, 3) uint8.
    """
    from cnnlab.data.cifar10 import load_cifar10_raw

    images = load_cifar10_raw(allow_sample=False)[0]
    return images if num_images is None else images[:num_images]


def whiten_images(images: Sequence[np.ndarray], cutoff: float = 0.4) -> list[np.ndarray]:
    """Grey images with a flattened power spectrum (Olshausen & Field 1997, UFLDL IMAGES.mat).

    Each image is turned grey (luminosity, :data:`LUMA_WEIGHTS`), its mean removed, and
    filtered in the frequency domain by the zero-phase filter

        R(f) = |f| exp(-(|f| / f0)^4),   f in cycles/pixel, f0 = ``cutoff``,

    whose ramp |f| undoes the 1/f amplitude spectrum of natural images and whose quartic
    exponential rolls off the noisy corner frequencies. The default f0 = 0.4 cycles/pixel is
    Olshausen's 0.4 N cycles/picture for N x N images (sparsenet's ``f_0 = 0.4*N``). The FFT
    treats each image as periodic. Finally all images are divided by one common standard
    deviation (global variance normalisation), so relative contrasts between images survive.

    Inputs:
    - images: sequence of images of any sizes, each accepted by :func:`as_rgb_float`
      ((H, W, 3) uint8 or float, (H, W) grey, ...), or an (n, H, W, 3) array.
    - cutoff: f0 in cycles/pixel, in (0, 0.5 * sqrt(2)].

    Returns: list of (H, W) float64 arrays, zero mean, unit variance over all pixels together.
    They can be passed straight to :func:`sample_patches`.
    """
    if not 0 < cutoff <= 0.5 * np.sqrt(2):
        raise ValueError(f"whiten_images: cutoff must be in (0, 0.707] cycles/pixel, got {cutoff}")
    if len(images) == 0:
        raise ValueError("whiten_images: no images given")
    filters: dict[tuple[int, int], np.ndarray] = {}  # one per image size
    out = []
    for i, image in enumerate(images):
        grey = as_rgb_float(image, f"images[{i}]") @ LUMA_WEIGHTS
        if grey.shape not in filters:
            f = np.hypot(
                np.fft.fftfreq(grey.shape[0])[:, None], np.fft.fftfreq(grey.shape[1])[None, :]
            )
            filters[grey.shape] = f * np.exp(-((f / cutoff) ** 4))
        spectrum = np.fft.fft2(grey - grey.mean()) * filters[grey.shape]
        out.append(np.fft.ifft2(spectrum).real)
    scale = np.sqrt(sum(float(np.sum(w * w)) for w in out) / sum(w.size for w in out))
    return [w / scale for w in out] if scale > 0 else out


def load_h5_patches(path: str | os.PathLike, dataset: str | None = None) -> np.ndarray:
    """Patches stored in an HDF5 file laid out like the seed's ``assign3_data1.h5``.

    The seed reads the first dataset of the file (``data``, beside ``invXForm`` and ``xForm``)
    and indexes it as ``data[:, channel, :, :]``, i.e. channel-first ``(N, 3, p, p)``.
    Channel-last ``(N, p, p, 3)`` files are accepted too and transposed. Without ``dataset``,
    the first 4-d dataset in the file's key order is used.

    Returns: (N, 3, p, p) float64; uint8 data is divided by 255, float data is kept as stored.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_h5_patches: no such file: {path}")
    with h5py.File(path, "r") as f:
        if dataset is None:
            names = [k for k in f if isinstance(f[k], h5py.Dataset) and f[k].ndim == 4]
            if not names:
                raise ValueError(
                    f"load_h5_patches: {path} holds no 4-d dataset; keys are {list(f.keys())}"
                )
            dataset = names[0]
        elif dataset not in f:
            raise ValueError(
                f"load_h5_patches: {path} has no dataset {dataset!r}; keys are {list(f.keys())}"
            )
        data = np.asarray(f[dataset][()])
    if data.ndim == 4 and data.shape[1] == 3:
        pass
    elif data.ndim == 4 and data.shape[3] == 3:
        data = data.transpose(0, 3, 1, 2)
    else:
        raise ValueError(
            f"load_h5_patches: dataset {dataset!r} in {path} has shape {data.shape}; "
            "expected (N, 3, p, p) or (N, p, p, 3)"
        )
    if data.shape[2] != data.shape[3]:
        raise ValueError(f"load_h5_patches: patches must be square, got shape {data.shape}")
    if data.dtype == np.uint8:
        return data / 255.0
    return data.astype(np.float64)


def sample_patches(
    images: Sequence[np.ndarray],
    num_patches: int = 10240,
    patch_size: int = 16,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Square patches cut at random places from random images.

    Each patch picks an image uniformly (so a large photo does not drown the small ones), then a
    top-left corner uniformly among that image's valid positions. Offsets are drawn for all
    patches at once and each image's patches are gathered with one fancy-indexing operation.

    Inputs:
    - images: sequence of images of any sizes, each accepted by :func:`as_rgb_float`; every
      image must be at least ``patch_size`` pixels high and wide.
    - num_patches: N, number of patches.
    - patch_size: p, side of the square patches.
    - seed: int, numpy Generator or None.

    Returns: (N, 3, p, p) float64 in [0, 1].
    """
    if num_patches < 1 or patch_size < 1:
        raise ValueError(
            f"sample_patches: num_patches ({num_patches}) and patch_size "
            f"({patch_size}) must be positive"
        )
    if len(images) == 0:
        raise ValueError("sample_patches: no images given")
    rgb = [as_rgb_float(im, f"images[{i}]") for i, im in enumerate(images)]
    sizes = np.array([im.shape[:2] for im in rgb])
    too_small = np.flatnonzero((sizes < patch_size).any(axis=1))
    if too_small.size:
        i = too_small[0]
        raise ValueError(
            f"sample_patches: images[{i}] of shape {rgb[i].shape} is smaller than "
            f"the patch size {patch_size}"
        )
    rng = np.random.default_rng(seed)
    which = rng.integers(0, len(rgb), size=num_patches)
    rows = rng.integers(0, sizes[which, 0] - patch_size + 1)
    cols = rng.integers(0, sizes[which, 1] - patch_size + 1)
    ramp = np.arange(patch_size)
    out = np.empty((num_patches, patch_size, patch_size, 3))
    for k, image in enumerate(rgb):
        sel = np.flatnonzero(which == k)
        r = rows[sel, None, None] + ramp[None, :, None]
        c = cols[sel, None, None] + ramp[None, None, :]
        out[sel] = image[r, c]
    return out.transpose(0, 3, 1, 2).copy()


def to_grayscale(patches: np.ndarray) -> np.ndarray:
    """Luminosity grey level Y = 0.2126 R + 0.7152 G + 0.0722 B.

    Inputs: patches (N, 3, H, W). Returns: (N, H, W) float64.
    """
    x = np.asarray(patches, dtype=np.float64)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"to_grayscale: expected RGB patches (N, 3, H, W), got shape {x.shape}")
    return np.einsum("c,nchw->nhw", LUMA_WEIGHTS, x)


def preprocess_patches(patches: np.ndarray, flatten: bool = True) -> np.ndarray:
    """The seed's part-A normalisation of RGB patches into autoencoder inputs.

    1. grey level by luminosity (:func:`to_grayscale`);
    2. subtract each patch's own mean;
    3. clip to +-3 sigma, sigma the standard deviation of all mean-removed values together;
    4. map [-3 sigma, 3 sigma] linearly onto [0.1, 0.9] (0 goes to 0.5), away from the
       flat ends of the sigmoid.

    Step 4 is the seed's rescaling whenever the clipping bounds are reached on both sides,
    which is the case for any realistic set of natural patches; unlike the seed's
    ``x * 0.8 / (2 max) + (0.1 - min)`` it can never leave [0.1, 0.9] when they are not.
    Constant data (sigma = 0) maps to 0.5.

    Inputs: patches (N, 3, p, p) RGB.
    Returns: (N, p*p) float64 when ``flatten`` (rows in C order), else (N, p, p).
    """
    x = to_grayscale(patches)
    x -= x.mean(axis=(1, 2), keepdims=True)
    bound = 3.0 * x.std()
    if bound > 0:
        np.clip(x, -bound, bound, out=x)
        x *= 0.4 / bound
    x += 0.5
    np.clip(x, 0.1, 0.9, out=x)  # a no-op but for rounding: -bound * 0.4 / bound + 0.5 < 0.1
    return x.reshape(x.shape[0], -1) if flatten else x
