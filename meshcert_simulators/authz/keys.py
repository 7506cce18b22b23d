"""Make the local-simulation keys in fixtures/keys/: ``python -m meshcert_simulators.authz.keys``.

Writes, for the authorization server, ``authz.private.jwk.json`` and its public JWK set
``authz.jwks.json``; for each demo client, ``<client>.private.jwk.json`` and
``<client>.public.jwk.json`` (the topology registers the public one). Existing files are kept
unless ``--force``. These keys are public in the repository: for local simulation only, never
for a real system.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from meshcert_simulators.common.jwks import generate_key, public_jwk, public_jwks
from meshcert_simulators.fixtures import fixture_path

KEYS_DIR = fixture_path("keys")
AUTHZ = "authz"
CLIENTS = ("demo-tax-system", "demo-downstream", "demo-clerk", "demo-front-service",
           "demo-chiyoda-downstream", "meshcert-harness")


def private_key_file(name: str, folder: Path = KEYS_DIR) -> Path:
    return folder / f"{name}.private.jwk.json"


def public_key_file(name: str, folder: Path = KEYS_DIR) -> Path:
    return folder / f"{name}.public.jwk.json"


def jwks_file(folder: Path = KEYS_DIR) -> Path:
    return folder / f"{AUTHZ}.jwks.json"


def _dump(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def make_keys(folder: Path = KEYS_DIR, clients: tuple[str, ...] = CLIENTS,
              force: bool = False) -> list[Path]:
    """Write the missing key files (all with ``force``); return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if force or not private_key_file(AUTHZ, folder).exists():
        key = generate_key()
        private_key_file(AUTHZ, folder).write_text(_dump(key.as_dict(private=True)))
        jwks_file(folder).write_text(_dump(public_jwks([key])))
        written += [private_key_file(AUTHZ, folder), jwks_file(folder)]
    for name in clients:
        if force or not private_key_file(name, folder).exists():
            key = generate_key()
            private_key_file(name, folder).write_text(_dump(key.as_dict(private=True)))
            public_key_file(name, folder).write_text(_dump(public_jwk(key)))
            written += [private_key_file(name, folder), public_key_file(name, folder)]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m meshcert_simulators.authz.keys",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=KEYS_DIR, help="folder (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="replace existing keys")
    parser.add_argument("clients", nargs="*", help=f"client ids (default: {' '.join(CLIENTS)})")
    args = parser.parse_args(argv)
    for path in make_keys(args.out, tuple(args.clients) or CLIENTS, args.force):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
