"""Run the independent relying party: ``python -m tests.independent.private_service --port P
--issuer URL --gateway URL --client-id ID --key PRIVATE_JWK_FILE --redirect-uri URL
[--broken KIND]`` (KIND: one of app.BROKEN)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import uvicorn
from joserfc.jwk import import_key

from tests.independent.private_service.app import BROKEN, Config, create


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.independent.private_service")
    parser.add_argument("--port", type=int, required=True)
    for name in ("issuer", "gateway", "client-id", "redirect-uri"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--key", type=Path, required=True, help="private JWK file")
    parser.add_argument("--broken", choices=sorted(BROKEN))
    args = parser.parse_args()
    key = import_key(json.loads(args.key.read_text(encoding="utf-8")))
    key.ensure_kid()
    app = create(Config(issuer=args.issuer.rstrip("/"), gateway=args.gateway.rstrip("/"),
                        client_id=args.client_id, key=key, redirect_uri=args.redirect_uri,
                        broken=args.broken))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
