"""What a defined service asks of others — its 符号 from the mesh, the registration of its copies
at J-LIS — through the tax provider's peers (meshcert_simulators/tax/peers.py), with the
service's own seeding (figures as given, or derived from the synthetic population by the
definition's rules) and copies (one per person and item held)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.service import population
from meshcert_simulators.service.rules import RuleError
from meshcert_simulators.tax.peers import TaxPeers


class ServicePeers(TaxPeers):
    def own_client(self) -> tuple[str, str]:
        """The client of the definition's institution — on the copy route the topology routes
        that institution to J-LIS, not to this simulator."""
        topology = self.settings.topology
        inst = topology.institution(self.state.service.definition.institution.code)
        client = topology.client(inst.client) if inst else None
        if client is None or not client.token:
            raise Problem(503, "no-mesh-client", "This system has no mesh client",
                          f"the topology has no institution {self.state.service.name!r} "
                          "with a client and token")
        return client.id, client.token

    async def seed(self, body: BaseModel) -> dict[str, Any]:  # type: ignore[override]
        """Store figures per person (a ``SeedResult`` body): ``rows`` as given (by 符号, or by
        住民票コード exchanged for this system's 符号), or ``population`` derived by the rules."""
        service = self.state.service
        rows: list[tuple[str, dict[str, Any]]] = []
        if body.population is not None:  # type: ignore[attr-defined]
            spec = body.population  # type: ignore[attr-defined]
            for juminhyo_code, attributes in population.persons(spec.lg_code, spec.persons,
                                                                spec.seed):
                try:
                    figures = population.figures(service, spec.seed, juminhyo_code, attributes)
                except RuleError as exc:
                    raise Problem(500, "rule-failed", "A data rule failed", str(exc)) from None
                rows.append((await self.issued_code(juminhyo_code), figures))
        else:
            for row in body.rows:  # type: ignore[attr-defined]
                code = getattr(row, "code", None) or await self.issued_code(row.juminhyo_code)
                rows.append((code, row.figures.model_dump(exclude_none=True)))
        version = self.state.store.store(rows)
        return {"seeded": len(rows), "data_version": version,
                "codes": [code for code, _ in rows]}

    def copies(self) -> Iterator[tuple[str, str, str, int, dict[str, Any]]]:
        name = self.state.service.name
        for code, item, figures, version in self.state.store.all_item_figures():
            yield code, item, f"{name}-{item}", version, figures
