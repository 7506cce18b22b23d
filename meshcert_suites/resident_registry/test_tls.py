"""Transport security: the API is served over TLS 1.2 or later only (SEC-TLS-001, SEC-TLS-002).

The handshakes are made with the standard library so the harness controls exactly which
versions it offers; each attempt is kept in the evidence like an HTTP exchange.
"""

from __future__ import annotations

import socket
import ssl
import time
import warnings
from urllib.parse import urlsplit

import httpx
import pytest

from meshcert import Exchange

MODERN = (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)


def _endpoint(target) -> tuple[str, int]:
    parts = urlsplit(target.base_url)
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def _client_context(harness, *, highest: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca = harness.ca_file()
    if ca is not None:
        context.load_verify_locations(cafile=str(ca))
    else:
        context.load_default_certs()
    if not harness.target.tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if highest is not None:
        with warnings.catch_warnings():  # the old versions are deprecated: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = highest
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let OpenSSL 3 offer what we ask
    return context


def _handshake(harness, recorder, context: ssl.SSLContext, offered: str
               ) -> tuple[str | None, ssl.SSLError | OSError | None]:
    """Connect and handshake; (negotiated version, None) or (None, the error). Recorded."""
    host, port = _endpoint(harness.target)
    exchange = Exchange("TLS-HANDSHAKE", f"tls://{host}:{port}", {}, f"client offers {offered}")
    recorder.exchanges.append(exchange)
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname=host) as tls:
            version = tls.version()
            exchange.response_body = f"handshake completed: {version}, cipher {tls.cipher()}"
            return version, None
    except (ssl.SSLError, OSError) as exc:
        exchange.error = f"{type(exc).__name__}: {exc}"
        return None, exc
    finally:
        exchange.elapsed_ms = round((time.perf_counter() - started) * 1000, 3)


@pytest.mark.requirement("SEC-TLS-001")
def test_api_is_served_over_https_with_tls_1_2_or_later(harness, target, request):
    assert urlsplit(target.base_url).scheme == "https", (
        f"the target's base_url is {target.base_url}: the API must be served over HTTPS")
    recorder = harness.recorder_for(request.node)
    version, error = _handshake(harness, recorder, _client_context(harness), "TLS 1.2 and 1.3")
    assert error is None, f"a TLS 1.2+ handshake with the target failed: {error}"
    assert version in ("TLSv1.2", "TLSv1.3"), (
        f"expected the handshake to settle on TLS 1.2 or 1.3; it settled on {version}")


@pytest.mark.requirement("SEC-TLS-001")
@pytest.mark.parametrize("path", ["/health", "/municipalities/{lg}/changes"])
def test_the_https_port_answers_no_plain_http(harness, target, lg, request, path):
    """Cleartext HTTP to the API's own port gets no data (no credentials are sent)."""
    host, port = _endpoint(target)
    url = f"http://{host}:{port}{path.format(lg=lg)}"
    recorder = harness.recorder_for(request.node)
    with httpx.Client(timeout=10, event_hooks=recorder.hooks()) as plain:
        try:
            response = plain.get(url)
        except httpx.HTTPError as exc:
            recorder.exchanges[-1].error = f"{type(exc).__name__}: {exc}"
            return  # refused at the protocol level: no cleartext service on the TLS port
    assert not response.is_success, (
        f"plain HTTP GET {url} was answered {response.status_code} with "
        f"{response.headers.get('content-type')!r}: the HTTPS port also serves cleartext "
        f"({response.text[:200]!r})")


@pytest.mark.requirement("SEC-TLS-002")
@pytest.mark.parametrize("highest", [ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1],
                         ids=["tls-1.1", "tls-1.0"])
def test_a_client_offering_at_most_old_tls_is_refused(harness, request, highest):
    offered = f"TLS 1.0 up to {highest.name.replace('TLSv', 'TLS ').replace('_', '.')}"
    try:
        context = _client_context(harness, highest=highest)
    except (ValueError, ssl.SSLError) as exc:
        pytest.skip(f"this machine's OpenSSL cannot offer {offered}: {exc}")
    version, error = _handshake(harness, harness.recorder_for(request.node), context, offered)
    if isinstance(error, ssl.SSLError) and error.reason == "NO_PROTOCOLS_AVAILABLE":
        pytest.skip(f"this machine's OpenSSL cannot offer {offered}; not verifiable here")
    if isinstance(error, ConnectionRefusedError | TimeoutError):
        pytest.fail(f"the target could not be reached at all ({error}), so whether it refuses "
                    "old TLS is unknown", pytrace=False)
    assert version is None, (
        f"a client offering only {offered} completed a handshake with {version}: versions "
        "before TLS 1.2 must be refused (RFC 8996)")
