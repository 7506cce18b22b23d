"""The client certificate of a mutual-TLS connection, handed to the app as ASGI's TLS extension.

uvicorn verifies a client certificate (the server context asks for one) but does not pass it on.
:class:`PeerCertificateProtocol` adds ``scope["extensions"]["tls"]["client_cert_chain"]`` (the
ASGI TLS extension's key; PEM strings, the peer first) to every request of the connection, and
:func:`client_certificate_of` reads it back in the app.
"""

from __future__ import annotations

import ssl

from starlette.types import Scope

from meshcert_simulators.common.http_protocol import ProblemHttpProtocol


class PeerCertificateProtocol(ProblemHttpProtocol):
    """The simulators' HTTP protocol (http_protocol.py), plus the verified peer certificate in
    each request scope."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        ssl_object = self.transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
        self.scope["extensions"] = {"tls": {"client_cert_chain": chain}}  # type: ignore[typeddict-item]


def client_certificate_of(scope: Scope) -> bytes | None:
    """The DER client certificate of the request's connection, if one was presented."""
    chain = scope.get("extensions", {}).get("tls", {}).get("client_cert_chain") or []
    return ssl.PEM_cert_to_DER_cert(chain[0]) if chain else None
