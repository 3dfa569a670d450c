"""Resumable HTTP(S) download with a progress bar, checksum verification and atomic rename.

The bytes go to ``<dest>.part`` first. An interrupted download leaves that file behind and the
next call asks the server for the rest only (an HTTP ``Range`` request); a server that ignores
the range makes the download start over. The finished file is checked against the md5 and/or
sha256 given and only then renamed onto ``dest``, so ``dest`` is either absent or complete.
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from cnnlab._io import verify_checksum

_CHUNK = 1 << 16
_USER_AGENT = "cnnlab-downloader/0.1"


def _part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _open(url: str, offset: int, timeout: float):
    """Open ``url``, asking for the bytes from ``offset`` on when ``offset > 0``.

    Returns ``(response, resumed)``; ``response`` is ``None`` when the server says the range
    is not satisfiable (HTTP 416: the partial file is already complete).
    """
    headers = {"User-Agent": _USER_AGENT}
    if offset > 0:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset > 0:
            return None, True
        raise
    if response.status == 206:
        match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
        if match is None or int(match.group(1)) != offset:
            response.close()
            raise OSError(f"download: {url} answered a range request with the wrong range")
        return response, True
    return response, False


def download(
    url: str,
    dest: str | os.PathLike,
    md5: str | None = None,
    sha256: str | None = None,
    progress: bool | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to the file ``dest`` and return ``dest`` as a Path.

    Parameters
    ----------
    url: http(s) (or file) URL.
    dest: target file path; its directory is created when missing.
    md5, sha256: expected hex digests (either, both or neither). A finished download whose digest
        differs is deleted and ``ValueError`` is raised. An existing ``dest`` whose digest matches
        (or any existing ``dest`` when no digest is given) is returned without a download.
    progress: show a tqdm progress bar; ``None`` shows it only on a terminal.
    timeout: seconds to wait for the server on each network operation.
    """
    dest = Path(dest)
    if dest.exists():
        try:
            verify_checksum(dest, md5=md5, sha256=sha256)
            return dest
        except ValueError:
            pass  # a stale or damaged copy: fetch it again
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = _part_path(dest)
    offset = part.stat().st_size if part.exists() else 0
    response, resumed = _open(url, offset, timeout)
    if response is not None:
        if not resumed:
            offset = 0
        with response:
            length = response.headers.get("Content-Length")
            total = offset + int(length) if length is not None else None
            with (
                open(part, "ab" if resumed else "wb") as f,
                tqdm(
                    total=total,
                    initial=offset,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=dest.name,
                    disable=None if progress is None else not progress,
                ) as bar,
            ):
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    f.write(chunk)
                    bar.update(len(chunk))
        size = part.stat().st_size
        if total is not None and size != total:
            raise OSError(
                f"download: {url} ended after {size} of {total} bytes; "
                f"call again to resume from {part}"
            )
    try:
        verify_checksum(part, md5=md5, sha256=sha256)
    except ValueError as err:
        part.unlink(missing_ok=True)
        raise ValueError(f"download: {url}: {err}; the partial file was deleted") from None
    os.replace(part, dest)
    return dest
