"""The operation log: every read and write of a resident record with operator, time, target and
whether the My Number was read; hash-chained so tampering shows (DOMAIN.md §6.14)."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from meshcert.harness import HARNESS_CLIENT
from suites.resident_registry.builders import arrival, fresh_id, person

GENESIS = "0" * 64
LOG = "audit-log"


def logged(clerk, after: int, response: httpx.Response) -> list[dict[str, Any]]:
    """The log entries written for one exchange (matched by its X-Request-ID)."""
    request_id = response.request.headers["x-request-id"]
    return [e for e in clerk.changes_after(after, path=LOG) if e.get("request_id") == request_id]


def check_logged(entries: list[dict[str, Any]], target: str, mynumber: bool, what: str,
                 response: httpx.Response) -> None:
    about = [e for e in entries if target in str(e.get("target"))]
    assert about, (
        f"{what} (request {response.request.headers['x-request-id']}) left no entry about "
        f"{target} in the operation log; entries of that request: {entries[:5]}")
    entry = about[0]
    assert entry.get("operator") == HARNESS_CLIENT, (
        f"the log entry of {what} names the operator {entry.get('operator')!r}, not the client "
        f"that acted ({HARNESS_CLIENT!r})")
    assert entry.get("mynumber_accessed") is mynumber, (
        f"the log entry of {what} says mynumber_accessed={entry.get('mynumber_accessed')!r}; "
        f"the caller {'did' if mynumber else 'did not'} receive the My Number")
    stamp = response.headers.get("date")
    served = parsedate_to_datetime(stamp) if stamp else datetime.now(UTC)
    try:
        at = datetime.fromisoformat(str(entry.get("at")))
    except ValueError:
        raise AssertionError(f"the log entry of {what} has no readable time: "
                             f"{entry.get('at')!r}") from None
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    assert abs(at - served) < timedelta(minutes=5), (
        f"the log entry of {what} is stamped {entry.get('at')}, but the exchange happened at "
        f"{served.isoformat()}")


def traced(client: httpx.Client, path: str, **params: str) -> httpx.Response:
    response = client.get(path, params=params or None,
                          headers={"X-Request-ID": fresh_id("audit")})
    assert response.status_code == 200, f"GET {path} gave {response.status_code}"
    return response


# -- AUDIT-LOG-001 ----------------------------------------------------------------------------


@pytest.mark.requirement("AUDIT-LOG-001")
def test_a_read_without_the_my_number_is_logged_as_such(clerk, client_with, population):
    start = clerk.end(LOG)
    atena = population[5]["atena_number"]
    response = traced(client_with("registry:read"), f"{clerk.base}/residents/{atena}")
    check_logged(logged(clerk, start, response), atena, False,
                 f"a read of resident {atena} without the My Number", response)


@pytest.mark.requirement("AUDIT-LOG-001")
def test_a_read_with_the_my_number_is_logged_as_my_number_access(clerk, population):
    start = clerk.end(LOG)
    atena = population[6]["atena_number"]
    response = traced(clerk.client, f"{clerk.base}/residents/{atena}")
    check_logged(logged(clerk, start, response), atena, True,
                 f"a read of resident {atena} with the My Number", response)


@pytest.mark.requirement("AUDIT-LOG-001")
def test_household_reads_and_searches_are_logged_for_every_record_read(clerk, client_with,
                                                                       population):
    reader = client_with("registry:read")
    start = clerk.end(LOG)
    seeded = population[7]
    household = traced(reader, f"{clerk.base}/households/{seeded['setai_number']}")
    entries = logged(clerk, start, household)
    for member in household.json()["members"]:
        check_logged(entries, member["atena_number"], False,
                     f"a read of household {seeded['setai_number']}", household)
    search = traced(reader, f"{clerk.base}/residents", juminhyo_code=seeded["juminhyo_code"])
    check_logged(logged(clerk, start, search), seeded["atena_number"], False,
                 f"a search by 住民票コード {seeded['juminhyo_code']}", search)


@pytest.mark.requirement("AUDIT-LOG-001")
def test_writes_are_logged_with_operator_and_target(clerk):
    start = clerk.end(LOG)
    body = arrival(clerk.lg, person("池田", "実", "02", kana=("イケダ", "ミノル")),
                   person("池田", "幸", "12", kana=("イケダ", "サチ"), sex="2"),
                   on=clerk.today() - timedelta(days=5))
    response = clerk.move(body, **{"X-Request-ID": fresh_id("audit")})
    assert response.status_code in (200, 201), (
        f"a valid move-in was refused with {response.status_code}: {response.text[:300]}")
    entries = logged(clerk, start, response)
    for record in response.json()["affected"]:
        check_logged(entries, record["atena_number"], False,
                     f"the move-in of {record['atena_number']}", response)


# -- AUDIT-CHAIN-001 --------------------------------------------------------------------------


def entry_hash(entry: dict[str, Any]) -> str:
    """The documented chain rule: SHA-256 (hex) of the compact JSON array of the entry's fields
    in this order, with the previous entry's hash last (UTF-8, non-ASCII kept as is)."""
    fields = [entry["scope"], entry["seq"], entry["at"], entry["operator"], entry["action"],
              entry["target"], entry["mynumber_accessed"], entry["request_id"], entry["prev_hash"]]
    canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_entry(entry: dict[str, Any]) -> None:
    assert entry_hash(entry) == entry["hash"], (
        f"log entry {entry['seq']} does not hash to its recorded hash: recomputed "
        f"{entry_hash(entry)}, recorded {entry['hash']} (entry {entry})")


@pytest.mark.requirement("AUDIT-CHAIN-001")
def test_the_exported_log_recomputes_as_an_unbroken_hash_chain(clerk, population):
    start = clerk.end(LOG)
    [record] = clerk.admit(person("橋本", "光", "02", kana=("ハシモト", "ヒカル")))
    clerk.read(record["atena_number"])
    clerk.household(population[8]["setai_number"])
    first = clerk.page(0, 1, path=LOG)["entries"]
    assert first, "the operation log is empty after reads and writes"
    assert first[0]["prev_hash"] == GENESIS, (
        f"the first log entry links to {first[0]['prev_hash']}, not the genesis value {GENESIS}")
    check_entry(first[0])
    segment = clerk.changes_after(max(0, start - 50), path=LOG)
    assert len(segment) >= 4, f"only {len(segment)} log entries after {start - 50}"
    for entry in segment:
        check_entry(entry)
    for earlier, later in itertools.pairwise(segment):
        assert later["seq"] == earlier["seq"] + 1, (
            f"log entry {earlier['seq']} is followed by {later['seq']}: entries are missing")
        assert later["prev_hash"] == earlier["hash"], (
            f"log entry {later['seq']} links to prev_hash {later['prev_hash']}, not to the hash "
            f"of entry {earlier['seq']} ({earlier['hash']}): the chain is broken")
    check = clerk.client.get(f"{clerk.base}/{LOG}/verification").json()
    assert check.get("valid") is True, f"the register's own chain verification fails: {check}"
