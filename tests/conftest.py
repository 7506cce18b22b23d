"""Fixtures for the project's own tests: simulators in-process (no sockets)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import Topology, load_topology
from meshcert_simulators.registry import create_app

with warnings.catch_warnings():
    # Starlette suggests httpx2; the project pins httpx 0.28.1 (respx does not intercept httpx2).
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

LG = "131016"  # 千代田区, hosted by the embedded topology's municipal simulator

# The folders whose tests start processes (certifications, Locust, containers), longest first.
PROCESS_FOLDERS = {folder: rank for rank, folder in enumerate(
    ("independent", "integration", "containers", "load"))}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that start processes first and the quick in-process ones last, so that
    under ``-n`` no long certification starts at the end with one worker left to run it.
    The sort is stable: a module's tests keep their order."""
    tests = Path(__file__).parent

    def rank(item: pytest.Item) -> int:
        folder = item.path.relative_to(tests).parts[0] if item.path.is_relative_to(tests) else ""
        return PROCESS_FOLDERS.get(folder, len(PROCESS_FOLDERS))

    items.sort(key=rank)


def access_entries(output: str) -> list[dict[str, Any]]:
    """The access-log entries (a JSON object a line) among a simulator's output."""
    found = []
    for line in output.splitlines():
        if "{" in line:
            with suppress(ValueError):
                found.append(json.loads(line[line.index("{"):]))
    return found


@pytest.fixture(scope="session")
def topology() -> Topology:
    return load_topology()


def bearer(topology: Topology, client_id: str) -> dict[str, str]:
    """Authorization header of a client named in the topology ('admin' for the admin token)."""
    if client_id == "admin":
        return {"Authorization": f"Bearer {topology.admin_token}"}
    token = next(c.token for c in topology.clients if c.id == client_id)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def settings(tmp_path: Path, topology: Topology) -> Settings:
    return Settings(name="municipal", topology=topology, data_dir=tmp_path, access_log=False)


@pytest.fixture
def registry_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client
