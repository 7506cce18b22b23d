"""Run the independent provider: ``python -m tests.independent.provider --port P --db FILE
--issuer URL --audience AUD --jlis URL --jlis-client ID --jlis-token TOKEN [--ca-file PEM]
[--broken KIND]`` (KIND: one of app.BROKEN; the environment variable INDEPENDENT_PROVIDER_BROKEN
does the same)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from tests.independent.provider.app import BROKEN, Config, create


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.independent.provider")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    for name in ("issuer", "audience", "jlis", "jlis-client", "jlis-token"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--ca-file", help="CA to trust for the issuer (PEM)")
    parser.add_argument("--broken", choices=sorted(BROKEN),
                        default=os.environ.get("INDEPENDENT_PROVIDER_BROKEN") or None)
    args = parser.parse_args()
    app = create(Config(db=args.db, issuer=args.issuer.rstrip("/"), audience=args.audience,
                        jlis=args.jlis.rstrip("/"), jlis_client=args.jlis_client,
                        jlis_token=args.jlis_token, ca_file=args.ca_file, broken=args.broken))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
