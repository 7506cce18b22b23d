"""The provider-side contract: how the mesh asks a provider (its own API on the real-time route,
the J-LIS intermediate server on the copy route) for the items of one inquiry.

``POST {provider}/v1/provisions`` with a :class:`ProvisionRequest` (the provider's own 符号,
never a My Number) answers 200 with a :class:`ProvisionResponse`: a line status (``09`` ok) and
one entry per item (``01`` ok) with its payload. The mesh authenticates with the bearer token
of the topology client named like the mesh simulator, when there is one.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from meshcert_simulators.common.wire import WireModel
from meshcert_simulators.contracts.codes import ITEM_CODE, MESH_CODE, PROCEDURE_CODE, RECORD_ID

PROVISIONS_PATH = "/v1/provisions"
LINE_OK = "09"
ITEM_OK = "01"



class ProvisionRequest(WireModel):
    record_id: Annotated[str, Field(pattern=RECORD_ID)]
    procedure_code: Annotated[str, Field(pattern=PROCEDURE_CODE)]
    item_code: Annotated[str, Field(pattern=ITEM_CODE)]
    code: Annotated[str, Field(pattern=MESH_CODE, description="the provider's own 符号")]


class ProvidedItem(WireModel):
    item_code: Annotated[str, Field(pattern=ITEM_CODE)]
    status: Annotated[str, Field(pattern=r"^[0-9]{2}$", description="01: provided")]
    message: str | None = None
    payload: dict[str, Any] | None = None


class ProvisionResponse(WireModel):
    status: Annotated[str, Field(pattern=r"^[0-9]{2}$", description="line status; 09: ok")]
    message: str | None = None
    items: list[ProvidedItem]
