"""The J-LIS server's parts on ``app.state`` are what its routes use: each can be replaced on
its own (who may do what, the batch sync) and tested without HTTP (the sync)."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from meshcert_simulators.common.auth import Caller
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.storage import Database
from meshcert_simulators.jlis.access import JlisAccess
from meshcert_simulators.jlis.store import SCHEMA, JlisStore
from meshcert_simulators.jlis.sync import SyncConfig, Syncer
from meshcert_simulators.registry import create_app
from tests.api.jlis_support import ITEM, T0, auth, code_for, jlis_settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PROVIDER = "demo-tax-provider"
COPY = {"data_set_key": "tax-2026", "version": 1, "publication_start": T0.isoformat(),
        "publication_end": None, "payload": {"income": 1000}}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(jlis_settings(tmp_path)), raise_server_exceptions=False) as c:
        c.app.state.store.clock = lambda: T0
        yield c


def test_a_replaced_access_part_decides_whose_copies_a_caller_registers(client):
    path = f"/v1/copies/someone-else/{code_for('parts-a')}/{ITEM}"
    refused = client.put(path, json=COPY, headers=auth(PROVIDER))
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith(":not-your-institution")

    class AnyInstitution(JlisAccess):
        def own_institution(self, request: Any, institution: str) -> Caller:
            return self.caller(request, "jlis:register")

    client.app.state.access = AnyInstitution(client.app.state)
    accepted = client.put(path, json=COPY, headers=auth(PROVIDER))
    assert accepted.status_code == 201, accepted.text


def test_a_replaced_syncer_is_what_the_sync_route_runs(client):
    summary = {"source": "replacement", "pulled_at": T0.isoformat(),
               "publication_start": T0.isoformat(), "delay_s": 0, "item_code": ITEM,
               "municipalities": []}

    class Canned:
        runs = 0

        async def run(self) -> dict[str, Any]:
            Canned.runs += 1
            return summary

    client.app.state.syncer = Canned()
    r = client.post("/v1/sync", headers=auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "replacement" and Canned.runs == 1
    assert client.post("/v1/sync", headers=auth(PROVIDER)).status_code == 403  # still admin


def test_the_syncer_refuses_a_sync_without_a_source_without_http(tmp_path):
    store = JlisStore(Database(tmp_path / "parts.sqlite3", SCHEMA))
    state = SimpleNamespace(store=store, http_transport=None, sync_config=SyncConfig(
        source=None, client_id="nobody", delay_s=0, item_code=ITEM))
    with pytest.raises(Problem) as refused:
        asyncio.run(Syncer(state, jlis_settings(tmp_path)).run())
    assert refused.value.status == 503
    assert refused.value.body()["type"].endswith(":sync-not-configured")
    store.db.close()
