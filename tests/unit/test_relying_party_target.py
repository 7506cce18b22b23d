"""A private-service target file: its relying_party section is checked before anything starts
(a missing key file, a redirect URI that is neither a path nor a URL, scopes beyond what the
stated purpose needs), and the bundled reference's file is valid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from meshcert.catalog.targets import TargetError, load_target
from meshcert.certify.launch import derived_target
from meshcert_simulators.fixtures import fixture_path

KEY = fixture_path("keys") / "bank-account-opening.public.jwk.json"
PRIVATE_KEY = fixture_path("keys") / "bank-account-opening.private.jwk.json"


def write(tmp_path: Path, **party: Any) -> Path:
    raw = {"target": 1, "name": "a bank", "vendor": "someone", "profile": "private-service",
           "base_url": "http://127.0.0.1:9000", "auth": {"audience": "urn:vendor:bank"},
           "relying_party": {"client_id": "vendor-bank", "redirect_uri": "/cb",
                             "public_jwk": str(KEY), "purpose": "account-opening",
                             "scopes": ["name", "address", "birthdate"], **party}}
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_the_reference_target_is_valid():
    target, _ = load_target(fixture_path("vendors") / "reference-private-service.yaml")
    party = target.relying_party
    assert party is not None and party.client_id == "bank-account-opening"
    assert party.redirect_url(target.base_url) == f"{target.base_url}/callback"


def test_an_absolute_redirect_uri_is_kept(tmp_path):
    target, _ = load_target(write(tmp_path, redirect_uri="https://bank.example/cb"))
    assert target.relying_party is not None
    assert target.relying_party.redirect_url(target.base_url) == "https://bank.example/cb"


@pytest.mark.parametrize(("party", "problem"), [
    ({"scopes": ["name", "gender"]}, "relying_party.scopes: gender not needed"),
    ({"public_jwk": "missing.json"}, "relying_party.public_jwk"),
    ({"public_jwk": str(PRIVATE_KEY)}, "holds a private key"),
    ({"redirect_uri": "callback"}, "relying_party.redirect_uri"),
    ({"purpose": "marketing"}, "relying_party.purpose"),
])
def test_a_bad_relying_party_section_is_refused(tmp_path, party, problem):
    with pytest.raises(TargetError) as caught:
        load_target(write(tmp_path, **party))
    assert problem in str(caught.value)


def test_the_section_is_required_for_the_profile(tmp_path):
    path = write(tmp_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    del raw["relying_party"]
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(TargetError, match="relying_party: required for profile"):
        load_target(path)


def test_a_launched_copy_names_the_key_by_absolute_path(tmp_path):
    source = fixture_path("vendors") / "reference-private-service.yaml"
    copy = yaml.safe_load(derived_target(source, source.parent, "http://127.0.0.1:5",
                                         tmp_path / "topology.yaml"))
    assert Path(copy["relying_party"]["public_jwk"]) == KEY.resolve()
