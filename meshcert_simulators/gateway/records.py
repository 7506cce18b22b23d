"""Reading the provision records the gateway keeps for each person: the portal (or an auditor)
names the person; a person with the provider's access token reads only their own records of
that token's client."""

from __future__ import annotations

from typing import Any

from meshcert_simulators.common.http import records_page
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.gateway.store import GatewayStore


class ProvisionRecords:
    """Pages of records from ``state.store``, read at the time of each request."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def page(self, filters: dict[str, str], after: int, limit: int,
             claims: dict[str, Any] | None = None) -> dict[str, Any]:
        """A page of the records matching ``filters`` (sub, client_id, juminhyo_code); with
        access token ``claims``, only the token's person's records of its client."""
        if claims is not None:
            if "juminhyo_code" in filters:
                raise Problem(403, "forbidden", "Not allowed with an access token",
                              "juminhyo_code is for the portal (gateway:audit)")
            filters = filters | {"sub": claims["sub"], "client_id": claims["client_id"]}
        elif not filters:
            raise Problem(400, "person-required", "Name the person",
                          "give sub (with client_id) or juminhyo_code")
        store: GatewayStore = self.state.store
        records, more = store.records(filters, after, limit)
        return records_page(records, after, more)
