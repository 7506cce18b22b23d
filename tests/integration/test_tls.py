"""The certify topology for real: `sim up` over TLS with a local CA, JWT-only registry."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from meshcert_simulators.authz import tokens
from meshcert_simulators.common.tls import LocalTls, client_context
from tests.integration.topologies import copy_on_free_ports
from tests.tokens import MUNICIPAL_AUDIENCE, client_key

pytestmark = pytest.mark.slow

CERTIFY = Path(__file__).parents[2] / "fixtures" / "topologies" / "certify.yaml"


@dataclass(frozen=True)
class Mesh:
    topology: Path
    run_dir: Path
    municipal: str
    authz: str
    municipal_port: int

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "meshcert.cli", *args, "--topology", str(self.topology),
             "--run-dir", str(self.run_dir)],
            capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})

    @property
    def ca(self) -> Path:
        return LocalTls(self.run_dir / "tls").ca_cert


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    folder = tmp_path_factory.mktemp("certify")
    topology = folder / "certify.yaml"
    data = copy_on_free_ports(CERTIFY, topology)
    ports = {name: spec["port"] for name, spec in data["simulators"].items()}
    mesh = Mesh(topology, folder / "run", f"https://127.0.0.1:{ports['municipal']}",
                f"https://127.0.0.1:{ports['authz']}", ports["municipal"])
    started = mesh.cli("sim", "up")
    assert started.returncode == 0, started.stderr
    yield mesh
    mesh.cli("sim", "down")


def test_https_verified_against_the_local_ca_succeeds(mesh: Mesh) -> None:
    trust = client_context(mesh.ca)
    for url in (mesh.municipal, f"https://localhost:{mesh.municipal_port}"):
        health = httpx.get(f"{url}/health", verify=trust, timeout=5)
        assert health.status_code == 200
        assert health.json()["simulator"] == "municipal"
    status = mesh.cli("sim", "status")
    assert status.returncode == 0, status.stdout
    assert mesh.municipal in status.stdout


def test_a_client_that_does_not_trust_the_local_ca_fails_verification(mesh: Mesh) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{mesh.municipal}/health", timeout=5)


def handshake(port: int, context: ssl.SSLContext) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        return str(tls.version())


def test_tls_1_1_and_lower_are_refused(mesh: Mesh) -> None:
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(mesh.ca)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1/1.1 are, rightly
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer them at all
    with pytest.raises(ssl.SSLError) as failed:
        handshake(mesh.municipal_port, old)
    if "NO_PROTOCOLS_AVAILABLE" in str(failed.value):
        pytest.skip("this OpenSSL cannot offer TLS 1.1 at all; TLS 1.2 checked below")
    # Refused by the server after it saw the ClientHello: an alert, or (uvloop) a hang-up.
    assert isinstance(failed.value, ssl.SSLEOFError) or "PROTOCOL_VERSION" in str(failed.value)
    assert httpx.get(f"{mesh.municipal}/health", verify=client_context(mesh.ca),
                     timeout=5).status_code == 200  # and it still serves others


def test_tls_1_2_and_1_3_are_served(mesh: Mesh) -> None:
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        context = client_context(mesh.ca)
        context.minimum_version = context.maximum_version = version
        assert handshake(mesh.municipal_port, context) == {
            ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]


def test_plain_http_to_the_tls_port_gets_no_200(mesh: Mesh) -> None:
    try:
        response = httpx.get(f"http://127.0.0.1:{mesh.municipal_port}/health", timeout=5)
    except httpx.HTTPError:
        return
    assert response.status_code != 200


def test_a_token_got_over_tls_opens_the_jwt_only_registry(mesh: Mesh) -> None:
    trust = client_context(mesh.ca)
    endpoint = f"{mesh.authz}/oauth/token"
    form = {"grant_type": "client_credentials",
            "client_assertion_type": tokens.CLIENT_ASSERTION_TYPE,
            "client_assertion": tokens.make_client_assertion(client_key("demo-downstream"),
                                                             "demo-downstream", endpoint),
            "resource": MUNICIPAL_AUDIENCE}
    granted = httpx.post(endpoint, data=form, verify=trust, timeout=5)
    assert granted.status_code == 200, granted.text
    token = granted.json()["access_token"]
    changes = f"{mesh.municipal}/municipalities/131016/changes"
    # The registry fetches the issuer's keys over TLS (trusting the same local CA).
    read = httpx.get(changes, headers={"Authorization": f"Bearer {token}"}, verify=trust,
                     timeout=10)
    assert read.status_code == 200, read.text
    static = httpx.get(changes, headers={"Authorization": "Bearer meshcert-admin-certify-"
                                                          "local-only-0001"},
                       verify=trust, timeout=5)
    assert static.status_code == 401
    assert static.json()["reason"] == "static-token-refused"
