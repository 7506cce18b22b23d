"""A service's data per synthetic person: the person's attributes from the deterministic
population (meshcert_simulators/common/population.py, the registry's own), then the
definition's rules — variables first, then each item's fields."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import groupby
from typing import Any

from meshcert_simulators.common.population import AS_OF, generate
from meshcert_simulators.service.definition import Service
from meshcert_simulators.service.rules import Evaluator, RuleError


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def persons(lg_code: str, count: int, seed: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """(住民票コード, attributes) of the population the registry would be seeded with."""
    for _, members in groupby(generate(lg_code, count, seed), key=lambda r: r["setai_number"]):
        household = list(members)
        # A 不詳日 has no ISO date: its earliest possible day stands for it.
        born = [date.fromisoformat(m["birth_date"]["iso"] or m["birth_date"]["earliest"])
                for m in household]
        ages = [_age(day, AS_OF) for day in born]
        for member, age, day in zip(household, ages, born, strict=True):
            yield member["juminhyo_code"], {
                "age": age, "sex": int(member["sex"]),
                "birth_year": day.year,
                "is_head": member["relationship"] == "02",
                "household_size": len(household),
                "household_children": sum(1 for a in ages if a < 18),
                "household_elderly": sum(1 for a in ages if a >= 65)}


def figures(service: Service, seed: int, key: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """Every field of the service for one person (``key``: what its draws are seeded by);
    raises RuleError when a rule fails or gives a value its field does not take."""
    env = dict(attributes)
    evaluator = Evaluator(seed, key)
    fields = service.definition.fields
    out: dict[str, Any] = {}
    for rule in service.rules:
        value = evaluator.value(rule, env)
        if rule.name in fields:
            value = _typed(rule.name, value, fields[rule.name])
            out[rule.name] = value
        env[rule.name] = value
    return out


def _typed(name: str, value: Any, field: Any) -> Any:
    if field.type == "integer":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise RuleError(f"{name}: gave {value!r}, not a whole number")
        if not field.min <= value <= field.max:
            raise RuleError(f"{name}: gave {value}, outside [{field.min}, {field.max}]")
    elif field.type == "boolean" and not isinstance(value, bool):
        raise RuleError(f"{name}: gave {value!r}, not true/false")
    elif field.type == "enum" and value not in (field.values or ()):
        raise RuleError(f"{name}: gave {value!r}, not one of {list(field.values or ())}")
    return value
