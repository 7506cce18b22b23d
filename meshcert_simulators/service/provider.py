"""A defined service's answers to the mesh: the tax provider's rules (one answer per record id,
each an art. 23 record, refusals included; meshcert_simulators/tax/provider.py) with the
service's own items."""

from __future__ import annotations

from meshcert_simulators.contracts.provider import ProvisionRequest
from meshcert_simulators.tax.models import (
    ITEM_NO_DATA,
    ITEM_NOT_PROVIDED,
    ITEM_PROVIDED,
    MSG_NO_DATA,
    MSG_NOT_PROVIDED,
)
from meshcert_simulators.tax.provider import ItemAnswer, TaxProvider


class ServiceProvider(TaxProvider):
    def item_answer(self, body: ProvisionRequest) -> ItemAnswer:
        """01 with the item's fields held for the 符号, 02 when none are held, 03 for an item
        the definition does not list."""
        if self.state.service.definition.item(body.item_code) is None:
            return "not-provided", ITEM_NOT_PROVIDED, MSG_NOT_PROVIDED, None, None
        found = self.state.store.item_figures(body.code, body.item_code)
        if found is None:
            return "no-data", ITEM_NO_DATA, MSG_NO_DATA, None, None
        figures, version = found
        return "provided", ITEM_PROVIDED, None, figures, version
