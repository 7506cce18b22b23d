"""Mutual TLS on the mesh, for real: an institution marked ``mtls`` is served only when its call
comes with the client certificate the local CA issued to its client — the token alone, or
another client's certificate, does not open the mesh."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshcert_simulators.common.identifiers import generate_juminhyo_code
from meshcert_simulators.common.tls import LocalTls, client_certificate, client_context
from tests.integration.topologies import copy_on_free_ports

pytestmark = pytest.mark.slow

MESH = Path(__file__).parents[2] / "fixtures" / "topologies" / "mesh.yaml"
CHILD = "chiyoda-child-allowance"


@dataclass(frozen=True)
class Running:
    url: str
    tls: LocalTls
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("mtls")

    def with_mtls(data: dict[str, Any]) -> None:
        data["simulators"]["mesh"].update(tls=True, mtls=True)
        for inst in data["institutions"]:
            if inst["code"] == CHILD:
                inst["mtls"] = True

    topology = folder / "mesh.yaml"
    data = copy_on_free_ports(MESH, topology, with_mtls)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "meshcert.cli", "sim", *args, "--topology",
                               str(topology), "--run-dir", str(folder / "run")],
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, "COLUMNS": "200"})

    started = cli("up")
    assert started.returncode == 0, started.stderr
    tokens = {c["id"]: c["token"] for c in data["clients"] if "token" in c}
    try:
        yield Running(f"https://127.0.0.1:{data['simulators']['mesh']['port']}",
                      LocalTls(folder / "run" / "tls"), tokens)
    finally:
        cli("down")


def ask_code(mesh: Running, client: str, cert: tuple[Path, Path] | None) -> httpx.Response:
    with httpx.Client(verify=client_context(mesh.tls.ca_cert, cert), timeout=10) as http:
        return http.post(f"{mesh.url}/v1/codes",
                         json={"juminhyo_code": generate_juminhyo_code(random.Random(3))},
                         headers={"Authorization": f"Bearer {mesh.tokens[client]}"})


def test_the_institutions_own_certificate_opens_the_mesh(mesh: Running) -> None:
    answer = ask_code(mesh, "mesh-child-allowance",
                      client_certificate(mesh.tls, "mesh-child-allowance"))
    assert answer.status_code in (200, 201), answer.text
    assert answer.json()["institution"] == CHILD


def test_the_token_alone_is_refused(mesh: Running) -> None:
    answer = ask_code(mesh, "mesh-child-allowance", None)
    assert answer.status_code == 401
    assert answer.json()["type"] == "urn:meshcert:problem:client-certificate-required"


def test_another_clients_certificate_is_refused(mesh: Running) -> None:
    answer = ask_code(mesh, "mesh-child-allowance",
                      client_certificate(mesh.tls, "mesh-benefit-agency"))
    assert answer.status_code == 403
    assert answer.json()["type"] == "urn:meshcert:problem:client-certificate-mismatch"


def test_institutions_without_mtls_still_need_only_their_token(mesh: Running) -> None:
    answer = ask_code(mesh, "mesh-benefit-agency", None)
    assert answer.status_code in (200, 201), answer.text
