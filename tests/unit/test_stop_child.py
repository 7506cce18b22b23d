"""stop_child: a child that stops on SIGTERM is not killed; one that ignores it is, after the
grace period."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from meshcert.backends.processes import stop_child


def test_a_child_stops_on_sigterm():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    stop_child(child, grace_s=5)
    assert child.returncode == -signal.SIGTERM


def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period():
    child = subprocess.Popen([sys.executable, "-c", "import signal, time\n"
                              "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                              "print('ready', flush=True)\ntime.sleep(30)"],
                             stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline() == b"ready\n"
    started = time.monotonic()
    stop_child(child, grace_s=0.5)
    assert child.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 10
