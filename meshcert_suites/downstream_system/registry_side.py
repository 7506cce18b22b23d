"""The harness as the registry a downstream system follows: movements written through the
registry's API (the population of this run, tracked from the movement results), its feed read
as the oracle, faults put on the feed, what the system asked of it (exchange capture), and a
restart of the registry process."""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshcert import Harness, HarnessFault, ensure_harness_ok
from meshcert.backends import processes
from meshcert_simulators.common.tls import shared_client_context

JST = timezone(timedelta(hours=9))
FEED_PAGE = 1000
PREFECTURE, CITY = "東京都", "千代田区"
TOWNS = ("霞が関一丁目", "永田町二丁目", "丸の内三丁目", "神田神保町一丁目", "麹町四丁目")
# Plain names: the property checks order and state, DOWN-TEXT-001 the hard characters.
SURNAMES = (("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("田中", "タナカ"))
GIVEN = (("太郎", "タロウ", "1"), ("花子", "ハナコ", "2"), ("一郎", "イチロウ", "1"),
         ("陽子", "ヨウコ", "2"))
_serial = itertools.count(1)


def today() -> str:
    return datetime.now(JST).date().isoformat()


def address(n: int, lg_code: str) -> dict[str, Any]:
    return {"lg_code": lg_code, "prefecture": PREFECTURE, "city": CITY,
            "town": TOWNS[n % len(TOWNS)], "banchi": f"{n % 9 + 1}-{n % 17 + 1}"}


def plain_person(n: int, relationship: str) -> dict[str, Any]:
    surname, surname_kana = SURNAMES[n % len(SURNAMES)]
    given, given_kana, sex = GIVEN[n % len(GIVEN)]
    return {"name": {"surname": surname, "given_name": given, "surname_kana": surname_kana,
                     "given_name_kana": given_kana},
            "sex": sex, "birth_date": {"iso": f"{1950 + n % 60}-0{n % 9 + 1}-1{n % 9}"},
            "relationship": relationship}


def newborn(n: int) -> dict[str, Any]:
    """A child born today (a birth's date is its event date)."""
    return {**plain_person(n, "20"), "birth_date": {"iso": today()}}


def dated(movement: dict[str, Any]) -> dict[str, Any]:
    day = today()
    return {"movement": {"event_date": day, "notified_date": day, **movement}}


class Registry:
    """The registry of the system's municipality, as the harness (its static token)."""

    def __init__(self, harness: Harness, lg_code: str, topology_path: Path | None) -> None:
        topology = harness.topology
        self.harness = harness
        self.topology_path = topology_path
        self.lg_code = lg_code
        self.name = next((n for n, s in topology.simulators.items()
                          if s.kind == "municipal" and lg_code in s.municipalities), None)
        client = next((c for c in topology.clients if c.token and "registry:write" in c.roles
                       and "admin" in c.roles), None)
        captured = self.name is not None and topology.simulator(self.name).capture_exchanges
        if not captured or client is None:
            pytest.fail(f"the harness topology {topology.name!r} needs a municipal simulator "
                        f"hosting {lg_code} with capture_exchanges, and a client with a token "
                        "and the roles admin and registry:write (fixtures/topologies/"
                        "downstream-system.yaml has both)", pytrace=False)
        self.url = topology.url(self.name)
        self.token = str(client.token)
        self.lock = threading.Lock()
        self.read_up_to = 0                          # the feed read so far (the oracle)
        self.seqs: dict[str, list[int]] = defaultdict(list)
        self.latest: dict[str, dict[str, Any]] = {}
        self.http = self._client()

    def _client(self) -> httpx.Client:
        return httpx.Client(verify=shared_client_context(), base_url=self.url, timeout=15.0,
                            headers={"Authorization": f"Bearer {self.token}"})

    # -- writing ----------------------------------------------------------------------------

    def move(self, movement: dict[str, Any], *, refusable: bool = False
             ) -> list[dict[str, Any]]:
        """Apply a movement; the records it changed. ``refusable``: a 409/422 of the registry
        (a movement its rules refuse) is no change, not a harness fault."""
        body = dated(movement)
        body["movement"]["event_id"] = f"down-{time.time_ns()}-{next(_serial)}"
        with self.lock:
            answer = self.http.post(f"/municipalities/{self.lg_code}/movements", json=body)
        if refusable and answer.status_code in (409, 422):
            return []
        ensure_harness_ok(answer, f"apply a {movement['kind']} at the registry", ok=(200, 201))
        return list(answer.json()["affected"])

    def move_in(self, persons: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
        return self.move({"kind": "move-in", "persons": persons,
                          "address": address(n, self.lg_code)})

    def household_of(self, n: int, size: int = 3) -> list[dict[str, Any]]:
        """A new household of ``size`` plain persons (head, spouse, children)."""
        roles = ["02", "12"] + ["20"] * (size - 2)
        return self.move_in([plain_person(n + i, roles[i]) for i in range(size)], n)

    # -- the oracle -------------------------------------------------------------------------

    def read_feed(self) -> int:
        """Read the feed from where the oracle stopped; the last seq."""
        with self.lock:
            while True:
                answer = self.http.get(f"/municipalities/{self.lg_code}/changes",
                                       params={"after": self.read_up_to, "limit": FEED_PAGE})
                ensure_harness_ok(answer, "read the registry's feed")
                page = answer.json()
                for entry in page["entries"]:
                    self.seqs[entry["atena_number"]].append(int(entry["seq"]))
                    self.latest[entry["atena_number"]] = entry["record"]
                self.read_up_to = int(page["next_after"])
                if not page["has_more"]:
                    return self.read_up_to

    def record(self, atena_number: str) -> dict[str, Any]:
        answer = self.http.get(f"/municipalities/{self.lg_code}/residents/{atena_number}")
        ensure_harness_ok(answer, f"read resident {atena_number} at the registry")
        return dict(answer.json())

    # -- what the system asked ----------------------------------------------------------------

    def exchanges(self, client_id: str, after: int = 0) -> list[dict[str, Any]]:
        answer = self.http.get("/admin/exchanges", params={
            "client_id": client_id, "after": after,
            "path_prefix": f"/municipalities/{self.lg_code}/changes"})
        ensure_harness_ok(answer, "read what the system asked of the registry")
        return list(answer.json()["exchanges"])

    def last_exchange(self) -> int:
        answer = self.http.get("/admin/exchanges", params={"limit": 1,
                                                           "client_id": "-nobody-"})
        ensure_harness_ok(answer, "read the registry's exchange count")
        return int(answer.json()["last_seq"])

    # -- faults and restarts ------------------------------------------------------------------

    def fault(self, scope: str, plan: dict[str, Any]) -> None:
        answer = self.http.put(f"/admin/faults/{scope}", json=plan)
        ensure_harness_ok(answer, f"put fault plan {scope} on the registry", ok=(200, 201))

    def clear_fault(self, scope: str) -> None:
        answer = self.http.delete(f"/admin/faults/{scope}")
        ensure_harness_ok(answer, f"clear fault plan {scope}", ok=(200, 204, 404))

    def restart(self, down_s: float = 0.0) -> None:
        """Stop the registry process and start it again (its data survives); ``down_s``: how
        long it stays away."""
        run_dir, topology_path = self.harness.run_dir, self.topology_path
        if processes.running_pid(run_dir, self.name) is None or topology_path is None:
            raise HarnessFault(f"the registry {self.name!r} does not run as a process of "
                               f"{run_dir}: the harness cannot restart it")
        self.http.close()
        processes.down(run_dir, [self.name])
        time.sleep(down_s)
        processes.up(topology_path, run_dir, [self.name])
        self.http = self._client()


def now_utc() -> datetime:
    return datetime.now(UTC)
