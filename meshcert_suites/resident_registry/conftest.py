"""Fixtures of the resident-registry suites: the seeded population and request builders."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshcert import Harness, Target, generate_population
from meshcert_suites.resident_registry.builders import arrival, person, target_today

SEED_CHUNK = 500  # records per seeding request (the contract allows 1,000)


@pytest.fixture(scope="session")
def lg(target: Target) -> str:
    """The municipality the target serves (its local government code)."""
    return target.municipality


@pytest.fixture(scope="session")
def population(harness: Harness, target: Target) -> list[dict[str, Any]]:
    """The synthetic residents the target holds for this run, seeded once per session.

    With seeding method ``endpoint`` the harness posts them (the first request resets the
    municipality); with ``file`` the vendor loaded the file themselves and it is read back here.
    """
    seeding = target.seeding
    if seeding.method == "file":
        assert seeding.file is not None
        path = Path(harness.base) / seeding.file
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    records = list(generate_population(target.municipality, seeding.persons, seeding.seed))
    token = harness.token(["admin"])
    with harness.client(token) as client:
        for start in range(0, len(records), SEED_CHUNK):
            chunk = records[start:start + SEED_CHUNK]
            response = client.post(seeding.path, json={
                "lg_code": target.municipality, "reset": start == 0, "residents": chunk})
            if response.status_code != 200:
                pytest.fail(f"seeding {seeding.path} failed with {response.status_code}: "
                            f"{response.text[:500]}", pytrace=False)
    return records


# -- security, errors and contract suites --------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox(target: Target) -> str:
    """Where suites may write freely: the second municipality the target hosts when it names
    one (so the seeded population of ``lg`` stays as seeded), else ``lg`` itself."""
    return target.other_municipality or target.municipality


@pytest.fixture
def sandbox_move_in(sandbox: str) -> Any:
    """``sandbox_move_in(*persons, **fields)``: a move-in body into the sandbox municipality,
    at an address there; every person gets a fresh 住民票コード unless given one."""
    import random
    import uuid

    from meshcert.synthetic import generate_juminhyo_code, lookup
    from meshcert_suites.resident_registry.builders import ADDRESS, move_in, person

    place = lookup(sandbox)
    rng = random.Random(uuid.uuid4().int)

    def build(*persons: dict[str, Any], **fields: Any) -> dict[str, Any]:
        people = [{"juminhyo_code": generate_juminhyo_code(rng), **p}
                  for p in (persons or [person()])]
        body = move_in(*people, **fields)
        body["movement"]["address"] = {**ADDRESS, "lg_code": sandbox,
                                       "prefecture": place.prefecture, "city": place.city}
        return body

    return build


# -- identity, dates, characters, feed, movements, move-out and audit suites -------------------

class Clerk:
    """The suites' hands on the target: apply movements, read records, the feed and the log.

    Every call goes through the recorded client it was made with; failure messages say what the
    register was asked and what came back.
    """

    def __init__(self, client: httpx.Client, lg: str) -> None:
        self.client = client
        self.lg = lg
        self.base = f"/municipalities/{lg}"

    # -- writing -------------------------------------------------------------------------

    def move(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        return self.client.post(f"{self.base}/movements", json=body, headers=headers)

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        """Apply a movement that must succeed; its result."""
        response = self.move(body)
        kind = body["movement"]["kind"]
        assert response.status_code in (200, 201), (
            f"the register refused a valid {kind} movement with {response.status_code}: "
            f"{response.text[:600]}")
        return response.json()

    def admit(self, *persons: dict[str, Any], **fields: Any) -> list[dict[str, Any]]:
        """Move ``persons`` in (a new household unless ``setai_number`` is given) a week ago;
        their records as the movement result returned them."""
        on = fields.pop("on", None) or self.today() - timedelta(days=7)
        return self.apply(arrival(self.lg, *persons, on=on, **fields))["affected"]

    def file_moveout(self, notice: dict[str, Any], client: httpx.Client | None = None
                     ) -> httpx.Response:
        return (client or self.client).post(f"{self.base}/moveout-notifications", json=notice)

    def destination(self) -> str:
        """Another municipality to move to."""
        return "271004" if self.lg != "271004" else "131016"

    # -- reading -------------------------------------------------------------------------

    def today(self) -> date:
        return target_today(self.client.get("/health"))

    def read(self, atena: str, client: httpx.Client | None = None) -> dict[str, Any]:
        response = (client or self.client).get(f"{self.base}/residents/{atena}")
        assert response.status_code == 200, (
            f"reading the resident with 宛名番号 {atena} gave {response.status_code}: "
            f"{response.text[:600]}")
        return response.json()

    def find(self, juminhyo: str) -> httpx.Response:
        return self.client.get(f"{self.base}/residents", params={"juminhyo_code": juminhyo})

    def household(self, setai: str, client: httpx.Client | None = None) -> dict[str, Any]:
        response = (client or self.client).get(f"{self.base}/households/{setai}")
        assert response.status_code == 200, (
            f"reading the household with 世帯番号 {setai} gave {response.status_code}: "
            f"{response.text[:600]}")
        return response.json()

    def page(self, after: int, limit: int = 1000, client: httpx.Client | None = None,
             path: str = "changes") -> dict[str, Any]:
        response = (client or self.client).get(f"{self.base}/{path}",
                                               params={"after": after, "limit": limit})
        assert response.status_code == 200, (
            f"reading {path} after {after} gave {response.status_code}: {response.text[:600]}")
        return response.json()

    def end(self, path: str = "changes") -> int:
        """The cursor after the last entry of the difference feed (or the audit log): found by
        galloping and bisecting with one-entry pages, so a long history costs few requests."""
        def beyond(after: int) -> bool:
            return bool(self.page(after, 1, path=path)["entries"])

        low = 0
        if beyond(low):
            step = 64
            while beyond(low + step):
                low, step = low + step, step * 2
            high = low + step  # beyond(low) and not beyond(high)
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if beyond(middle) else (low, middle)
        return int(self.page(low, 1000, path=path)["next_after"])

    def changes_after(self, after: int, limit: int = 1000, client: httpx.Client | None = None,
                      path: str = "changes") -> list[dict[str, Any]]:
        """Every entry after ``after``, following next_after to the end."""
        entries: list[dict[str, Any]] = []
        for _ in range(10_000):
            body = self.page(after, limit, client, path)
            entries += body["entries"]
            after = body["next_after"]
            if not body["has_more"]:
                return entries
        raise AssertionError(f"{path} never reported has_more=false")


@pytest.fixture
def clerk(api: httpx.Client, lg: str, population: list[dict[str, Any]]) -> Clerk:
    """A clerk with every scope, on a target already seeded (so nothing a test creates is
    removed by a later reseed)."""
    return Clerk(api, lg)


@pytest.fixture
def client_with(harness: Harness, request: pytest.FixtureRequest) -> Any:
    """``client_with(*scopes)``: a recorded client whose token carries only those scopes."""
    made: list[httpx.Client] = []

    def make(*scopes: str) -> httpx.Client:
        client = harness.client(token=harness.token(scopes=list(scopes)),
                                recorder=harness.recorder_for(request.node))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def applicant(clerk: Clerk) -> dict[str, Any]:
    """A resident (moved in two months ago) who can file an online move-out."""
    [record] = clerk.admit(person("高橋", "誠", "02", kana=("タカハシ", "マコト")),
                           on=clerk.today() - timedelta(days=60))
    return record
