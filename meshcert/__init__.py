"""meshcert: a conformance harness for systems of Japan's public service mesh.

This module is the surface the suites (meshcert_suites/) use: what they are given to reach a system
(the harness and its simulators, the target, the recorded evidence), the checks that judge an
answer, synthetic data to send, and the errors. Everything else is the harness's own, in its
packages — each one concept, none importing back up:

- ``meshcert.cli``: the ``meshcert`` command, one module per command;
- ``meshcert.certify``: one certification — plan, pytest run and plugin, evidence, verdicts,
  baseline, latency, harness simulators, selftest;
- ``meshcert.reports``: the report — content, HTML, charts, certificate, signing, JUnit;
- ``meshcert.load``: load and capacity runs;
- ``meshcert.backends``: where simulators run — processes, containers, image, free ports;
- ``meshcert.catalog``: the requirements catalog, targets, coverage;
- ``meshcert.checks``: the checks several suites make, named for the assertion;
- ``meshcert.errors``: the one error hierarchy.

Names are imported on first use (PEP 562), so importing one package does not import every
other, and no import runs in a cycle through this module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> the module that defines it
_SURFACE: dict[str, str] = {
    # the harness the suites drive, and what they are told about the target
    "Harness": "meshcert.certify.harness",
    "HARNESS_CLIENT": "meshcert.certify.harness",
    "PROFILE_CLIENTS": "meshcert.certify.harness",
    "Target": "meshcert.catalog.targets",
    "ProviderSettings": "meshcert.catalog.targets",
    "LoadSpec": "meshcert.catalog.requirements",
    # evidence and verdicts
    "Exchange": "meshcert.certify.evidence",
    "HarnessFault": "meshcert.certify.verdicts",
    "ensure_harness_ok": "meshcert.certify.verdicts",
    # latency and the stated load
    "LATENCY_PROPERTY": "meshcert.certify.latency",
    "percentile": "meshcert.certify.latency",
    "run_stated_load": "meshcert.load.run",
    # contract checks (schemathesis) and the shared checks
    "CONFORMANCE_CHECKS": "meshcert.certify.contract_checks",
    "schema_valid_data_passes_validation": "meshcert.certify.contract_checks",
    "Leak": "meshcert.checks",
    "find_identifiers": "meshcert.checks",
    "ensure_no_identifiers": "meshcert.checks",
    "exchange_parts": "meshcert.checks",
    "ensure_bearer_challenge": "meshcert.checks",
    "ensure_problem_details": "meshcert.checks",
    "ensure_problem_media_type": "meshcert.checks",
    # synthetic data the suites send
    "Municipality": "meshcert.synthetic",
    "generate_juminhyo_code": "meshcert.synthetic",
    "generate_my_number": "meshcert.synthetic",
    "generate_population": "meshcert.synthetic",
    "lookup": "meshcert.synthetic",
    "municipalities_only": "meshcert.synthetic",
    "fixture_path": "meshcert.synthetic",
    # errors
    "MeshcertError": "meshcert.errors",
    "ConfigError": "meshcert.errors",
    "HarnessError": "meshcert.errors",
}
_RENAMED = {"LATENCY_PROPERTY": "PROPERTY"}  # clearer at the top level

__all__ = [
    "CONFORMANCE_CHECKS",
    "HARNESS_CLIENT",
    "LATENCY_PROPERTY",
    "PROFILE_CLIENTS",
    "ConfigError",
    "Exchange",
    "Harness",
    "HarnessError",
    "HarnessFault",
    "Leak",
    "LoadSpec",
    "MeshcertError",
    "Municipality",
    "ProviderSettings",
    "Target",
    "ensure_bearer_challenge",
    "ensure_harness_ok",
    "ensure_no_identifiers",
    "ensure_problem_details",
    "ensure_problem_media_type",
    "exchange_parts",
    "find_identifiers",
    "fixture_path",
    "generate_juminhyo_code",
    "generate_my_number",
    "generate_population",
    "lookup",
    "municipalities_only",
    "percentile",
    "run_stated_load",
    "schema_valid_data_passes_validation",
]
assert set(__all__) == set(_SURFACE)  # one list of the surface, kept whole


def __getattr__(name: str) -> Any:
    module = _SURFACE.get(name)
    if module is None:
        raise AttributeError(f"module 'meshcert' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _RENAMED.get(name, name))
    globals()[name] = value  # once found, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what type checkers and editors see
    from meshcert.catalog.requirements import LoadSpec
    from meshcert.catalog.targets import ProviderSettings, Target
    from meshcert.certify.contract_checks import (
        CONFORMANCE_CHECKS,
        schema_valid_data_passes_validation,
    )
    from meshcert.certify.evidence import Exchange
    from meshcert.certify.harness import HARNESS_CLIENT, PROFILE_CLIENTS, Harness
    from meshcert.certify.latency import PROPERTY as LATENCY_PROPERTY
    from meshcert.certify.latency import percentile
    from meshcert.certify.verdicts import HarnessFault, ensure_harness_ok
    from meshcert.checks import (
        Leak,
        ensure_bearer_challenge,
        ensure_no_identifiers,
        ensure_problem_details,
        ensure_problem_media_type,
        exchange_parts,
        find_identifiers,
    )
    from meshcert.errors import ConfigError, HarnessError, MeshcertError
    from meshcert.load.run import run_stated_load
    from meshcert.synthetic import (
        Municipality,
        generate_juminhyo_code,
        generate_my_number,
        generate_population,
        lookup,
        municipalities_only,
    )
