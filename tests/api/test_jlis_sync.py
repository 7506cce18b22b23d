"""J-LIS batch sync: pulls a real (in-process) resident registry's difference feed and publishes
the copies only after the configured delay — the copy path's staleness."""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path

import httpx

from meshcert_simulators.jlis.sync import synced_code
from meshcert_simulators.registry import create_app
from meshcert_suites.resident_registry.builders import ADDRESS, move_in, movement, person
from tests.api.jlis_support import PROCEDURE, T0, auth, jlis_settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

LG = "131016"
ITEM = "TM00000000000001"  # the resident-information item the sync files copies under
DELAY = 600


def ask(c: TestClient, code: str, record_id: str) -> dict:
    response = c.post("/v1/provisions", headers=auth("mesh"), json={
        "record_id": record_id, "procedure_code": PROCEDURE, "item_code": ITEM, "code": code})
    assert response.status_code == 200, response.text
    return response.json()["items"][0]


def test_sync_applies_the_delay_and_serves_the_previous_version_until_then(tmp_path: Path):
    municipal = create_app(jlis_settings(tmp_path / "m", name="municipal"))
    with TestClient(municipal) as registry:
        family = registry.post(f"/municipalities/{LG}/movements", headers=auth("admin"),
                               json=move_in(person("鈴木", "一郎", "02",
                                                   kana=("スズキ", "イチロウ"))))
        assert family.status_code == 201, family.text
        [head] = family.json()["affected"]
        code = synced_code(LG, head["atena_number"])

        def jlis_app():
            app = create_app(jlis_settings(tmp_path / "j", sync_delay_s=str(DELAY)))
            app.state.http_transport = httpx.ASGITransport(app=municipal)
            return app

        with TestClient(jlis_app()) as jlis:
            store = jlis.app.state.store
            store.clock = lambda: T0
            assert jlis.post("/v1/sync", headers=auth("mesh")).status_code == 403
            first = jlis.post("/v1/sync", headers=auth("admin"))
            assert first.status_code == 200, first.text
            result = first.json()
            assert result["delay_s"] == DELAY and result["item_code"] == ITEM
            assert result["publication_start"] == (T0 + timedelta(seconds=DELAY)).isoformat(
                ).replace("+00:00", "Z")
            [summary] = result["municipalities"]
            assert (summary["lg_code"], summary["after_before"], summary["registered"]) == (
                LG, 0, 1)
            cursor = summary["after_now"]
            assert cursor > 0

            assert ask(jlis, code, "s-1")["status"] == "02"  # pulled, not yet published
            store.clock = lambda: T0 + timedelta(seconds=DELAY)
            served = ask(jlis, code, "s-2")
            assert served["status"] == "01"
            resident = served["payload"]["resident"]
            assert resident["atena_number"] == head["atena_number"]
            assert "my_number" not in resident

            moved = registry.post(f"/municipalities/{LG}/movements", headers=auth("admin"),
                                  json=movement("move-within", setai_number=head["setai_number"],
                                                address={**ADDRESS, "banchi": "3-1"}))
            assert moved.status_code == 201, moved.text
            t1 = T0 + timedelta(seconds=1000)
            store.clock = lambda: t1
            second = jlis.post("/v1/sync", headers=auth("admin")).json()["municipalities"][0]
            assert (second["after_before"], second["registered"]) == (cursor, 1)
            cursor = second["after_now"]
            old_banchi = resident["address"]["banchi"]
            # Stale: the registry has moved the person; the copy path still tells the old address.
            store.clock = lambda: t1 + timedelta(seconds=DELAY - 1)
            assert ask(jlis, code, "s-3")["payload"]["resident"]["address"]["banchi"] == old_banchi
            store.clock = lambda: t1 + timedelta(seconds=DELAY)
            assert ask(jlis, code, "s-4")["payload"]["resident"]["address"]["banchi"] == "3-1"

        with TestClient(jlis_app()) as again:  # the cursor is durable
            again.app.state.store.clock = lambda: t1
            third = again.post("/v1/sync", headers=auth("admin")).json()["municipalities"][0]
            assert (third["after_before"], third["after_now"], third["registered"]) == (
                cursor, cursor, 0)


def test_sync_reports_a_registry_that_does_not_answer_as_a_problem(tmp_path: Path):
    app = create_app(jlis_settings(tmp_path))
    with TestClient(app) as jlis:
        jlis.app.state.http_transport = httpx.ASGITransport(app=app)  # no feed here: 404
        answer = jlis.post("/v1/sync", headers=auth("admin"))
        assert answer.status_code == 502
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == "urn:meshcert:problem:sync-source-unavailable"


def test_sync_without_a_registry_source_is_not_configured(tmp_path: Path):
    with TestClient(create_app(jlis_settings(tmp_path, sync_source="jlis"))) as jlis:
        answer = jlis.post("/v1/sync", headers=auth("admin"))
        assert answer.status_code == 503
        assert answer.json()["type"] == "urn:meshcert:problem:sync-not-configured"


def test_sync_delay_setting_is_validated(tmp_path: Path):
    import pytest

    from meshcert_simulators.common.settings import SettingsError
    with pytest.raises(SettingsError, match="MESHCERT_JLIS_SYNC_DELAY_S"):
        create_app(jlis_settings(tmp_path, sync_delay_s="soon"))
