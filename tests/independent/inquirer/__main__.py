"""``python -m tests.independent.inquirer --port P --db FILE [--defect NAME]``: serve the
independent inquirer on 127.0.0.1. The defaults are what the published topology
(fixtures/topologies/mesh-inquirer.yaml) tells a vendor: the mesh and the issuer on their fixed
ports, the client mesh-child-allowance and its key."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from tests.independent.inquirer.app import DEFECTS, Config, create_app

KEYS = Path(__file__).resolve().parents[3] / "fixtures" / "keys"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.independent.inquirer")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True, help="its SQLite file")
    parser.add_argument("--mesh", default="http://127.0.0.1:21102")
    parser.add_argument("--issuer", default="http://127.0.0.1:21100")
    parser.add_argument("--client-id", default="mesh-child-allowance")
    parser.add_argument("--key", type=Path, default=KEYS / "mesh-child-allowance.private.jwk.json")
    parser.add_argument("--audience", default="urn:meshcert:child-allowance")
    parser.add_argument("--mesh-audience", default="urn:meshcert:mesh")
    parser.add_argument("--give-up-within-s", type=float, default=4.0)
    parser.add_argument("--defect", choices=sorted(DEFECTS),
                        default=os.environ.get("MESHCERT_INDEPENDENT_DEFECT") or None)
    args = parser.parse_args()
    config = Config(mesh_url=args.mesh, issuer=args.issuer, client_id=args.client_id,
                    key_file=args.key, audience=args.audience, mesh_audience=args.mesh_audience,
                    give_up_within_s=args.give_up_within_s, db=args.db, defect=args.defect)
    uvicorn.run(create_app(config), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
