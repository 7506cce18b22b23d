"""The demo's walk-throughs over real HTTP, each on its bundled reference started on free ports
(meshcert.walkthrough): a person logs in at the reference bank and the bank shows the
registry's facts it got through the gateway, which recorded the provision; a person's online
move-out reaches 完了 and shows in their history at the portal; a proxy's filing is refused
outside the delegation's scope, accepted within it, and shows in the principal's history. A walk
that fails says why and stops what it started all the same."""

from __future__ import annotations

import re

import httpx
import pytest

from meshcert.certify.verdicts import HarnessFault
from meshcert.walkthrough import (
    Transcript,
    WalkFailed,
    bank_login,
    walk_bank_login,
    walk_online_moveout,
)
from meshcert.walkthrough.stage import LOGS


def _all_stopped(told: Transcript, count: int) -> None:
    """The simulators the walk said it started answer no more."""
    urls = [m.group(1) for line in told.lines
            if (m := re.search(r"(http://127\.0\.0\.1:\d+)  \(", line))]
    assert len(urls) == count, told.lines[:12]
    for url in urls:
        try:
            httpx.get(f"{url}/health", timeout=2)
        except httpx.TransportError:
            continue
        raise AssertionError(f"{url} still answers after the walk-through")


def test_a_person_logs_in_at_the_bank_and_it_shows_the_registrys_facts():
    told = Transcript()
    seen = walk_bank_login(told)
    assert set(seen.scopes_asked) == {"openid", "name", "address", "birthdate"}
    assert seen.purpose_on_page
    assert seen.facts_shown == ["name", "birthdate", "address"], seen.shown
    assert seen.leaks == []
    assert seen.provision_records, "the gateway recorded no provision to the bank"
    assert {r["client_id"] for r in seen.provision_records} == {"bank-account-opening"}
    assert any(seen.person.surname in line for line in told.lines)
    _all_stopped(told, 6)       # authz, the registry, jpki, idp, gateway and the bank
    assert any(LOGS.glob("walk-private-service-*/bank.log"))   # the logs outlive the run


def test_a_person_then_a_proxy_move_out_to_completion_and_into_the_history():
    told = Transcript()
    seen = walk_online_moveout(told)
    person, proxy = seen.person, seen.proxy
    assert person.statuses == ["受付", "処理中", "完了"]
    assert person.filed_by == "person" and person.filer == person.applicant
    (entry,) = person.history
    assert entry["source"] == "portal" and entry["outcome"] == "forwarded"

    assert proxy.refused["accepted"] is False and proxy.refused["status"] in (403, 422)
    assert proxy.filed_by == "proxy" and proxy.filer != proxy.applicant
    assert proxy.statuses == ["受付", "処理中", "完了"]
    (entry,) = proxy.history                   # read with the principal's own login
    assert entry["record_id"] == proxy.moveout_id
    assert entry["purpose"] == "転出届 (moveout, filed by a proxy)"

    for run in (person.run, proxy.run):
        assert [s.name for s in run.steps] == ["authentication", "form", "submission",
                                               "status 完了 visible"]
        assert 0 < run.machine_ms <= seen.budget_ms
    assert any("Machine-side time" in line for line in told.lines)
    _all_stopped(told, 8)       # … two registries, the portal and the front app


def test_a_walk_that_fails_says_why_and_still_stops_its_simulators(
        monkeypatch: pytest.MonkeyPatch):
    def broken(*_: object, **__: object) -> None:
        raise HarnessFault("the registry seeded nobody")

    monkeypatch.setattr(bank_login.Registry, "persons", broken)
    told = Transcript()
    with pytest.raises(WalkFailed, match="the registry seeded nobody"):
        walk_bank_login(told)
    _all_stopped(told, 6)
