"""``meshcert ui`` as a command: it serves on the port asked, refuses a busy one in one line,
and starts detached for ``meshcert demo --keep-running``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from meshcert.backends.ports import free_port
from meshcert.console.background import start_in_background
from tests.integration.served import serving
from tests.unit.test_console_runs import make_run


def test_the_command_serves_the_runs_of_a_given_folder(tmp_path: Path) -> None:
    make_run(tmp_path / "ci", "nightly-1", failing=("SEC-AUTH-002",))
    port = free_port()
    command = [sys.executable, "-m", "meshcert.cli", "ui", "--port", str(port), "--reports",
               str(tmp_path / "ci"), "--db", str(tmp_path / "i.sqlite"), "--out",
               str(tmp_path / "out")]
    with serving(command, f"http://127.0.0.1:{port}/health", tmp_path / "ui.log"):
        page = httpx.get(f"http://127.0.0.1:{port}/", params={"kind": "certification"}).text
    assert "nightly-1" in page


def test_a_busy_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "meshcert.cli", "ui", "--port", str(port),
                               "--db", str(tmp_path / "i.sqlite")],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("meshcert: error: port") and done.stderr.count("\n") == 1


def test_the_console_starts_in_the_background_and_is_reused(tmp_path: Path) -> None:
    port = free_port()
    url = start_in_background(port, state=tmp_path)
    pid = int((tmp_path / "console.pid").read_text())
    try:
        assert httpx.get(f"{url}health").json() == {"status": "ok"}
        assert start_in_background(port, state=tmp_path) == url     # found, not started again
        assert int((tmp_path / "console.pid").read_text()) == pid
    finally:
        os.kill(pid, signal.SIGTERM)
