"""Request bodies for the resident-registry API, with sensible defaults to override."""

from __future__ import annotations

import functools
import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from hypothesis import HealthCheck, settings

from meshcert import fixture_path, generate_juminhyo_code, generate_my_number, lookup

JST = timezone(timedelta(hours=9))  # the register's calendar day is Japan's (no daylight saving)
LG = "131016"
ADDRESS = {"lg_code": LG, "machiaza_id": "0010002", "prefecture": "東京都", "city": "千代田区",
           "town": "霞が関二丁目", "banchi": "1-6", "building": None}


def person(surname: str = "山田", given: str = "太郎", relationship: str = "02", *,
           kana: tuple[str, str] = ("ヤマダ", "タロウ"), sex: str = "1",
           birth: dict[str, Any] | None = None, my_number: str | None = None,
           juminhyo_code: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": {"surname": surname, "given_name": given, "surname_kana": kana[0],
                 "given_name_kana": kana[1]},
        "sex": sex, "birth_date": birth or {"iso": "1980-05-01"}, "relationship": relationship}
    if my_number:
        body["my_number"] = my_number
    if juminhyo_code:
        body["juminhyo_code"] = juminhyo_code
    return body


def move_in(*persons: dict[str, Any], on: date | None = None, event_id: str | None = None,
            setai_number: str | None = None) -> dict[str, Any]:
    on = on or date(2026, 11, 20)
    movement: dict[str, Any] = {
        "kind": "move-in", "event_date": on.isoformat(),
        "notified_date": (on + timedelta(days=1)).isoformat(),
        "persons": list(persons) or [person()], "address": ADDRESS}
    if event_id:
        movement["event_id"] = event_id
    if setai_number:
        movement["setai_number"] = setai_number
    return {"movement": movement}


def movement(kind: str, on: date | None = None, **fields: Any) -> dict[str, Any]:
    on = on or date(2026, 11, 20)
    return {"movement": {"kind": kind, "event_date": on.isoformat(),
                         "notified_date": on.isoformat(), **fields}}


# -- for suites that create their own people (any municipality, any run) ----------------------


def address_in(lg_code: str, **fields: Any) -> dict[str, Any]:
    """An address in municipality ``lg_code`` (its prefecture and city by JIS X 0402)."""
    try:
        place = lookup(lg_code)
        names = {"prefecture": place.prefecture, "city": place.city}
    except ValueError:
        names = {"prefecture": ADDRESS["prefecture"], "city": ADDRESS["city"]}
    return {**ADDRESS, "lg_code": lg_code, **names, **fields}


# Hex digits spelled as letters: an id never holds a run of 12 digits, which the identifier
# detector would rightly take for a My Number wherever it crosses (1 in 10 such runs passes).
_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def fresh_id(prefix: str) -> str:
    """An event or application id no other test (or earlier run) has used (letters only after
    the prefix: no digit run an identifier check could mistake for a number)."""
    return f"{prefix}-{uuid.uuid4().hex[:20].translate(_LETTERS)}"


def juminhyo_code() -> str:
    """A fresh 住民票コード (11 digits, check digit by the harness's assumed rule)."""
    return generate_juminhyo_code(random.SystemRandom())


def my_number() -> str:
    """A fresh synthetic My Number (12 digits, valid check digit; never a real person's)."""
    return generate_my_number(random.SystemRandom())


def arrival(lg_code: str, *persons: dict[str, Any], on: date, notified: date | None = None,
            processed: date | None = None, event_id: str | None = None,
            setai_number: str | None = None) -> dict[str, Any]:
    """A move-in into ``lg_code`` on ``on``; every person gets a fresh 住民票コード unless given
    one, and the movement a fresh event id unless given one."""
    people = [{"juminhyo_code": juminhyo_code(), **p} for p in (persons or [person()])]
    body = move_in(*people, on=on, event_id=event_id or fresh_id("in"),
                   setai_number=setai_number)
    body["movement"]["address"] = address_in(lg_code)
    if notified is not None:
        body["movement"]["notified_date"] = notified.isoformat()
    if processed is not None:
        body["movement"]["processed_date"] = processed.isoformat()
    return body


def moveout_notice(applicant: dict[str, Any], moving: date, *, destination: str = "271004",
                   country: str = "JP", application_id: str | None = None,
                   companions: list[str] | None = None) -> dict[str, Any]:
    """An online move-out notification (転出届) filed by ``applicant`` (a resident record)."""
    return {
        "application_id": application_id or fresh_id("app"),
        "applicant": {"juminhyo_code": applicant["juminhyo_code"],
                      "surname": applicant["name"]["surname"],
                      "given_name": applicant["name"]["given_name"],
                      "birth_date": applicant["birth_date"]["iso"]},
        "moving_date": moving.isoformat(),
        "destination": {"lg_code": destination, "address": "大阪市北区梅田一丁目1-1",
                        "country": country},
        "companions": companions or [],
    }


def examples(count: int) -> Any:
    """Hypothesis settings for the suites: few examples, the same ones on every run (a vendor
    replays exactly what failed), and no deadline (latency is measured elsewhere)."""
    return settings(max_examples=count, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def target_today(response: httpx.Response | None = None) -> date:
    """Today in Japan by the target's own clock (its HTTP ``Date`` header), else by ours."""
    stamp = response.headers.get("date") if response is not None else None
    try:
        moment = parsedate_to_datetime(stamp) if stamp else datetime.now(UTC)
    except (TypeError, ValueError):
        moment = datetime.now(UTC)
    return moment.astimezone(JST).date()


CONTRACT = fixture_path("specs", "resident-registry.openapi.json")


@functools.cache
def contract() -> dict[str, Any]:
    """The committed contract (fixtures/specs/resident-registry.openapi.json): the limits the
    suites judge against are read from it, never from the reference's code."""
    return json.loads(CONTRACT.read_text(encoding="utf-8"))


def query_bounds(path: str, name: str) -> tuple[int, int]:
    """(minimum, maximum) the contract states for the query parameter ``name`` of GET ``path``."""
    [parameter] = [p for p in contract()["paths"][path]["get"]["parameters"]
                   if p["name"] == name]
    return int(parameter["schema"]["minimum"]), int(parameter["schema"]["maximum"])


def length_bounds(schema: str, field: str) -> tuple[int, int]:
    """(minLength, maxLength) the contract states for ``field`` of the component ``schema``
    (in code points, as JSON Schema counts them)."""
    spec = contract()["components"]["schemas"][schema]["properties"][field]
    return int(spec["minLength"]), int(spec["maxLength"])
