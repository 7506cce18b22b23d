"""The system under test as the suites see it: only its read API (the paths of its target
file), with harness tokens of the profile's scopes, every exchange recorded as the test's
evidence — and its restart, as the target file allows."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshcert import Harness, HarnessFault, Target
from meshcert.backends import processes
from meshcert.catalog.targets import DownstreamSettings
from meshcert.certify.evidence import Recorder

READ = ("downstream:read",)
READ_MYNUMBER = ("downstream:read", "downstream:read-mynumber")
SYNC = ("downstream:sync",)
START_TIMEOUT_S = 30.0


class System:
    def __init__(self, harness: Harness, target: Target, recorder: Recorder) -> None:
        assert target.downstream is not None  # the target file is validated for the profile
        self.harness = harness
        self.target = target
        self.settings: DownstreamSettings = target.downstream
        self.recorder = recorder
        self.clients: dict[tuple[str, ...], httpx.Client] = {}

    def http(self, scopes: tuple[str, ...]) -> httpx.Client:
        """A client with a token of ``scopes``, kept for the test (one connection each)."""
        if scopes not in self.clients:
            self.clients[scopes] = self.harness.client(self.harness.token(scopes),
                                                       recorder=self.recorder, timeout=30.0)
        return self.clients[scopes]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients.clear()

    def _get(self, path: str, scopes: tuple[str, ...]) -> httpx.Response:
        return self.http(scopes).get(path)

    def view(self, atena_number: str, scopes: tuple[str, ...] = READ) -> httpx.Response:
        return self._get(self.settings.resident_path.format(atena_number=atena_number), scopes)

    def household(self, setai_number: str, scopes: tuple[str, ...] = READ) -> httpx.Response:
        return self._get(self.settings.household_path.format(setai_number=setai_number),
                         scopes)

    def cursor(self) -> int:
        answer = self._get(self.settings.sync_state_path, READ)
        assert answer.status_code == 200, (
            f"GET {self.settings.sync_state_path} answered {answer.status_code}: "
            f"{answer.text[:300]}")
        cursor = answer.json().get("cursor")
        assert isinstance(cursor, int) and cursor >= 0, f"the sync state's cursor: {cursor!r}"
        return cursor

    def catch_up(self, last_seq: int) -> None:
        """Let the system read the feed up to ``last_seq``: its sync trigger when it has one
        (it reads to the end before answering), else its own polls (until its cursor is
        there, or three intervals and 5 s have passed). Never judges: the views do."""
        if self.settings.sync_path:
            self.http(SYNC).post(self.settings.sync_path)
            return
        deadline = time.monotonic() + 3 * self.settings.poll_interval_s + 5
        while time.monotonic() < deadline:
            answer = self._get(self.settings.sync_state_path, READ)
            if answer.status_code == 200 and int(answer.json().get("cursor", -1)) >= last_seq:
                return
            time.sleep(0.2)

    def can_restart(self) -> bool:
        return self.target.launch is not None or self.settings.restart_path is not None

    def restart(self) -> None:
        """Restart the system: the launched reference's process (with its defect), else
        through the target's restart_path; returns once its read API answers again."""
        launch = self.target.launch
        if launch is not None:
            run_dir = self.harness.run_dir
            if processes.running_pid(run_dir, launch.simulator) is None:
                raise HarnessFault(f"{launch.simulator} does not run as a process of "
                                   f"{run_dir}: the harness cannot restart it")
            processes.down(run_dir, [launch.simulator])
            self.close()
            processes.up(Path(launch.topology), run_dir, [launch.simulator],
                         defects={launch.simulator: launch.defect} if launch.defect else None)
            return
        if self.settings.restart_path is None:
            pytest.skip("the target file states no restart_path: the system's own restart "
                        "is not tried")
        with contextlib.suppress(httpx.HTTPError):  # it may go before it answers
            self.http(SYNC).post(self.settings.restart_path)
        self.close()  # its connections went with it
        time.sleep(0.5)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if self._get(self.settings.sync_state_path, READ).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the system's read API did not answer within "
                             f"{START_TIMEOUT_S:g} s of its restart")


def json_of(answer: httpx.Response, what: str) -> dict[str, Any]:
    assert answer.status_code == 200, f"{what} answered {answer.status_code}: {answer.text[:300]}"
    return dict(answer.json())
