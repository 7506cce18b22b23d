"""J-LIS intermediate server: copy registration, answers inside the publication window only,
My Numbers refused, and durable art. 23 provision records."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshcert_simulators.common.identifiers import generate_my_number
from meshcert_simulators.registry import create_app
from tests.api.jlis_support import ITEM, PROCEDURE, T0, auth, code_for, jlis_settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PROVIDER = "demo-tax-provider"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(jlis_settings(tmp_path)), raise_server_exceptions=False) as c:
        c.app.state.store.clock = lambda: T0
        yield c


def copy(version: int, start: datetime, end: datetime | None = None, **payload: Any
         ) -> dict[str, Any]:
    return {"data_set_key": "tax-2026", "version": version,
            "publication_start": start.isoformat(),
            "publication_end": end.isoformat() if end else None,
            "payload": payload or {"income": 1000 * version}}


def put(c: TestClient, code: str, body: dict[str, Any], who: str = PROVIDER,
        institution: str = PROVIDER):
    return c.put(f"/v1/copies/{institution}/{code}/{ITEM}", json=body, headers=auth(who))


def ask(c: TestClient, code: str, record_id: str) -> Any:
    return c.post("/v1/provisions", headers=auth("mesh"), json={
        "record_id": record_id, "procedure_code": PROCEDURE, "item_code": ITEM, "code": code})


def test_registered_copy_is_served_with_line_and_item_status(client: TestClient):
    code = code_for("a")
    created = put(client, code, copy(1, T0 - timedelta(days=1), income=3_200_000))
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    answer = ask(client, code, "r-1")
    assert answer.status_code == 200
    assert answer.json() == {"status": "09", "message": None, "items": [
        {"item_code": ITEM, "status": "01", "message": None, "payload": {"income": 3_200_000}}]}


def test_a_newer_version_replaces_and_older_or_equal_is_refused(client: TestClient):
    code = code_for("b")
    assert put(client, code, copy(2, T0 - timedelta(days=2))).status_code == 201
    for stale in (1, 2):
        refused = put(client, code, copy(stale, T0 - timedelta(days=1)))
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:meshcert:problem:copy-version-not-newer"
    assert put(client, code, copy(3, T0 - timedelta(hours=1))).status_code == 201
    assert ask(client, code, "r-2").json()["items"][0]["payload"] == {"income": 3000}


def test_no_data_when_missing_or_outside_the_window(client: TestClient):
    assert ask(client, code_for("nobody"), "r-3").json()["items"][0] == {
        "item_code": ITEM, "status": "02",
        "message": "no copy of this item is published for this code now", "payload": None}
    future, ended = code_for("future"), code_for("ended")
    put(client, future, copy(1, T0 + timedelta(seconds=1)))
    put(client, ended, copy(1, T0 - timedelta(days=2), T0))  # the end is exclusive
    for i, code in enumerate((future, ended)):
        item = ask(client, code, f"r-4-{i}").json()["items"][0]
        assert item["status"] == "02" and item["payload"] is None


def test_my_number_in_a_copy_is_refused(client: TestClient):
    import random
    number = generate_my_number(random.Random(7))
    refused = put(client, code_for("c"), copy(1, T0, note=f"番号 {number}"))
    assert refused.status_code == 422
    assert refused.json()["type"] == "urn:meshcert:problem:my-number-in-copy"
    assert number not in refused.text
    assert ask(client, code_for("c"), "r-5").json()["items"][0]["status"] == "02"


def test_only_the_provider_itself_registers_and_only_the_mesh_asks(client: TestClient):
    code = code_for("d")
    assert put(client, code, copy(1, T0), institution="someone-else").status_code == 403
    assert put(client, code, copy(1, T0), who="mesh").status_code == 403
    assert put(client, code, copy(1, T0), who="admin", institution="someone-else"
               ).status_code == 201
    assert client.post("/v1/provisions", json={}, headers=auth(PROVIDER)).status_code == 403
    assert client.get("/v1/provision-records").status_code == 401
    assert client.get("/v1/provision-records", headers=auth("mesh")).status_code == 403


def test_a_code_filed_by_two_providers_is_refused_not_guessed(client: TestClient):
    code = code_for("shared")
    for institution in ("provider-a", "provider-b"):
        assert put(client, code, copy(1, T0), who="admin", institution=institution
                   ).status_code == 201
    answer = ask(client, code, "r-amb")
    assert answer.status_code == 409
    assert answer.json()["type"] == "urn:meshcert:problem:ambiguous-code"
    records = client.get("/v1/provision-records", headers=auth("demo-jlis-auditor")).json()
    assert records["records"] == []  # refused, not answered: no provision happened


@pytest.mark.parametrize("body, status, slug", [
    ("not json", 400, "malformed-json"),
    ({"data_set_key": "k", "version": 1, "publication_start": "2026-04-01T09:00:00",
      "payload": {}}, 422, "validation-error"),  # no time zone
    ({"data_set_key": "k", "version": "1", "publication_start": "2026-04-01T09:00:00Z",
      "payload": {}}, 422, "validation-error"),
    ({"data_set_key": "k", "version": 1, "publication_start": "2026-04-02T09:00:00Z",
      "publication_end": "2026-04-01T09:00:00Z", "payload": {}}, 422,
     "invalid-publication-window"),
])
def test_bad_registrations_are_problems(client: TestClient, body: Any, status: int, slug: str):
    kwargs = {"content": body, "headers": {**auth(PROVIDER), "content-type": "application/json"}
              } if isinstance(body, str) else {"json": body, "headers": auth(PROVIDER)}
    answer = client.put(f"/v1/copies/{PROVIDER}/{code_for('e')}/{ITEM}", **kwargs)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == f"urn:meshcert:problem:{slug}"


def test_bad_path_and_inquiry_are_problems(client: TestClient):
    bad_code = client.put(f"/v1/copies/{PROVIDER}/not-a-code/{ITEM}", json=copy(1, T0),
                          headers=auth(PROVIDER))
    assert bad_code.status_code == 422
    bad_inquiry = client.post("/v1/provisions", headers=auth("mesh"), json={
        "record_id": "r", "procedure_code": PROCEDURE, "item_code": ITEM,
        "code": "123456789012"})
    assert bad_inquiry.status_code == 422
    assert bad_inquiry.headers["content-type"] == "application/problem+json"


def test_records_are_written_once_per_inquiry_and_survive_a_restart(tmp_path: Path):
    code = code_for("f")
    with TestClient(create_app(jlis_settings(tmp_path))) as c:
        c.app.state.store.clock = lambda: T0
        put(c, code, copy(4, T0 - timedelta(days=1)))
        assert ask(c, code, "rec-1").status_code == 200
        assert ask(c, code_for("none"), "rec-2").status_code == 200
        duplicate = ask(c, code, "rec-1")
        assert duplicate.status_code == 409
        assert duplicate.json()["type"] == "urn:meshcert:problem:duplicate-record-id"
    with TestClient(create_app(jlis_settings(tmp_path))) as c:
        page = c.get("/v1/provision-records", headers=auth("demo-jlis-auditor")).json()
        assert page["has_more"] is False and page["next_after"] == 2
        first, second = page["records"]
        assert first | {"provided_at": None} == {
            "seq": 1, "record_id": "rec-1", "inquirer_client": "mesh", "provider": PROVIDER,
            "procedure_code": PROCEDURE, "item_code": ITEM,
            "requested_at": T0.isoformat().replace("+00:00", "Z"),
            "provided_at": None, "outcome": "provided", "item_status": "01", "copy_version": 4}
        assert (second["record_id"], second["outcome"], second["provider"]) == (
            "rec-2", "no-data", None)
        paged = c.get("/v1/provision-records?after=1&limit=1",
                      headers=auth("demo-jlis-auditor")).json()
        assert [r["record_id"] for r in paged["records"]] == ["rec-2"]


# -- invariant 6, over windows, versions and clock times ------------------------------------

_DATA = tempfile.TemporaryDirectory(prefix="meshcert-jlis-windows-")
hours = st.integers(min_value=-48, max_value=48)
windows = st.lists(st.tuples(hours, st.one_of(st.none(), st.integers(1, 48))),
                   min_size=1, max_size=4)


def expected(versions: list[tuple[int, int | None]], now: int) -> int | None:
    """Version served at hour ``now``: the newest started one, if its window holds now."""
    started = [(v, s, d) for v, (s, d) in enumerate(versions, 1) if s <= now]
    if not started:
        return None
    version, start, length = started[-1]
    return version if length is None or now < start + length else None


@given(versions=windows, nows=st.lists(hours, min_size=1, max_size=5))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_copy_is_never_served_outside_its_window(versions: list[tuple[int, int | None]],
                                                   nows: list[int]):
    app = create_app(jlis_settings(Path(tempfile.mkdtemp(dir=_DATA.name))))
    with TestClient(app) as c:
        code = code_for("window")
        for version, (start, length) in enumerate(versions, 1):
            begin = T0 + timedelta(hours=start)
            end = begin + timedelta(hours=length) if length is not None else None
            body = copy(version, begin, end, v=version)
            assert put(c, code, body).status_code == 201
        for i, now in enumerate(nows):
            app.state.store.clock = lambda now=now: T0 + timedelta(hours=now)
            item = ask(c, code, f"w-{i}").json()["items"][0]
            want = expected(versions, now)
            if want is None:
                assert (item["status"], item["payload"]) == ("02", None)
            else:
                assert (item["status"], item["payload"]) == ("01", {"v": want})
                start, length = versions[want - 1]
                assert start <= now and (length is None or now < start + length)


def test_a_provider_reads_back_its_copies_with_their_windows(client: TestClient):
    code = code_for("versions")
    path = f"/v1/copies/{PROVIDER}/{code}/{ITEM}/versions"
    assert client.get(path, headers=auth(PROVIDER)).json() == {"copies": []}
    put(client, code, copy(1, T0, T0 + timedelta(days=1)))
    put(client, code, copy(2, T0 + timedelta(hours=1)))
    copies = client.get(path, headers=auth(PROVIDER)).json()["copies"]
    assert [(c["version"], datetime.fromisoformat(c["publication_start"]),
             c["publication_end"] and datetime.fromisoformat(c["publication_end"]))
            for c in copies] == [(1, T0, T0 + timedelta(days=1)),
                                 (2, T0 + timedelta(hours=1), None)]
    assert "payload" not in copies[0]  # the window as registered, not the data
    assert client.get(path, headers=auth("mesh")).status_code == 403
