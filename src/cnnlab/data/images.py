"""Labelled image trees: ``train/<class>/*.jpg`` and ``test/<class>/*.jpg`` in a folder or a zip.

Images are decoded once with Pillow (converted to RGB, size checked) and the result is cached as
an uncompressed .npz of uint8 arrays in :func:`cnnlab.data.paths.cache_dir`, keyed by the
source's path, size and modification time (for a folder: every image file's), so later loads
only read that file.

Class order: the official CIFAR-10 order when every class folder has a CIFAR-10 name, else
sorted names. Image order: within a class the files are sorted by name; the classes are then
interleaved (the first image of every class, then the second of every class, ...), so any
prefix of the returned arrays is balanced by class - as the official batches are roughly - and
cutting a validation set off the end (CS231n's ``get_CIFAR10_data``) does not take one class.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

from cnnlab._io import save_npz_atomic
from cnnlab.data import paths
from cnnlab.data.cifar10_official import CLASSES as CIFAR10_CLASSES
from cnnlab.data.pixels import ImageDecodeError, open_image, to_uint8

SPLITS = ("train", "test")
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".webp"})
_CACHE_VERSION = 1
_MAX_LISTED = 20
MAX_MEMBER_BYTES = 64 << 20  # one image file, as stored or declared by an archive


class ImageData(NamedTuple):
    """Decoded image tree: X_* uint8 (N, H, W, 3), y_* int64 (N,) indexing ``classes``."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]


class _Tree:
    """Read access to the files of a folder or a zip by relative posix name.

    Nothing is listed or opened until needed, so a cache hit on a zip costs one ``stat``.
    """

    def __init__(self, source: str | os.PathLike):
        self.path = Path(source).resolve()
        self._zip: zipfile.ZipFile | None = None
        self.is_zip = not self.path.is_dir()
        if self.is_zip and not zipfile.is_zipfile(self.path):
            raise ValueError(f"{self.path} is neither a folder nor a zip file")

    @functools.cached_property
    def names(self) -> list[str]:
        """Relative posix names of all files; a zip with an unsafe member name is refused."""
        if not self.is_zip:
            return sorted(
                p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()
            )
        self._zip = zipfile.ZipFile(self.path)
        bad = [n for n in self._zip.namelist() if not is_safe_member_name(n)]
        if bad:
            raise ValueError(f"refusing {self.path}: unsafe member names {bad[:_MAX_LISTED]}")
        return [i.filename for i in self._zip.infolist() if not i.is_dir()]

    def read(self, name: str) -> bytes:
        """The bytes of file ``name``.

        Raises ValueError when it is larger than MAX_MEMBER_BYTES (the size an archive declares is
        checked first, then the size actually read).
        """
        if self.is_zip:
            declared = self._zip.getinfo(name).file_size
            opener = functools.partial(self._zip.open, name)
        else:
            declared = (self.path / name).stat().st_size
            opener = functools.partial(open, self.path / name, "rb")
        limit = f"more than the {MAX_MEMBER_BYTES} bytes an image file may have"
        if declared > MAX_MEMBER_BYTES:
            raise ValueError(f"declares {declared} bytes, {limit}")
        with opener() as f:
            data = f.read(MAX_MEMBER_BYTES + 1)
        if len(data) > MAX_MEMBER_BYTES:
            raise ValueError(f"holds {limit}")
        return data

    def fingerprint(self) -> str:
        """Hash of what identifies the content: path + size + mtime (of every file if a folder)."""
        if self.is_zip:
            st = self.path.stat()
            items = [str(self.path), st.st_size, st.st_mtime_ns]
        else:
            items = [str(self.path)]
            for n in self.names:
                st = (self.path / n).stat()
                items.append([n, st.st_size, st.st_mtime_ns])
        blob = json.dumps([_CACHE_VERSION, items]).encode()
        return hashlib.sha256(blob).hexdigest()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> _Tree:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def is_safe_member_name(name: str) -> bool:
    """True for a relative archive name without ``..`` parts, drive letters or backslashes."""
    drive = len(name) > 1 and name[1] == ":"
    return not (name.startswith("/") or "\\" in name or drive or ".." in name.split("/"))


def _layout(names: list[str]) -> tuple[tuple[str, ...], dict[str, list[tuple[str, str]]]]:
    """Find ``split/class/file`` images (optionally under one top folder).

    Returns ``(classes, {split: [(name, class), ...]})`` with names sorted within each class.
    """
    entries = []
    for name in names:
        parts = name.split("/")
        if len(parts) >= 3 and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
            entries.append((parts[-3], parts[-2], name, len(parts)))
    depths = {e[3] for e in entries if e[0] in SPLITS}
    if len(depths) != 1:
        raise ValueError(
            "expected images laid out as train/<class>/<image> and test/<class>/<image>; found "
            + (f"them at {len(depths)} different depths" if depths else "no such images")
        )
    depth = depths.pop()
    found: dict[str, list[tuple[str, str]]] = {s: [] for s in SPLITS}
    for split, cls, name, d in sorted(entries, key=lambda e: e[2]):
        if d == depth and split in SPLITS:
            found[split].append((name, cls))
    names_found = {cls for items in found.values() for _, cls in items}
    if names_found <= set(CIFAR10_CLASSES):
        classes = tuple(c for c in CIFAR10_CLASSES if c in names_found)
    else:
        classes = tuple(sorted(names_found))
    return classes, found


def _select(
    items: list[tuple[str, str]],
    classes: tuple[str, ...],
    per_class: int | None,
    rng: np.random.Generator | None,
) -> list[tuple[str, int]]:
    """Keep ``per_class`` items of each class, then interleave the classes.

    The first ones are kept, or a random choice with ``rng``. Returns ``[(name, label), ...]``.
    """
    by_class: list[list[str]] = [[] for _ in classes]
    for name, cls in items:
        by_class[classes.index(cls)].append(name)
    if per_class is not None:
        for k, names in enumerate(by_class):
            if per_class > len(names):
                raise ValueError(
                    f"asked for {per_class} images of class {classes[k]!r}, found {len(names)}"
                )
            if rng is None:
                by_class[k] = names[:per_class]
            else:
                keep = np.sort(rng.choice(len(names), size=per_class, replace=False))
                by_class[k] = [names[i] for i in keep]
    order = sorted(
        (
            (rank, label, name)
            for label, names in enumerate(by_class)
            for rank, name in enumerate(names)
        )
    )
    return [(name, label) for _, label, name in order]


def _decode(
    tree: _Tree, names: list[str], size: tuple[int, int] | None, desc: str, bad: list[str]
) -> np.ndarray:
    """Decode ``names`` to uint8 (N, H, W, 3); unreadable files are appended to ``bad``."""
    images: list[np.ndarray] = []
    for name in tqdm(names, desc=desc, unit="img", disable=None, leave=False):
        try:
            with open_image(tree.read(name), name) as im:
                if size is not None and im.size != size:
                    bad.append(
                        f"{name} (size {im.size[0]}x{im.size[1]}, expected {size[0]}x{size[1]})"
                    )
                    continue
                rgb = to_uint8(im, "RGB", name)
        except ImageDecodeError as err:
            bad.append(str(err))
            continue
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
            bad.append(f"{name} ({type(err).__name__}: {err})")
            continue
        if size is None and images and rgb.shape != images[0].shape:
            bad.append(f"{name} (shape {rgb.shape}, others {images[0].shape})")
            continue
        images.append(rgb)
    if not images:
        w, h = size if size is not None else (0, 0)
        return np.zeros((0, h, w, 3), dtype=np.uint8)
    return np.stack(images)


def _report_bad(tree: _Tree, bad: list[str]) -> None:
    """Raise ``ValueError`` listing (the first few of) the files that could not be used."""
    if bad:
        more = f" and {len(bad) - _MAX_LISTED} more" if len(bad) > _MAX_LISTED else ""
        raise ValueError(
            f"{len(bad)} unreadable or wrong-size images in {tree.path}: "
            + "; ".join(bad[:_MAX_LISTED])
            + more
        )


def _cache_path(tree: _Tree, size: tuple[int, int] | None) -> Path:
    key = hashlib.sha256(f"{tree.fingerprint()}{size}".encode()).hexdigest()[:20]
    return paths.cache_dir() / f"images-{tree.path.stem}-{key}.npz"


def _read_cache(path: Path) -> ImageData | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            return ImageData(
                z["X_train"], z["y_train"], z["X_test"], z["y_test"], tuple(z["classes"].tolist())
            )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # missing, truncated or from another version: decoded again


def load_image_tree(
    source: str | os.PathLike,
    size: tuple[int, int] | None = (32, 32),
    train_per_class: int | None = None,
    test_per_class: int | None = None,
    seed: int | None = None,
    cache: bool = True,
) -> ImageData:
    """Decode a folder or zip of ``train/<class>/*`` and ``test/<class>/*`` images.

    Parameters
    ----------
    source: folder or zip file.
    size: required (width, height) of every image; ``None`` accepts any size shared by all.
    train_per_class, test_per_class: decode only this many images of each class (the first ones
        by name, or a random choice when ``seed`` is given); ``None`` decodes all.
    cache: read/write the decoded arrays in the cache folder (only when all images are decoded).

    Returns :class:`ImageData` with X_* uint8 (N, H, W, 3), y_* int64 (N,), classes.
    Raises ``ValueError`` listing unreadable or wrong-size files, or for unsafe zip member names.
    """
    with _Tree(source) as tree:
        full = train_per_class is None and test_per_class is None
        cache_file = None
        if cache and full:
            try:
                cache_file = _cache_path(tree, size)
            except OSError as err:
                warnings.warn(f"image cache unavailable: {err}", stacklevel=2)
        if cache_file is not None and cache_file.exists():
            cached = _read_cache(cache_file)
            if cached is not None:
                return cached
        classes, found = _layout(tree.names)
        rng = None if seed is None else np.random.default_rng(seed)
        arrays: list[np.ndarray] = []
        bad: list[str] = []
        for split, per_class in zip(SPLITS, (train_per_class, test_per_class), strict=True):
            chosen = _select(found[split], classes, per_class, rng)
            desc = f"decoding {tree.path.name} {split}"
            arrays.append(_decode(tree, [n for n, _ in chosen], size, desc, bad))
            arrays.append(np.array([label for _, label in chosen], dtype=np.int64))
        _report_bad(tree, bad)
    data = ImageData(*arrays, classes)
    if cache_file is not None:
        try:
            save_npz_atomic(
                cache_file,
                X_train=data.X_train, y_train=data.y_train,
                X_test=data.X_test, y_test=data.y_test,
                classes=np.array(classes, dtype=str),
            )  # fmt: skip
        except OSError as err:
            warnings.warn(f"could not write the image cache {cache_file}: {err}", stacklevel=2)
    return data


def list_image_tree(source: str | os.PathLike) -> tuple[tuple[str, ...], dict[str, list[str]]]:
    """Names of the images without decoding: ``(classes, {'train': [...], 'test': [...]})``.

    The names are in the order :func:`load_image_tree` returns the images.
    """
    with _Tree(source) as tree:
        classes, found = _layout(tree.names)
    return classes, {s: [n for n, _ in _select(found[s], classes, None, None)] for s in SPLITS}
