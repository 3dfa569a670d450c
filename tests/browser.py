"""Headless Chromium for the tests that look at pages (the run report, the documentation site).

A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe``: every console
message, log entry and uncaught exception of the page arrives as an event, so a test can
assert that a page loads with no error at all.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]

# what open_in_chromium reports about the page once it has loaded
PAGE_FACTS = """JSON.stringify({
    images: [...document.images].map(i => ({
        complete: i.complete, width: i.naturalWidth, alt: i.alt, src: i.src.slice(0, 22)})),
    height: document.documentElement.scrollHeight,
    title: document.title,
    text: document.body.innerText})"""


def find_chromium() -> str:
    """The path of a Chromium (or Chrome) binary; fails the test when there is none."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "chromium is not installed (Debian: apt-get install -y chromium); the browser tests need it"
    )


class DevTools:
    """A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (fd 3: we
    write commands, fd 4: we read replies and events, each a JSON text ending in NUL)."""

    def __init__(self, binary: str, profile: str) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # copies numbered 10 or more, so that moving them onto fds 3 and 4 clobbers nothing
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_browser_r, from_browser_w)]
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.events: list[dict] = []
        self._next_id = 0
        self._buffer = b""

        def child_fds() -> None:  # in the child: the pipe ends become (inheritable) fds 3, 4
            os.dup2(ends[0], 3)
            os.dup2(ends[1], 4)

        self.process = subprocess.Popen(
            [
                binary,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            close_fds=False,
            preexec_fn=child_fds,
            start_new_session=True,  # its own process group: close() ends its helpers too
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for fd in ends:
            os.close(fd)

    def send(
        self,
        method: str,
        params: dict | None = None,
        session: str | None = None,
        timeout: float = 20.0,
    ) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select(
                [self._from_browser], [], [], max(0.0, deadline - time.monotonic())
            )
            if not ready:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        os.close(self._to_browser)
        os.close(self._from_browser)


def is_error(event: dict) -> bool:
    """A console error, a logged error (failed load, blocked request, CSP) or an exception."""
    method, params = event.get("method"), event.get("params", {})
    return (
        method == "Runtime.exceptionThrown"
        or (method == "Runtime.consoleAPICalled" and params.get("type") == "error")
        or (method == "Log.entryAdded" and params["entry"].get("level") == "error")
    )


def open_in_chromium(url: str, screenshot: Path, width: int = 1280, settle_s: float = 0.0) -> dict:
    """Load ``url`` in headless Chromium and save a full-page PNG screenshot.

    Args:
        url: the page (``file://`` or ``http://``).
        screenshot: where the PNG goes.
        width: the window's width in CSS pixels.
        settle_s: how long to let the page's scripts run after its load event before looking.

    Returns:
        ``PAGE_FACTS`` (images, height, title, text) and ``console``: every console error, logged
        error and uncaught exception of the page.
    """
    # a helper process may still be writing into the profile as it is removed
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        tools = DevTools(find_chromium(), profile)
        try:
            target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Page", "Runtime", "Log"):
                tools.send(f"{domain}.enable", session=session)
            tools.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                session=session,
            )
            tools.send("Page.navigate", {"url": url}, session=session)
            tools.wait_for("Page.loadEventFired")
            if settle_s:
                wait = f"new Promise(done => setTimeout(done, {1000 * settle_s:.0f}))"
                tools.send("Runtime.evaluate", {"expression": wait, "awaitPromise": True}, session)
            check = tools.send(
                "Runtime.evaluate", {"returnByValue": True, "expression": PAGE_FACTS}, session
            )
            report = json.loads(check["result"]["value"])
            shot = tools.send(
                "Page.captureScreenshot",
                {
                    "format": "png",
                    "captureBeyondViewport": True,
                    "clip": {
                        "x": 0,
                        "y": 0,
                        "width": width,
                        "height": report["height"],
                        "scale": 1,
                    },
                },
                session=session,
            )
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        finally:
            tools.close()
    report["console"] = [event["params"] for event in tools.events if is_error(event)]
    return report
