"""Run one simulator of a topology under uvicorn: ``python -m meshcert_simulators.serve --name
NAME``.

This is what every backend starts (a local process, or the command of a container). A simulator
with ``tls: true`` serves HTTPS (TLS 1.2 at least) with the local CA's server certificate from
``--tls-dir`` (made there if missing).
"""

from __future__ import annotations

import argparse
import ssl
import sys
from dataclasses import replace
from pathlib import Path

import uvicorn

from meshcert_simulators import defects
from meshcert_simulators.common.http_protocol import ProblemHttpProtocol
from meshcert_simulators.common.jwks import KeyFileError
from meshcert_simulators.common.peer_certs import PeerCertificateProtocol
from meshcert_simulators.common.settings import Settings, SettingsError
from meshcert_simulators.common.tls import ask_client_certificates, ensure_local_tls
from meshcert_simulators.common.topology import TopologyError
from meshcert_simulators.registry import create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m meshcert_simulators.serve",
                                     description=__doc__)
    parser.add_argument("--name", help="simulator name in the topology (default: the first)")
    parser.add_argument("--topology", type=Path, help="topology file (default: embedded)")
    parser.add_argument("--data-dir", type=Path, help="folder for the SQLite files")
    parser.add_argument("--host", help="override the topology's host")
    parser.add_argument("--port", type=int, help="override the topology's port")
    parser.add_argument("--tls-dir", type=Path,
                        help="folder of the local CA and server certificate (default: "
                             "beside the data folder)")
    parser.add_argument("--defect", metavar="ID",
                        help="start with a named defect (negative control; see "
                             "meshcert_simulators/defects/)")
    args = parser.parse_args(argv)
    try:
        defect = defects.get(args.defect) if args.defect else None
        settings = Settings.from_env(args.name, args.topology, args.data_dir, args.tls_dir)
        if settings.tls_dir is None:  # the run folder's: <run>/data and <run>/tls
            settings = replace(settings, tls_dir=Path(settings.data_dir).parent / "tls")
        if defect:
            settings = defect.settings(settings)
        app = create_app(settings)
        if defect:
            app = defect.apply(app)
    except (TopologyError, SettingsError, KeyFileError, ValueError) as exc:
        print(f"meshcert: {exc}", file=sys.stderr)
        return 2
    # A request the HTTP parser refuses is answered as a problem (http_protocol.py); a simulator
    # asking for client certificates also passes the verified one on to its app.
    http = PeerCertificateProtocol if settings.spec.mtls else ProblemHttpProtocol
    uvicorn.run(app, host=args.host or settings.spec.host, port=args.port or settings.spec.port,
                log_level="warning", access_log=False, loop="uvloop", http=http,
                **_tls_options(settings))
    return 0


def _tls_options(settings: Settings) -> dict[str, object]:
    """uvicorn's SSL options for a ``tls: true`` simulator: our own context
    (``settings.tls_server_context``), so the minimum version is TLS 1.2 whatever the system's
    OpenSSL defaults are."""
    if not settings.spec.tls:
        return {}
    tls = ensure_local_tls(Path(str(settings.tls_dir)))

    def context(_config: object, _default: object) -> ssl.SSLContext:
        made = settings.tls_server_context(tls)
        return ask_client_certificates(made, tls) if settings.spec.mtls else made

    return {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key),
            "ssl_context_factory": context}


if __name__ == "__main__":
    sys.exit(main())
