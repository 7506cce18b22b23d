"""Test-data seeding for conformance runs (admin only): given records, or generated ones."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from meshcert_simulators.common.http import whole_number
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.wire import WireModel
from meshcert_simulators.municipal.models import LG_CODE, SeedResident
from meshcert_simulators.municipal.movements import canonical_date
from meshcert_simulators.municipal.registry import Actor, Registry

MAX_SEED_RECORDS = 1000  # per request; the seeder sends larger populations in chunks


class GenerateSpec(WireModel):
    persons: whole_number(1, 100_000)  # type: ignore[valid-type]
    seed: whole_number(0, 2**32 - 1)  # type: ignore[valid-type]


class SeedRequest(WireModel):
    lg_code: Annotated[str, Field(pattern=LG_CODE)]
    reset: bool = Field(default=False, description="Delete the municipality's records first "
                        "(the audit log is kept: it is never deleted)")
    residents: Annotated[list[SeedResident], Field(max_length=MAX_SEED_RECORDS)] = Field(
        default_factory=list)
    generate: GenerateSpec | None = None


class SeedResult(WireModel):
    lg_code: str
    written: int
    residents: int


def seed(registry: Registry, request: SeedRequest, actor: Actor) -> dict[str, Any]:
    lg_code = request.lg_code
    if request.residents and request.generate:
        raise Problem(422, "seed-source-ambiguous", "Two sources of records",
                      "give either 'residents' or 'generate', not both")
    if request.generate:
        from meshcert_simulators.common.population import generate

        records: list[dict[str, Any]] = list(generate(lg_code, request.generate.persons,
                                                      request.generate.seed))
    else:
        records = [{**r.model_dump(mode="json"), "birth_date": canonical_date(r.birth_date,
                                                                  registry.eras)}
                   for r in request.residents]
    for record in records:
        if record["address"]["lg_code"] != lg_code:
            raise Problem(422, "address-outside-municipality",
                          "Address is not in this municipality",
                          f"{record['atena_number']}: address.lg_code "
                          f"{record['address']['lg_code']} differs from {lg_code}")
    with registry.db.transaction() as conn:
        if request.reset:
            # Counters stay: a number once issued is never issued again (the audit log keeps it).
            for table in ("residents", "changes", "requests", "moveouts"):
                conn.execute(f"DELETE FROM {table} WHERE lg_code=?", (lg_code,))
            registry.log(conn, lg_code, actor, "seed.reset", lg_code, False)
        for record in records:
            registry.write(conn, lg_code, record, "seed", None, actor)
        total = conn.execute("SELECT count(*) FROM residents WHERE lg_code=?",
                             (lg_code,)).fetchone()[0]
    return {"lg_code": lg_code, "written": len(records), "residents": total}


class Seeder:
    """Seeds test data into a hosted municipality. The ``registry`` is read from the app's state
    at the time of use, so a negative control or a test can replace it (or this object)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def seed(self, request: SeedRequest, actor: Actor) -> dict[str, Any]:
        registry = self.state.registry
        registry.check_hosted(request.lg_code)
        return seed(registry, request, actor)
