"""The account registry's wire models: the person's account, the query records, and the item
statuses of its answers to the mesh (the provider contract, contracts/provider.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from meshcert_simulators.accounts.holder_name import MAX_LENGTH, WIRE_PATTERN
from meshcert_simulators.common.wire import WireModel
from meshcert_simulators.contracts.codes import ITEM_CODE, PROCEDURE_CODE, RECORD_ID
from meshcert_simulators.contracts.provider import ProvidedItem, ProvisionRequest

ACCOUNT_ITEM = "TM00000000000089"  # 特定個人情報名コード: public-fund account
ITEM_NO_DATA = "02"
ITEM_NOT_PROVIDED = "03"
MSG_NO_DATA = "該当データなし (no account registered for this code)"
MSG_NOT_PROVIDED = "提供対象外の特定個人情報 (item not provided by this registry)"
# Japanese mobile numbers (070/080/090), with or without hyphens as people write them.
MOBILE_PATTERN = r"^0[789]0-?[0-9]{4}-?[0-9]{4}$"
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
JUMINHYO_PATTERN = r"^[0-9]{11}$"

# The schema admits decomposed voiced marks (composed before the rules of holder_name.py are
# applied, by the handler: a broken rule is its own problem type, not a schema error).
HolderName = Annotated[str, Field(min_length=3, max_length=2 * MAX_LENGTH, pattern=WIRE_PATTERN,
                                  description="口座名義カナ: full-width katakana, one space "
                                              "between surname and given name (at most "
                                              f"{MAX_LENGTH} characters once composed)")]
AccountType = Literal["普通", "当座"]


class AccountIn(WireModel):
    """What the person registers (PUT /v1/me/account): the account and how to reach them."""

    bank_code: Annotated[str, Field(pattern=r"^[0-9]{4}$", description="金融機関コード")]
    branch_code: Annotated[str, Field(pattern=r"^[0-9]{3}$", description="支店コード")]
    account_type: AccountType
    account_number: Annotated[str, Field(pattern=r"^[0-9]{7}$", description="口座番号")]
    holder_kana: HolderName
    phone: Annotated[str, Field(pattern=MOBILE_PATTERN, description="mobile phone")]
    email: Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN)]


class AccountPayload(WireModel):
    """The item an agency receives (no contact details: paying needs only the account)."""

    bank_code: str
    branch_code: str
    account_type: AccountType
    account_number: str
    holder_kana: str
    registered_at: str
    updated_at: str


class AccountOut(AccountPayload):
    """The person's own account, as they registered it."""

    phone: str
    email: str


class AccountAnswer(AccountOut):
    """PUT's answer: the account and whether it was new (201) or changed (200)."""

    created: bool


class AccountProvidedItem(ProvidedItem):
    payload: AccountPayload | None = None  # type: ignore[assignment]


class AccountProvisionResponse(WireModel):
    status: Annotated[str, Field(pattern=r"^[0-9]{2}$", description="line status; 09: ok")]
    message: str | None = None
    items: list[AccountProvidedItem]


class QueryRecord(WireModel):
    """One agency query (as the mesh routed it here) of one person's account."""

    seq: int
    record_id: Annotated[str, Field(pattern=RECORD_ID)]
    inquirer_client: str
    procedure_code: Annotated[str, Field(pattern=PROCEDURE_CODE)]
    item_code: Annotated[str, Field(pattern=ITEM_CODE)]
    juminhyo_code: str | None
    requested_at: str
    outcome: Literal["provided", "no-data", "not-provided", "refused"]


class QueryRecordPage(WireModel):
    records: list[QueryRecord]
    next_after: int
    has_more: bool


__all__ = ["ACCOUNT_ITEM", "AccountIn", "AccountOut", "AccountPayload", "AccountProvisionResponse",
           "ProvisionRequest", "QueryRecord", "QueryRecordPage"]
