"""The console as a background process that outlives the command that started it (``meshcert
demo --keep-running`` ends with its URL): ``meshcert ui`` detached, its pid in
``.meshcert/console.pid`` and its output in ``.meshcert/console.log``. A console already
answering on the port is reused."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from meshcert.backends.processes import port_problem
from meshcert.errors import ConfigError

DEFAULT_PORT = 8765
STATE = Path(".meshcert")
START_TIMEOUT_S = 20.0


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}health", timeout=1.0).json().get("status") == "ok"
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def start_in_background(port: int = DEFAULT_PORT, host: str = "127.0.0.1",
                        state: Path = STATE) -> str:
    """Start the console detached (or find it running) on ``host:port``; its URL. ConfigError
    when the port is taken by something else or it does not start."""
    url = f"http://{host}:{port}/"
    if _answers(url):
        return url
    problem = port_problem(host, port)
    if problem:
        raise ConfigError(f"the console cannot start: {problem}")
    state.mkdir(parents=True, exist_ok=True)
    with (state / "console.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "meshcert.cli", "ui", "--host", host, "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    (state / "console.pid").write_text(f"{process.pid}\n", encoding="utf-8")
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise ConfigError(f"the console did not start (see {state / 'console.log'})")
        time.sleep(0.2)
    return url
