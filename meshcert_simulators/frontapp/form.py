"""The move-out form as the person submits it to the app, and the filing the app sends the portal
from it: exactly the fields the procedure needs (転出届: when, where to, why, and for whom), never
an identifier of the person — the portal knows who files from the access token."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import Field

from meshcert_simulators.common.wire import WireModel

LgCode = Annotated[str, Field(pattern=r"^[0-9]{6}$")]


class NewAddress(WireModel):
    lg_code: LgCode
    address: Annotated[str, Field(min_length=1, max_length=200)]


class MoveoutForm(WireModel):
    """What the person enters: moving date, new address, an optional reason, and (a proxy
    only) the delegation they act under."""

    moving_date: date
    new_address: NewAddress
    reason: Annotated[str, Field(max_length=200)] | None = None
    on_behalf_of: Annotated[str, Field(min_length=1, max_length=64)] | None = None


# The fields POST /v1/moveouts of the portal takes; nothing else leaves the app.
PROCEDURE_FIELDS = ("on_behalf_of", "moving_date", "new_address", "reason", "idempotency_key")


def filing(form: MoveoutForm, idempotency_key: str) -> dict[str, Any]:
    """The portal's move-out body for ``form`` (optional fields left out when not given)."""
    body: dict[str, Any] = {"moving_date": form.moving_date.isoformat(),
                            "new_address": form.new_address.model_dump(),
                            "idempotency_key": idempotency_key}
    if form.reason:
        body["reason"] = form.reason
    if form.on_behalf_of:
        body["on_behalf_of"] = form.on_behalf_of
    return body
