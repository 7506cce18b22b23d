"""The canonical contracts: each simulator's OpenAPI document, committed under fixtures/specs/.

The served document must equal the committed one (a test checks it). After a deliberate API
change, regenerate with ``python -m meshcert_simulators.specs`` and review the diff like code.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import load_topology
from meshcert_simulators.fixtures import fixture_path
from meshcert_simulators.registry import create_app

SPEC_DIR = fixture_path("specs")
# Contract file per simulator kind, and the simulator of the embedded topology that serves it.
CONTRACTS = {"municipal": ("resident-registry.openapi.json", "municipal"),
             "jlis": ("jlis.openapi.json", "jlis"),
             "mesh": ("mesh.openapi.json", "mesh"),
             "tax": ("tax.openapi.json", "tax"),
             "child-allowance": ("child-allowance.openapi.json", "child-allowance"),
             "authz": ("authz.openapi.json", "authz"),
             "idp": ("idp.openapi.json", "idp"),
             "jpki": ("jpki.openapi.json", "jpki"),
             "gateway": ("gateway.openapi.json", "gateway"),
             "portal": ("portal.openapi.json", "portal"),
             "accounts": ("accounts.openapi.json", "accounts"),
             "nhi": ("nhi.openapi.json", "nhi")}
# A kind whose simulator is not in the embedded topology names the topology that has it.
CONTRACT_TOPOLOGIES = {"jlis": SPEC_DIR.parent / "topologies" / "jlis.yaml",
                      "mesh": SPEC_DIR.parent / "topologies" / "mesh.yaml",
                      "tax": SPEC_DIR.parent / "topologies" / "mesh.yaml",
                      "child-allowance": SPEC_DIR.parent / "topologies" / "mesh-inquirer.yaml",
                      "idp": SPEC_DIR.parent / "topologies" / "idp.yaml",
                      "jpki": SPEC_DIR.parent / "topologies" / "private-service.yaml",
                      "gateway": SPEC_DIR.parent / "topologies" / "private-service.yaml",
                      "portal": SPEC_DIR.parent / "topologies" / "portal.yaml",
                      "accounts": SPEC_DIR.parent / "topologies" / "benefit-payout.yaml",
                      "nhi": SPEC_DIR.parent / "topologies" / "downstream-system.yaml"}


def contract_path(kind: str) -> Path:
    return SPEC_DIR / CONTRACTS[kind][0]


def served_spec(kind: str) -> dict[str, Any]:
    """The document a freshly built simulator of ``kind`` serves."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(name=CONTRACTS[kind][1],
                            topology=load_topology(CONTRACT_TOPOLOGIES.get(kind)),
                            data_dir=Path(tmp), access_log=False)
        app = create_app(settings)
        return app.openapi()


def dump(spec: dict[str, Any]) -> str:
    return json.dumps(spec, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m meshcert_simulators.specs",
        description="Regenerate the committed contracts (fixtures/specs/) from the simulators, "
                    "or with --check only say which differ (exit 1). Review a regenerated diff "
                    "before committing it: a contract is what vendors implement.")
    parser.add_argument("kinds", nargs="*", metavar="KIND",
                        help=f"only these simulators ({', '.join(CONTRACTS)}); default all")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; list the contracts that drifted")
    args = parser.parse_args(argv)
    if unknown := [k for k in args.kinds if k not in CONTRACTS]:
        parser.error(f"no contract for {', '.join(unknown)}: use one of {', '.join(CONTRACTS)}")
    drifted = []
    for kind in args.kinds or CONTRACTS:
        path, served = contract_path(kind), dump(served_spec(kind))
        if args.check:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != served:
                drifted.append(kind)
                print(f"drifted: {path} (regenerate: python -m meshcert_simulators.specs {kind})")
        else:
            path.write_text(served, encoding="utf-8")
            print(f"wrote {path}")
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(main())
