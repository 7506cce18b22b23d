"""The portal's wire models: what a person (or a front service acting for one) sends and gets."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field

from meshcert_simulators.common.wire import WireModel

JUMINHYO = r"^[0-9]{11}$"
LG_CODE = r"^[0-9]{6}$"
KEY = r"^[A-Za-z0-9._:-]{1,64}$"
DELEGATION_ID = r"^dg-[0-9a-f]{24}$"
MOVEOUT_ID = r"^mo-[0-9a-f]{24}$"
APPLICATION_ID = r"^ap-[0-9a-f]{24}$"
NOTICE_ID = r"^nt-[0-9a-f]{24}$"
PROCEDURE = r"^[a-z][a-z0-9-]{0,39}$"
# Printable text of a form: no control characters.
TEXT = r"^[^\u0000-\u001F\u007F-\u009F]+$"
# A notice's body: printable text and line breaks.
NOTICE_TEXT = r"^[^\u0000-\u0009\u000B-\u001F\u007F-\u009F]+$"

Text = Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT)]
Procedure = Annotated[str, Field(pattern=PROCEDURE, description="A procedure's name, e.g. "
                                                                "moveout, child-allowance")]
IdempotencyKey = Annotated[str, Field(pattern=KEY, description="The caller's key: a resend "
                                                               "with it is the same filing")]
FieldValue = Annotated[str, Field(max_length=1000, pattern=r"^[^\u0000-\u0008\u000B-\u001F]*$")]


# -- 自己情報 -------------------------------------------------------------------------------


class Member(WireModel):
    name: str
    relationship: str                       # 続柄, as the registry labels it
    is_self: bool


class SelfInfo(WireModel):
    """The registry's four facts of the person and their household, and what the mesh gave."""

    name: str
    name_kana: str
    address: str
    birthdate: str | None
    gender: str
    lg_code: str
    household: list[Member]
    items: list[dict[str, Any]]             # the mesh's answers the legal-basis table allows
    items_unavailable: bool                 # the mesh could not be asked (said, not guessed)


# -- やりとり履歴 ---------------------------------------------------------------------------

# portal: the filings the portal itself forwarded with the person's data (a move-out to the old
# municipality's registry), by the person or by a proxy for them.
Source = Literal["mesh", "gateway", "accounts", "portal"]


class HistoryEntry(WireModel):
    seq: int                                # position, newest first: pass as ``after``
    source: Source
    record_id: str
    at: str                                 # when the data was asked for / provided
    counterpart: str                        # who got the data (institution, client, agency)
    purpose: str | None
    items: list[str]
    outcome: str | None


class HistoryPage(WireModel):
    entries: list[HistoryEntry]
    next_after: int
    has_more: bool
    unavailable_sources: list[Source]       # a source that could not be read right now


# -- お知らせ -------------------------------------------------------------------------------


class Notice(WireModel):
    id: str
    kind: str
    title: str
    body: str
    procedure: str | None
    created_at: str
    read_at: str | None


class NoticeList(WireModel):
    notices: list[Notice]
    unread: int


class NoticePush(WireModel):
    """A notice an institution (e.g. a benefit-paying agency) pushes to a person."""

    juminhyo_code: Annotated[str, Field(pattern=JUMINHYO, description="Whom it is for")]
    kind: Annotated[str, Field(pattern=PROCEDURE, description="What it is about, e.g. benefit")]
    title: Text
    body: Annotated[str, Field(min_length=1, max_length=2000, pattern=NOTICE_TEXT)]
    procedure: Procedure | None = None
    idempotency_key: IdempotencyKey | None = None


class NoticeReceipt(WireModel):
    """The notice as kept for the person, and who sent it."""

    id: str
    juminhyo_code: str
    sender: str                             # the institution's client id
    kind: str
    title: str
    body: str
    procedure: str | None
    created_at: str


# -- 代理人 ---------------------------------------------------------------------------------


class DelegationRequest(WireModel):
    proxy_juminhyo_code: Annotated[str, Field(pattern=JUMINHYO)]
    kind: Literal["legal", "voluntary"]
    procedures: Annotated[list[Procedure], Field(min_length=1, max_length=20)]
    until: Annotated[AwareDatetime, Field(description="RFC 3339 date-time with offset: the "
                                                      "delegation ends then")]


class Delegation(WireModel):
    id: str
    direction: Literal["granted", "received"]   # granted by me, or received (I am the proxy)
    principal_name: str
    proxy_juminhyo_code: str | None             # shown to the principal only
    kind: Literal["legal", "voluntary"]
    procedures: list[str]
    until: str
    created_at: str
    revoked_at: str | None
    active: bool


class DelegationList(WireModel):
    delegations: list[Delegation]


# -- 転出届 ---------------------------------------------------------------------------------


class NewAddress(WireModel):
    lg_code: Annotated[str, Field(pattern=LG_CODE)]
    address: Text


class MoveoutRequest(WireModel):
    on_behalf_of: Annotated[str | None, Field(pattern=DELEGATION_ID,
                                              description="A delegation id (a proxy only)")] = None
    moving_date: date
    new_address: NewAddress
    reason: Text | None = None
    idempotency_key: IdempotencyKey | None = None


class Reservation(WireModel):
    """転入予約: the move-in the new municipality expects (within 14 days of moving)."""

    lg_code: str
    address: str
    status: Literal["予約済"]
    visit_from: str
    visit_by: str
    hosted: bool                    # a registry of this topology hosts the new municipality


class Moveout(WireModel):
    id: str
    status: Literal["受付", "処理中", "完了"]
    status_updated_at: str
    old_lg_code: str
    moving_date: str
    new_address: NewAddress
    reason: str | None
    move_in_reservation: Reservation
    filed_by: Literal["person", "proxy"]
    on_behalf_of: str | None
    created_at: str


# -- 電子申請 -------------------------------------------------------------------------------


class ApplicationRequest(WireModel):
    procedure: Procedure
    fields: Annotated[dict[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$")],
                           FieldValue],
                      # the key pattern is the only way in: say so to schema-driven clients
                      Field(max_length=50, json_schema_extra={"additionalProperties": False})]
    on_behalf_of: Annotated[str | None, Field(pattern=DELEGATION_ID)] = None
    idempotency_key: IdempotencyKey | None = None


class Application(WireModel):
    id: str
    procedure: str
    fields: dict[str, str]
    status: Literal["受付"]
    filed_by: Literal["person", "proxy"]
    on_behalf_of: str | None
    created_at: str
