"""Negative controls of the information-provider profile (PRV-*), applied from outside their
code to the reference individual-resident-tax system (meshcert_simulators/tax/, kind ``tax``)
and to every defined service (meshcert_simulators/service/, kind ``service``), which shares its
parts: an overriding subclass of the store (the tax store, or a service's subclass of it) or the
authenticator, or a middleware that alters the traffic of the provider API both serve
(meshcert_simulators/contracts/provider_routes.py)."""

from __future__ import annotations

import asyncio
import json
import random
import re
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from meshcert_simulators.common.auth import Authenticator, Caller
from meshcert_simulators.common.identifiers import generate_my_number
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.defects import defect
from meshcert_simulators.defects._support import (
    Patch,
    override,
    rewrite_requests,
    rewrite_responses,
)
from meshcert_simulators.service.store import ServiceStore
from meshcert_simulators.tax.app import PROVIDE_ROLE
from meshcert_simulators.tax.models import ITEM_NO_DATA
from meshcert_simulators.tax.store import TaxStore

PROVISIONS = re.compile(r"^/v1/provisions$")
RECORDS = re.compile(r"^/v1/provision-records$")
PUBLISH = re.compile(r"^/v1/copies/publish$")
OTHER_YEAR_ITEM = "TM00000000000003"  # an item code nobody asked for
SLOW_S = 0.3
PROVIDERS = ("tax", "service")  # the simulator kinds these defects apply to


def _items(change: Any) -> Any:
    """A response rewrite applying ``change`` to each item of a provision answer."""
    def rewrite(body: Any) -> Any:
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            body["items"] = [change(item) for item in body["items"] if isinstance(item, dict)]
        return body
    return rewrite


# -- PRV-ITEM-001 -------------------------------------------------------------------------------


def _with_other_item(body: Any) -> Any:
    """The asked item, and the person's figures (the resident tax's: of the year before) as
    another item nobody asked for — in the item's shape, so that only the item rule is
    broken."""
    items = body.get("items") if isinstance(body, dict) else None
    provided = [i for i in items or () if isinstance(i, dict) and isinstance(i.get("payload"),
                                                                            dict)]
    if provided:
        payload = provided[0]["payload"]
        earlier = ({**payload, "tax_year": max(2000, payload["tax_year"] - 1)}
                   if isinstance(payload.get("tax_year"), int) else dict(payload))
        items.append({"item_code": OTHER_YEAR_ITEM, "status": "01", "message": None,
                      "payload": earlier})
    return body


# -- PRV-DATA-001 -------------------------------------------------------------------------------


def _levy_without_per_capita(item: dict[str, Any]) -> dict[str, Any]:
    payload = item.get("payload")
    if isinstance(payload, dict) and "income_levy" in payload:
        item["payload"] = {**payload, "total_levy": payload["income_levy"]}
    return item


class _AnswersAnotherCode(ServiceStore):
    """A defined service's item answered with the figures held for another 符号 (the next one
    held for that item: a lookup keyed wrong); a 符号 it holds nothing for is still no data."""

    def item_figures(self, code: str, item_code: str) -> tuple[dict[str, Any], int] | None:
        if super().item_figures(code, item_code) is None:
            return None
        held = [(c, f, v) for c, i, f, v in self.all_item_figures() if i == item_code]
        codes = [c for c, _, _ in held]
        _, figures, version = held[(codes.index(code) + 1) % len(held)]
        return figures, version


def _service_store_as(cls: type) -> Patch:
    """As :func:`_store_as`, for a defined service's store only (the tax store is left)."""
    def patch(app: Any) -> None:
        if isinstance(app.state.store, ServiceStore):
            _store_as(cls)(app)
    return patch


# -- PRV-MYNUM-001 ------------------------------------------------------------------------------


def _my_number_in_message(item: dict[str, Any]) -> dict[str, Any]:
    """A free-text message naming the person by My Number (derived from the item, so stable)."""
    number = generate_my_number(random.Random(json.dumps(item, sort_keys=True)))
    item["message"] = f"個人番号 {number} の照会結果"
    return item


# -- PRV-CODE-001 -------------------------------------------------------------------------------


def _no_data_as_404(body: Any) -> Problem | None:
    """An answer of "no data" (item 02) sent as HTTP 404 instead: the mesh passes on only 200
    answers, so the inquirer would see provider-bad-answer rather than the fixed no-data line.
    The reference has processed (and recorded) the inquiry by then."""
    items = body.get("items", []) if isinstance(body, dict) else []
    if any(isinstance(i, dict) and i.get("status") == ITEM_NO_DATA for i in items):
        return Problem(404, "code-not-found", "Unknown code", "no person is known by this 符号")
    return None


# -- PRV-LAT-001 --------------------------------------------------------------------------------


def _slow_provisions(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" \
                and PROVISIONS.fullmatch(scope["path"]):
            await asyncio.sleep(SLOW_S)
        await app(scope, receive, send)
    return middleware


# -- PRV-REC-001 --------------------------------------------------------------------------------


class _OnlyProvisionsRecorded(TaxStore):
    """Keeps art. 23 records of data it provided, not of "no data" or "not provided" answers."""

    def record(self, *, outcome: str, **fields: Any) -> bool:  # type: ignore[override]
        if outcome == "provided":
            return super().record(outcome=outcome, **fields)
        return True  # as if written


class _ForgetsAnswers(TaxStore):
    """Looks up no earlier answer: every resend is processed (and recorded) again."""

    def answer_of(self, record_id: str) -> None:  # type: ignore[override]
        return None

    def record(self, **fields: Any) -> bool:  # type: ignore[override]
        fields.pop("response", None)
        return super().record(**fields)


def _store_as(cls: type) -> Patch:
    """Put ``cls``, an overriding subclass of the tax store, in place of the app's store — on
    top of the store's own class (the tax store, or a defined service's subclass of it)."""
    def patch(app: Any) -> None:
        store = app.state.store
        base = type(store)
        combined = cls if issubclass(cls, base) else type(
            f"{cls.__name__}{base.__name__}", (cls, base), {})
        app.state.store = override(store, combined)
    return patch


# -- PRV-AUTH-001 -------------------------------------------------------------------------------


class _AnyClientProvides(Authenticator):
    """Every authenticated client may ask for provisions, not only the mesh."""

    provide_role = PROVIDE_ROLE

    def identify(self, token: str) -> Caller:
        found = super().identify(token)
        return Caller(found.client_id, found.roles | {self.provide_role},
                      found.municipalities, found.via)


def _any_client_provides(app: Any) -> None:
    twin = override(app.state.authenticator, _AnyClientProvides)
    # The role the provisions need: the tax reference's, or the defined service's own.
    service = getattr(app.state, "service", None)
    if service is not None:
        twin.provide_role = service.definition.provide_role
    app.state.authenticator = twin


# -- PRV-CONTRACT-001 ---------------------------------------------------------------------------


def _with_total(body: Any) -> Any:
    """A field the contract does not have (the page is additionalProperties: false)."""
    if isinstance(body, dict) and isinstance(body.get("records"), list):
        body["total"] = len(body["records"])
    return body


# -- PRV-COPY-001 -------------------------------------------------------------------------------


def _publish_at_once(body: Any) -> Any:
    """The publication delay asked for is ignored: copies are published from now."""
    if isinstance(body, dict) and "delay_s" in body:
        body = {**body, "delay_s": 0}
    return body


defect("answers-other-items", PROVIDERS, "PRV-ITEM-001",
       "a provision answer carries, besides the asked item, another item with the person's "
       "figures (the resident tax's: of the year before)",
       wrap=rewrite_responses("POST", PROVISIONS, _with_other_item))
defect("levy-without-per-capita", PROVIDERS, "PRV-DATA-001",
       "the provided total_levy leaves out the per-capita levy (均等割); a defined service's "
       "item carries the figures held for another 符号",
       patch=_service_store_as(_AnswersAnotherCode),
       wrap=rewrite_responses("POST", PROVISIONS, _items(_levy_without_per_capita)))
defect("mynumber-in-message", PROVIDERS, "PRV-MYNUM-001",
       "each answered item's message names the person by a My Number",
       wrap=rewrite_responses("POST", PROVISIONS, _items(_my_number_in_message)))
defect("unknown-code-as-404", PROVIDERS, "PRV-CODE-001",
       "an unknown 符号 is answered HTTP 404 instead of line 09 with item status 02",
       wrap=rewrite_responses("POST", PROVISIONS, instead=_no_data_as_404))
defect("slow-provisions", PROVIDERS, "PRV-LAT-001",
       f"every provision answer is delayed by {SLOW_S * 1000:.0f} ms",
       wrap=_slow_provisions)
defect("refusals-not-recorded", PROVIDERS, "PRV-REC-001",
       "only provided data gets an art. 23 record; no-data and not-provided answers get none",
       patch=_store_as(_OnlyProvisionsRecorded))
defect("provisions-processed-twice", PROVIDERS, "PRV-DUP-001",
       "a record id is not remembered: a resend is processed and recorded again, another "
       "inquiry under a used record id is answered",
       patch=_store_as(_ForgetsAnswers))
defect("provisions-for-any-client", PROVIDERS, "PRV-AUTH-001",
       "any authenticated client may ask for provisions, not only the mesh",
       patch=_any_client_provides)
defect("records-page-off-contract", PROVIDERS, "PRV-CONTRACT-001",
       "the art. 23 records export adds a field the contract does not have",
       wrap=rewrite_responses("GET", RECORDS, _with_total))
defect("copies-published-at-once", PROVIDERS, "PRV-COPY-001",
       "publishing copies ignores the asked delay: J-LIS serves them at once",
       wrap=rewrite_requests("POST", PUBLISH, _publish_at_once))
