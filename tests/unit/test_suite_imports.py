"""The suites judge a vendor system from the committed contracts and the catalog only: no file
under meshcert_suites/ imports the simulators' models or constants (issue 11, "everything the
contract
says, nothing the reference adds").

Test data the suites make (fresh identifiers, JIS X 0402 places) comes through meshcert.synthetic,
the public rules they judge by (check digits, the era table) through meshcert.checks.public_rules,
identifiers in every form through meshcert.checks. What remains below is the harness acting as
the vendor's counterpart — tools that make requests and never judge an answer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SUITES = Path(__file__).resolve().parents[2] / "meshcert_suites"

# module -> (the names a suite may take from it, why it is not a judgment)
ALLOWED: dict[str, tuple[frozenset[str], str]] = {
    # The harness mints access tokens — valid, expired, mis-signed, for another audience — to
    # see whether the target refuses them (SEC-AUTH-*); the tokens are requests, not verdicts.
    "meshcert_simulators.authz.tokens": (
        frozenset({"access_token_claims", "generate_key", "hmac_token", "sign",
                   "unsigned_token", "make_client_assertion"}),
        "harness-side token minting"),
    # The one client TLS context per CA file the harness's own HTTP clients share (making one
    # per client parsed a CA bundle each time): a request tool.
    "meshcert_simulators.common.tls": (frozenset({"shared_client_context"}),
                                       "the harness's shared client TLS context"),
    # The header that scopes a fault plan to the harness's own requests to its simulators.
    "meshcert_simulators.common.faults": (frozenset({"RUN_HEADER"}), "fault-control header"),
    # The harness playing the mesh towards a provider issues that provider's 符号 for its
    # synthetic persons (under the harness's own secrets): test data, never compared with.
    "meshcert_simulators.mesh.codes": (frozenset({"CodeDeriver"}),
                                       "the harness-as-mesh 符号 deriver"),
    # The scripted holder plays the person at the harness's provider (logs in, consents,
    # refuses): it reports what happened and never judges it.
    "meshcert_simulators.idp.holder": (frozenset({"HolderError", "ScriptedHolder"}),
                                       "the scripted card holder"),
}


def simulator_imports(source: str) -> list[tuple[int, str, str]]:
    """(line, module, name) of every import of ``simulators`` in ``source`` — top-level or
    inside a function, ``import`` or ``from … import``, or importlib with a literal name;
    name is "*" for a whole module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, "*") for alias in node.names
                      if alias.name.split(".")[0] == "meshcert_simulators"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "meshcert_simulators":
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Call) and node.args \
                and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) \
                and node.args[0].value.split(".")[0] == "meshcert_simulators" \
                and _called(node) in {"import_module", "__import__"}:
            found.append((node.lineno, node.args[0].value, "*"))
    return found


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def violations(source: str) -> list[tuple[int, str, str]]:
    return [(line, module, name) for line, module, name in simulator_imports(source)
            if name not in ALLOWED.get(module, (frozenset(), ""))[0]]


def suite_files() -> list[Path]:
    return sorted(SUITES.rglob("*.py"))


def test_no_suite_imports_the_simulators_to_judge():
    found = [f"{path.relative_to(SUITES.parent)}:{line}: {module}.{name}"
             for path in suite_files()
             for line, module, name in violations(path.read_text(encoding="utf-8"))]
    assert not found, (
        "suites judge from the contract (fixtures/specs/) and the catalog, not from the "
        "simulators; move test-data makers behind meshcert (meshcert.synthetic), take public "
        "rules from meshcert.checks.public_rules, validate answers against the committed "
        "contract, or — for a harness-side tool that never judges — add it to ALLOWED with "
        "the reason. Found:\n" + "\n".join(found))


def test_every_allowed_import_is_still_used():
    used = {(module, name) for path in suite_files()
            for _, module, name in simulator_imports(path.read_text(encoding="utf-8"))}
    stale = [f"{module}.{name}" for module, (names, _) in ALLOWED.items() for name in names
             if (module, name) not in used]
    assert not stale, f"remove from ALLOWED what no suite imports any more: {stale}"


@pytest.mark.parametrize(("source", "expected"), [
    ("from meshcert_simulators.tax.models import TaxPayload",
     [(1, "meshcert_simulators.tax.models", "TaxPayload")]),
    ("import meshcert_simulators.mesh.provider_api as api",
     [(1, "meshcert_simulators.mesh.provider_api", "*")]),
    ("def f():\n    from meshcert_simulators.common.identifiers import generate_my_number\n",
     [(2, "meshcert_simulators.common.identifiers", "generate_my_number")]),
    ("import importlib\nm = importlib.import_module('meshcert_simulators.tax.models')",
     [(2, "meshcert_simulators.tax.models", "*")]),
    ("from meshcert_simulators import tax", [(1, "meshcert_simulators", "tax")]),
    ("from meshcert_simulators.common.faults import RUN_HEADER, FaultPlan",
     [(1, "meshcert_simulators.common.faults", "FaultPlan")]),
    ("from meshcert.synthetic import lookup\nfrom meshcert_suites.paging import cursor_pages", []),
    ("import simulators_like\nfrom .simulators import x", []),
])
def test_the_check_sees_every_way_of_importing_a_simulator(source, expected):
    assert violations(source) == expected
