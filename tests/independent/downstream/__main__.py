"""Run the independent downstream system: ``python -m tests.independent.downstream --port P
--db FILE --issuer URL --audience AUD --registry URL --lg-code CODE --client ID --key FILE
--resource AUD [--interval S] [--broken KIND]`` (KIND: one of app.BROKEN)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from tests.independent.downstream.app import BROKEN, Config, create


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.independent.downstream")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    for name in ("issuer", "audience", "registry", "lg-code", "client", "resource"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--broken", choices=sorted(BROKEN))
    args = parser.parse_args()
    app = create(Config(db=args.db, issuer=args.issuer.rstrip("/"), audience=args.audience,
                        registry=args.registry.rstrip("/"), lg_code=args.lg_code,
                        client_id=args.client, key_file=args.key, resource=args.resource,
                        interval_s=args.interval, broken=args.broken),
                 ["-m", "tests.independent.downstream", *sys.argv[1:]])
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
