"""Run the independent resident registry: HTTPS (TLS 1.2+) on loopback.

    python -m tests.independent.registry --port 18251 --db registry.sqlite3 \\
        --cert server.pem --key server.key --ca ca.pem \\
        --issuer https://127.0.0.1:18200 --audience urn:meshcert:municipal \\
        --municipality 131016 --municipality 131041
"""

from __future__ import annotations

import argparse
import ssl

import uvicorn

from tests.independent.registry.app import create_app
from tests.independent.registry.auth import Verifier
from tests.independent.registry.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.independent.registry")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True, help="the SQLite file (made when missing)")
    parser.add_argument("--cert", required=True, help="server certificate (PEM)")
    parser.add_argument("--key", required=True, help="its private key (PEM)")
    parser.add_argument("--ca", help="CA to trust when fetching the issuer's JWKS")
    parser.add_argument("--issuer", required=True, help="the trusted token issuer (iss)")
    parser.add_argument("--audience", required=True, help="this system's aud")
    parser.add_argument("--municipality", action="append", required=True,
                        help="a local government code this system hosts (repeatable)")
    args = parser.parse_args()
    app = create_app(Store(args.db), Verifier(args.issuer, args.audience, args.ca),
                     set(args.municipality))
    config = uvicorn.Config(app, host=args.host, port=args.port, ssl_certfile=args.cert,
                            ssl_keyfile=args.key, log_level="warning", access_log=False)
    config.load()
    assert isinstance(config.ssl, ssl.SSLContext)
    config.ssl.minimum_version = ssl.TLSVersion.TLSv1_2  # RFC 8996: nothing older
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
