"""The operation log: every read and write of a resident record with operator, time, target and
whether the My Number was read; hash-chained so tampering shows (docs/domain.md §6.14)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from meshcert import HARNESS_CLIENT
from meshcert.checks.public_rules import is_issuable_mod11_body, mod11_check_digit
from meshcert_suites.resident_registry.builders import (
    arrival,
    examples,
    fresh_id,
    juminhyo_code,
    person,
)

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


# -- AUDIT-LOG-001: every read and every refused read, as a property ---------------------------
#
# The contract (exportAuditLog) says what each read logs: one entry per record read, with the
# caller's client id, the record and whether the My Number went out; a refused read of a known
# caller (403 for a scope or a municipality, 404 for a record that does not exist) one entry
# with the suffix ``.refused``. The entries of each call are found by its X-Request-ID and held
# against what crossed: the status, and whether the body carried a My Number.

CALLERS = ("with-my-number", "reader", "no-read-scope", "other-municipality")
READS = ("resident", "find", "household")
REFUSED = ".refused"


def unknown_atena(rng: random.Random) -> str:
    """A 宛名番号 of the right form (modulus-11) that no register issues in this test's run."""
    while True:
        body = f"9{rng.randrange(10**8):08d}"
        if is_issuable_mod11_body(body):
            return body + mod11_check_digit(body)


class Reads:
    """The calls of the property: a reader per kind of caller, and the URL of each read."""

    def __init__(self, clerk, client_with, harness, request, population) -> None:
        self.clerk = clerk
        elsewhere = harness.client(token=harness.token(municipalities=[clerk.destination()]),
                                   recorder=harness.recorder_for(request.node))
        request.addfinalizer(elsewhere.close)
        self.clients = {"with-my-number": clerk.client,
                        "reader": client_with("registry:read"),
                        "no-read-scope": client_with("moveout:submit", "audit:read"),
                        "other-municipality": elsewhere}
        self.population = population

    def url(self, read: str, known: bool, index: int, rng: random.Random
            ) -> tuple[str, dict[str, str] | None, str]:
        """(path, query, the identifier the read asks for)."""
        seeded = self.population[index % len(self.population)]
        if read == "resident":
            atena = seeded["atena_number"] if known else unknown_atena(rng)
            return f"{self.clerk.base}/residents/{atena}", None, atena
        if read == "find":
            code = seeded["juminhyo_code"] if known else juminhyo_code()
            return f"{self.clerk.base}/residents", {"juminhyo_code": code}, code
        setai = seeded["setai_number"] if known else unknown_atena(rng)
        return f"{self.clerk.base}/households/{setai}", None, setai


def records_served(read: str, response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    return body.get("members", []) if read == "household" else [body]


def check_call(entries: list[dict[str, Any]], call: str, read: str, asked: str,
               response: httpx.Response, entitled: bool) -> None:
    """The log entries of one call agree with what crossed (``entitled``: the caller may
    read the My Number)."""
    what = f"{call} (answered {response.status_code}, request " \
           f"{response.request.headers['x-request-id']})"
    assert entries, f"{what} left no entry in the operation log"
    for entry in entries:
        assert entry.get("operator") == HARNESS_CLIENT, (
            f"the log entry of {what} names the operator {entry.get('operator')!r}, not the "
            f"client that called ({HARNESS_CLIENT!r}): {entry}")
    if response.status_code == 200:
        served = records_served(read, response)
        for record in served:
            about = [e for e in entries if record["atena_number"] in str(e.get("target"))]
            assert about, (f"{what} served the record {record['atena_number']} but the log has "
                           f"no entry about it; entries of that request: {entries[:5]}")
            assert not str(about[0].get("action", "")).endswith(REFUSED), (
                f"{what} was served, but its log entry says refused: {about[0]}")
            if "my_number" in record and not entitled:
                continue  # a My Number to a caller without the scope: PRIV-MYNUM-001 judges it
            assert about[0].get("mynumber_accessed") is ("my_number" in record), (
                f"{what}: the log entry says mynumber_accessed="
                f"{about[0].get('mynumber_accessed')!r} for {record['atena_number']}, but the "
                f"My Number {'was' if 'my_number' in record else 'was not'} in the answer")
        return
    assert response.status_code in (403, 404), (
        f"{what}: expected 200, 403 or 404 for a read by an authenticated caller")
    assert len(entries) == 1, (
        f"{what} was refused and must leave exactly one entry (the documented "
        f"'<action>.refused'); it left {len(entries)}: {entries[:5]}")
    [entry] = entries
    assert str(entry.get("action", "")).endswith(REFUSED), (
        f"{what} was refused, but its log entry has the action {entry.get('action')!r}, not "
        f"one ending in {REFUSED!r} (as documented)")
    assert asked in str(entry.get("target")), (
        f"the log entry of the refused {what} names the target {entry.get('target')!r}, not "
        f"the identifier asked for ({asked})")
    assert entry.get("mynumber_accessed") is False, (
        f"the log entry of the refused {what} says a My Number was read: {entry}")


@pytest.mark.requirement("AUDIT-LOG-001")
@examples(4)
@given(calls=st.lists(st.tuples(st.sampled_from(READS), st.sampled_from(CALLERS),
                                st.booleans(), st.integers(0, 10_000)),
                      min_size=2, max_size=6),
       salt=st.integers(0, 2**32))
@example(calls=[(read, caller, known, 3) for read in READS for caller in CALLERS
                for known in (True, False)][::3], salt=1)
def test_every_read_and_every_refused_read_leaves_an_entry_that_agrees_with_what_crossed(
        clerk, client_with, harness, request, population, calls, salt):
    reads = Reads(clerk, client_with, harness, request, population)
    rng = random.Random(salt)
    start = clerk.end(LOG)
    made = []
    for read, caller, known, index in calls:
        path, params, asked = reads.url(read, known, index, rng)
        response = reads.clients[caller].get(path, params=params,
                                             headers={"X-Request-ID": fresh_id("audit")})
        made.append((f"a {read} read of {'a known' if known else 'an unknown'} {asked} by a "
                     f"{caller} caller", read, asked, response, caller == "with-my-number"))
    log = clerk.changes_after(start, path=LOG)
    for call, read, asked, response, entitled in made:
        request_id = response.request.headers["x-request-id"]
        check_call([e for e in log if e.get("request_id") == request_id], call, read, asked,
                   response, entitled)


# -- AUDIT-CHECKPOINT-001 ---------------------------------------------------------------------
#
# A checkpoint is a compact JWS (ES256) over {scope, seq, head_hash, signed_at}: entry seq of
# the chain had hash head_hash. The keys that verify it are at .../audit-log/keys.


def checkpoint_of(clerk, export: dict[str, Any]) -> dict[str, Any]:
    """The export's checkpoint, its payload verified with the published keys (and equal to the
    fields beside it)."""
    checkpoint = export.get("checkpoint")
    assert isinstance(checkpoint, dict) and checkpoint.get("jws"), (
        f"the export carries no signed checkpoint of the chain's head: {str(export)[:300]}")
    keys = clerk.client.get(f"{clerk.base}/{LOG}/keys")
    assert keys.status_code == 200, (
        f"the checkpoint keys (GET {clerk.base}/{LOG}/keys) gave {keys.status_code}: "
        f"{keys.text[:300]}")
    try:
        key_set = KeySet.import_key_set(keys.json())
        payload = json.loads(jws.deserialize_compact(checkpoint["jws"], key_set,
                                                     algorithms=["ES256"]).payload)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise AssertionError(f"the export's checkpoint does not verify with the published "
                             f"keys ({exc}): {checkpoint}") from None
    beside = {k: checkpoint.get(k) for k in ("scope", "seq", "head_hash")}
    signed = {k: payload.get(k) for k in ("scope", "seq", "head_hash")}
    assert beside == signed, (f"the checkpoint's fields {beside} differ from what its "
                              f"signature covers {signed}")
    assert signed["scope"] == clerk.lg, (
        f"the checkpoint of {clerk.lg}'s log signs the chain of {signed['scope']!r}")
    return {**checkpoint, **payload}


def holds(checkpoint: dict[str, Any], entries: list[dict[str, Any]]) -> bool:
    """Whether a copy of the chain (from entry 1) still holds a checkpoint's entry."""
    seq = checkpoint["seq"]
    return seq == 0 or (len(entries) >= seq and entries[seq - 1]["hash"] == checkpoint["head_hash"])


def grow(clerk) -> None:
    """One more entry in the log: a write (every write is logged)."""
    clerk.admit(person("錨", "頭", "02", kana=("イカリ", "カシラ")))


@pytest.mark.requirement("AUDIT-CHECKPOINT-001")
def test_every_export_carries_a_signed_checkpoint_of_the_newest_entry(clerk):
    for _ in range(2):  # the checkpoint moves with the head
        grow(clerk)
        end = clerk.end(LOG)
        [newest] = clerk.page(end - 1, 1, path=LOG)["entries"]
        export = clerk.page(0, 1, path=LOG)  # any page: the checkpoint is of the head
        checkpoint = checkpoint_of(clerk, export)
        assert (checkpoint["seq"], checkpoint["head_hash"]) == (end, newest["hash"]), (
            f"the export's checkpoint signs entry {checkpoint['seq']} "
            f"({checkpoint['head_hash']}), but the newest entry is {end} ({newest['hash']}): "
            f"entries after the checkpoint could be cut off unseen")
    chain = clerk.changes_after(0, path=LOG)
    assert holds(checkpoint, chain), "the exported chain does not hold its own checkpoint"
    assert not holds(checkpoint, chain[:-1]), (
        "a copy of the log cut short by its newest entry still holds the checkpoint")


@pytest.mark.requirement("AUDIT-CHECKPOINT-001")
def test_the_verification_holds_the_chain_against_a_kept_checkpoint(clerk):
    grow(clerk)
    kept = checkpoint_of(clerk, clerk.page(0, 1, path=LOG))
    grow(clerk)  # the chain grows past the kept checkpoint
    url = f"{clerk.base}/{LOG}/verification"
    plain = clerk.client.get(url)
    check = clerk.client.get(url, params={"checkpoint": kept["jws"]})
    assert check.status_code == 200, (
        f"the verification against the kept checkpoint of entry {kept['seq']} gave "
        f"{check.status_code}: {check.text[:400]}")
    # Whether the chain itself recomputes is AUDIT-CHAIN-001's; a checkpoint the chain still
    # holds must not change the verdict.
    assert check.json().get("valid") is plain.json().get("valid"), (
        f"the chain still holds the kept checkpoint of entry {kept['seq']}, yet the "
        f"verification with it says valid={check.json().get('valid')} and without it "
        f"valid={plain.json().get('valid')}: {check.text[:400]}")
    # A chain that does not recompute is invalid before any checkpoint is read (AUDIT-CHAIN-001).
    assert check.json().get("valid") is False or check.json().get("checkpoints_checked", 0) >= 1, (
        f"the verification checked no checkpoint although one was given: {check.text[:300]}")
    head = check.json().get("checkpoint") or {}
    assert not check.json().get("valid") or head.get("seq", 0) > kept["seq"], (
        f"the verification's checkpoint of the head ({head}) does not cover the entries "
        f"written after the kept checkpoint of entry {kept['seq']}")
    header, payload, signature = kept["jws"].split(".")
    claims = {**json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))),
              "seq": kept["seq"] + 10_000}  # the signature no longer covers it
    forged = f"{header}.{_b64(claims)}.{signature}"
    refused = clerk.client.get(url, params={"checkpoint": forged})
    assert refused.status_code == 422, (
        f"a checkpoint whose payload was changed after signing (seq {claims['seq']}) was "
        f"answered {refused.status_code}, not refused with 422 invalid-checkpoint: "
        f"{refused.text[:300]}")


def _b64(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
