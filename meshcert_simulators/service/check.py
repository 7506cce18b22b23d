"""``meshcert service check``: every problem of a definition folder — its service.yaml (format,
cross-references, rules), the rules run over a sample of the synthetic population (a value
outside its field's type or bounds is a problem of the definition, found before any run), and
the committed contract against the generated one."""

from __future__ import annotations

from pathlib import Path

from meshcert_simulators.service import population
from meshcert_simulators.service.contract import drift
from meshcert_simulators.service.definition import DEFINITION_FILE, Service, read
from meshcert_simulators.service.rules import RuleError

SAMPLE = ("131016", 200, 1)  # (municipality, persons, seed) the rules are tried on


def _rule_paths(service: Service) -> dict[str, str]:
    """Where each rule is in service.yaml, by its name."""
    d = service.definition
    paths = {name: f"variables.{name}" for name in d.variables}
    paths.update({name: f"items.{n}.fields.{name}.rule" for n, item in enumerate(d.items)
                  for name in item.fields})
    return paths


def sample_problems(service: Service) -> list[str]:
    paths = _rule_paths(service)
    problems: dict[str, str] = {}  # one per rule: the first person it fails on
    for n, (key, attributes) in enumerate(population.persons(*SAMPLE)):
        try:
            population.figures(service, SAMPLE[2], key, attributes)
        except RuleError as exc:
            rule, _, why = str(exc).partition(": ")
            problems.setdefault(rule, f"{service.folder / DEFINITION_FILE}: "
                                      f"{paths.get(rule, rule)}: {why} (sample person {n}: "
                                      f"{attributes})")
    return list(problems.values())


def check(folder: Path) -> list[str]:
    service, problems = read(folder)
    if service is None:
        return problems
    problems = sample_problems(service)
    if not problems:  # a contract of a definition that fails is not worth comparing
        why = drift(service)
        problems += [why] if why else []
    return problems
