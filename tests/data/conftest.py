"""Fixtures for the data tests: an isolated cache, a local HTTP server, small data sets."""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
import threading
import zipfile
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnlab.data import paths

CIFAR_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every data test writes its decoded caches into its own temporary folder."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setattr(paths, "cache_dir", lambda: cache)
    return cache


# --- official CIFAR-10 format ------------------------------------------------------------


def _batch_pickle(images: np.ndarray, labels: np.ndarray, name: str) -> bytes:
    """A batch as the CIFAR-10 python version stores it: rows of 1024 R, 1024 G, 1024 B."""
    rows = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    batch = {
        "batch_label": name,
        "labels": [int(v) for v in labels],
        "data": np.ascontiguousarray(rows),
        "filenames": [f"img_{i}.png" for i in range(len(images))],
    }
    return pickle.dumps(batch, protocol=2)


@pytest.fixture
def make_cifar_batches(tmp_path: Path) -> Callable:
    """Factory: write a tiny cifar-10-batches-py folder and a tar.gz of it.

    Returns ``(folder, archive, expected)`` with expected = (X_train, y_train, X_test, y_test)
    as the images were generated (NHWC uint8) and per-file md5s in ``expected_md5``.
    """

    def make(per_batch: int = 3, seed: int = 0, extra_members=()):
        rng = np.random.default_rng(seed)
        folder = tmp_path / f"src{seed}" / "cifar-10-batches-py"
        folder.mkdir(parents=True)
        files: dict[str, bytes] = {}
        train_X, train_y = [], []
        for i in range(1, 6):
            X = rng.integers(0, 256, size=(per_batch, 32, 32, 3), dtype=np.uint8)
            y = rng.integers(0, 10, size=per_batch)
            files[f"data_batch_{i}"] = _batch_pickle(X, y, f"training batch {i} of 5")
            train_X.append(X)
            train_y.append(y)
        X_test = rng.integers(0, 256, size=(per_batch, 32, 32, 3), dtype=np.uint8)
        y_test = rng.integers(0, 10, size=per_batch)
        files["test_batch"] = _batch_pickle(X_test, y_test, "testing batch 1 of 1")
        meta = {"num_cases_per_batch": per_batch, "label_names": list(CIFAR_CLASSES)}
        files["batches.meta"] = pickle.dumps(meta, protocol=2)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        archive = folder.parent / "cifar-10-python.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(folder, arcname="cifar-10-batches-py")
            for info, data in extra_members:
                tar.addfile(info, io.BytesIO(data) if data is not None else None)
        md5s = {n: hashlib.md5(d).hexdigest() for n, d in files.items()}
        expected = (np.concatenate(train_X), np.concatenate(train_y), X_test, y_test)
        return folder, archive, expected, md5s

    return make


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def file_md5() -> Callable[[Path], str]:
    return md5_of


# --- image trees ---------------------------------------------------------------------------


def _encode(image: np.ndarray, fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return buf.getvalue()


@pytest.fixture
def make_image_tree(tmp_path: Path) -> Callable:
    """Factory: write ``split/class/NNNN.ext`` images into a folder or a zip.

    Returns ``(path, images)`` where images[split][class] is the list of arrays written, in
    file-name order.
    """

    def make(
        classes=("cat", "airplane", "truck"),
        n_train: int = 3,
        n_test: int = 2,
        fmt: str = "PNG",
        as_zip: bool = False,
        name: str = "tree",
        seed: int = 0,
        size: tuple[int, int] = (32, 32),
    ):
        rng = np.random.default_rng(seed)
        ext = {"PNG": "png", "JPEG": "jpg"}[fmt]
        entries: dict[str, bytes] = {}
        images: dict[str, dict[str, list[np.ndarray]]] = {}
        for split, n in (("train", n_train), ("test", n_test)):
            images[split] = {}
            for cls in classes:
                images[split][cls] = []
                for i in range(n):
                    if fmt == "JPEG":  # smooth content so JPEG stays close to the original
                        base = rng.integers(40, 216, size=(1, 1, 3))
                        ramp = np.linspace(0, 30, size[0])[:, None, None]
                        img = (base + ramp + np.zeros((size[1], size[0], 3))).astype(np.uint8)
                    else:
                        img = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
                    images[split][cls].append(img)
                    entries[f"{split}/{cls}/{i:04d}.{ext}"] = _encode(img, fmt)
        if as_zip:
            path = tmp_path / f"{name}.zip"
            with zipfile.ZipFile(path, "w") as z:
                for member, data in entries.items():
                    z.writestr(member, data)
        else:
            path = tmp_path / name
            for member, data in entries.items():
                (path / member).parent.mkdir(parents=True, exist_ok=True)
                (path / member).write_bytes(data)
        return path, images

    return make


# --- a local HTTP server ---------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.files[path]``; honours ``Range: bytes=N-`` unless told not to."""

    def do_GET(self) -> None:
        srv = self.server
        srv.log.append((self.path, self.headers.get("Range")))
        payload = srv.files.get(self.path)
        if payload is None:
            self.send_error(404)
            return
        mode = srv.modes.get(self.path, "normal")
        start = 0
        range_header = self.headers.get("Range")
        if range_header and mode != "norange":
            start = int(range_header.removeprefix("bytes=").rstrip("-"))
            if start >= len(payload):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(payload)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(payload) - 1}/{len(payload)}")
        else:
            self.send_response(200)
        body = payload[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "truncate-once" and self.path not in srv.truncated:
            srv.truncated.add(self.path)
            self.wfile.write(body[: len(body) // 2])
            return
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_server(monkeypatch: pytest.MonkeyPatch):
    """A server on 127.0.0.1 (random port) in a thread; ``server.url(path)``; stopped after."""
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.files, server.modes, server.log, server.truncated = {}, {}, [], set()
    server.url = lambda p: f"http://127.0.0.1:{server.server_address[1]}{p}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
