"""Headless Chromium driven over the Chrome DevTools Protocol (CDP), for tests that use a real
page as a person would: navigate, fill a form, click, and see where the browser ends up.

Skips the test when Chromium is absent, unless ``MESHCERT_REQUIRE_BROWSER=1`` (CI).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from meshcert.backends.processes import stop_child
from tests.unit.test_report_html import chromium

START_TIMEOUT_S = 30.0


class Page:
    """One browser tab, spoken to with CDP commands."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self._ids = itertools.count(1)

    def command(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a CDP command and wait for its answer (events in between are skipped)."""
        ident = next(self._ids)
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == ident:
                assert "error" not in message, message["error"]
                return dict(message.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.command("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def goto(self, url: str) -> None:
        self.command("Page.navigate", url=url)

    def screenshot(self, path: Path) -> Path:
        """Save the whole page as a PNG at ``path`` (kept as a test artifact)."""
        result = self.command("Page.captureScreenshot", format="png",
                              captureBeyondViewport=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(result["data"]))
        return path

    def press(self, key: str, code: str, key_code: int) -> None:
        """Press and release one key (e.g. ``"Tab", "Tab", 9``), as the keyboard would."""
        for kind in ("keyDown", "keyUp"):
            self.command("Input.dispatchKeyEvent", type=kind, key=key, code=code,
                         windowsVirtualKeyCode=key_code)

    def wait_for(self, expression: str, timeout_s: float = 15.0) -> Any:
        """Poll until ``expression`` is truthy in the page; its value."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                value = self.evaluate(expression)
            except AssertionError:  # the page is between documents
                value = None
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out waiting for {expression}"
            time.sleep(0.1)


def _debugger_port(profile: Path, process: subprocess.Popen[bytes]) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not marker.exists() or not marker.read_text().strip():
        assert process.poll() is None, "chromium exited before it opened its debugger port"
        assert time.monotonic() < deadline, "chromium did not open its debugger port"
        time.sleep(0.1)
    return int(marker.read_text().split()[0])


@contextmanager
def browser_page() -> Iterator[Page]:
    """A tab of a fresh headless Chromium (its own profile), closed at the end."""
    binary = chromium()
    if binary is None:
        if os.environ.get("MESHCERT_REQUIRE_BROWSER") == "1":
            pytest.fail("MESHCERT_REQUIRE_BROWSER=1 but no chromium on PATH")
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    # Chromium's helper processes can still be writing the profile as it is removed.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--remote-debugging-port=0", "--remote-allow-origins=*",
             f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = _debugger_port(Path(profile), process)
            targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
            page = next(t for t in targets if t["type"] == "page")
            with connect(page["webSocketDebuggerUrl"], proxy=None,
                         max_size=16 * 1024 * 1024) as socket:
                tab = Page(socket)
                tab.command("Page.enable")
                yield tab
        finally:
            stop_child(process, grace_s=5)
