"""The provider as it runs in the field (``python -m meshcert_simulators.serve``), beside a real
resident-registry process: a person logs in through the real login page in headless Chromium,
the scripted holder logs in over real HTTP, and a move recorded at the registry changes the
address the next login returns."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from meshcert.backends.ports import free_port
from meshcert_simulators.common.topology import load_topology
from meshcert_simulators.idp.holder import ScriptedHolder
from meshcert_suites.resident_registry.builders import (
    ADDRESS,
    juminhyo_code,
    move_in,
    movement,
    person,
)
from tests.api.idp_support import TOPOLOGY_PATH, RelyingPartyStub, id_claims, redeem
from tests.integration.browser import browser_page
from tests.integration.served import serving
from tests.integration.topologies import copy_on_free_ports

LG = "131016"


class RelyingPartyServer(ThreadingHTTPServer):
    """A relying party's two pages on a real socket: ``/login`` redirects to ``next_login``;
    ``/callback`` keeps what came back in ``callbacks``."""

    next_login = ""
    callbacks: list[dict[str, str]]


class _Pages(BaseHTTPRequestHandler):
    server: RelyingPartyServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/login":
            self.send_response(302)
            self.send_header("Location", self.server.next_login)
            self.end_headers()
            return
        self.server.callbacks.append(dict(parse_qsl(url.query)))
        body = b"signed in"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        return


@dataclass
class Running:
    issuer: str
    registry: str
    admin: dict[str, str]
    rp: RelyingPartyStub
    rp_server: RelyingPartyServer
    idp_log: Path

    def resident(self, given: str) -> dict[str, Any]:
        body = move_in(person("高橋", given, "02", kana=("タカハシ", "ジロウ"),
                              juminhyo_code=juminhyo_code()))
        moved = httpx.post(f"{self.registry}/municipalities/{LG}/movements", json=body,
                           headers=self.admin, timeout=10)
        assert moved.status_code == 201, moved.text
        return dict(moved.json()["affected"][0])


@contextmanager
def start_relying_party() -> Iterator[RelyingPartyServer]:
    """A relying party's pages on a free port of 127.0.0.1, served from a thread."""
    server = RelyingPartyServer(("127.0.0.1", free_port()), _Pages)
    server.callbacks = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("idp")
    with start_relying_party() as rp_server:
        callback = f"http://127.0.0.1:{rp_server.server_address[1]}/callback"

        def with_callback(data: dict[str, Any]) -> None:
            for client in data["clients"]:
                if client.get("redirect_uris"):
                    client["redirect_uris"] = [callback]

        topology_file = tmp / "topology.yaml"
        copy_on_free_ports(TOPOLOGY_PATH, topology_file, with_callback)
        topology = load_topology(topology_file)

        def command(name: str) -> list[str]:
            return [sys.executable, "-m", "meshcert_simulators.serve", "--name", name,
                    "--topology", str(topology_file), "--data-dir", str(tmp / "data")]

        registry, issuer = topology.url("municipal"), topology.url("idp")
        with serving(command("municipal"), f"{registry}/health", tmp / "municipal.log"), \
                serving(command("idp"), f"{issuer}/health", tmp / "idp.log"):
            yield Running(issuer, registry,
                          {"Authorization": f"Bearer {topology.admin_token}"},
                          RelyingPartyStub(issuer, callback), rp_server, tmp / "idp.log")


def test_the_scripted_holder_logs_in_over_real_http_and_a_move_shows_at_the_next_login(
        running: Running):
    someone = running.resident("次郎")

    def address_after_login() -> str:
        url, login = running.rp.authorize_url()
        running.rp_server.next_login = url
        with httpx.Client(timeout=10) as http:
            result = ScriptedHolder(http, someone["juminhyo_code"]).login(
                f"http://127.0.0.1:{running.rp_server.server_address[1]}/login")
            assert result.callback is not None and result.callback.text == "signed in"
            back = result.callback_params
            assert back["state"] == login.state
            answer = redeem(http, running.issuer, running.rp.redirect_uri, back["code"], login)
            assert answer.status_code == 200, answer.text
            facts = http.get(f"{running.issuer}/userinfo", headers={
                "Authorization": f"Bearer {answer.json()['access_token']}"})
            assert facts.status_code == 200, facts.text
            return str(facts.json()["address"])

    assert address_after_login() == "東京都千代田区霞が関二丁目1-6"
    moved = httpx.post(f"{running.registry}/municipalities/{LG}/movements", timeout=10,
                       headers=running.admin, json=movement(
                           "move-within", setai_number=someone["setai_number"],
                           address={**ADDRESS, "banchi": "4-2"}))
    assert moved.status_code == 201, moved.text
    assert address_after_login() == "東京都千代田区霞が関二丁目4-2"
    # Without a gateway and jpki in the topology, the consent is not recorded: the log says so.
    assert "not recorded: the topology has no gateway" in running.idp_log.read_text()


def test_a_person_logs_in_through_the_real_page_in_headless_chromium(running: Running):
    someone = running.resident("三郎")
    url, login = running.rp.authorize_url()
    seen = len(running.rp_server.callbacks)
    with browser_page() as page:
        page.goto(url)
        page.wait_for("document.querySelector('#consent') !== null")
        shown = page.evaluate("document.body.innerText")
        assert "口座開設の本人確認" in shown                  # the purpose
        assert "氏名" in shown and "Address" in shown          # the facts asked for, ja and en
        code = someone["juminhyo_code"]
        assert page.evaluate(f"[...document.querySelectorAll('#person option')]"
                             f".some(o => o.value === '{code}')")
        page.evaluate(f"document.querySelector('#person').value = '{code}'")
        page.evaluate("document.querySelector('#consent').click()")
        page.wait_for(f"location.href.startsWith('{running.rp.redirect_uri}')")
        assert page.evaluate("document.body.innerText").strip() == "signed in"
    back = running.rp_server.callbacks[seen]
    assert back["state"] == login.state and back["code"]
    with httpx.Client(timeout=10) as http:
        answer = redeem(http, running.issuer, running.rp.redirect_uri, back["code"], login)
        assert answer.status_code == 200, answer.text
        claims = id_claims(http, running.issuer, answer.json()["id_token"])
    assert claims["nonce"] == login.nonce and claims["aud"] == "demo-relying-party"


def test_refusing_in_the_browser_sends_access_denied_back(running: Running):
    running.resident("四郎")
    url, login = running.rp.authorize_url()
    seen = len(running.rp_server.callbacks)
    with browser_page() as page:
        page.goto(url)
        page.wait_for("document.querySelector('#refuse') !== null")
        page.evaluate("document.querySelector('#refuse').click()")
        page.wait_for(f"location.href.startsWith('{running.rp.redirect_uri}')")
    assert running.rp_server.callbacks[seen] == {
        "error": "access_denied", "error_description": "the person refused",
        "state": login.state}
