"""The idp's side of the portal: every access token also names the portal in ``aud``, and
introspection names the person (住民票コード) only to a caller holding ``idp:person-link``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from meshcert_simulators.common.topology import topology_from_raw
from tests.api.idp_support import TOPOLOGY_PATH, World, make_world
from tests.api.test_idp import tokens

PORTAL = "meshcert-portal-person-link-test-0001"
GATEWAY = "meshcert-idp-gateway-local-only-0001"  # idp.yaml: idp:introspect only


@pytest.fixture
def world(tmp_path: Path) -> World:
    raw = yaml.safe_load(TOPOLOGY_PATH.read_text(encoding="utf-8"))
    raw["clients"].append({"id": "portal", "token": PORTAL,
                           "roles": ["idp:introspect", "idp:person-link"]})
    return make_world(tmp_path, topology_from_raw(raw, TOPOLOGY_PATH.parent))


def _introspect(world: World, token: str, credential: str) -> dict[str, object]:
    answer = world.http.post("/introspect", data={"token": token},
                             headers={"Authorization": f"Bearer {credential}"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_access_tokens_name_the_portal_and_only_the_portal_learns_the_person(world: World):
    person = world.resident()["juminhyo_code"]
    access_token = tokens(world, person)["access_token"]
    claims = world.provider.access_claims_of(access_token)
    assert "urn:meshcert:portal" in claims["aud"] and "urn:meshcert:gateway" in claims["aud"]
    linked = _introspect(world, access_token, PORTAL)
    assert linked["active"] is True and linked["juminhyo_code"] == person
    plain = _introspect(world, access_token, GATEWAY)
    assert plain["active"] is True and "juminhyo_code" not in plain
    assert person not in str(plain)
