"""`meshcert harness up`'s plan and brief for each profile, without processes: the vendor
topology derived from the profile's (reference dropped, its institution pointing at the vendor,
the vendor's key registered), and a brief that names exactly what `meshcert certify` then uses
(issuer, CA, run folder, topology)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from meshcert.backends import processes
from meshcert.catalog.requirements import load_catalog
from meshcert.catalog.targets import load_target
from meshcert.certify.harness import PROFILE_TOPOLOGIES, harness_for
from meshcert.certify.harness_side import (
    PLACEHOLDER_URL,
    HarnessSideError,
    Plan,
    make_brief,
    plan,
)
from meshcert.cli.harness import harness_app, render
from meshcert_simulators.common.tls import LocalTls
from meshcert_simulators.common.topology import load_topology

KEYS = Path(__file__).resolve().parents[2] / "fixtures" / "keys"
REFERENCE = {"resident-registry": "municipal", "information-provider": "tax",
             "mesh-inquirer": "child-allowance", "private-service": "bank",
             "front-service": "front-app", "downstream-system": "nhi"}
VENDOR_URL = "https://127.0.0.1:9443"
TARGETS: dict[str, dict[str, Any]] = {
    "resident-registry": {"auth": {"audience": "urn:vendor:registry"},
                          "municipality": "131016", "other_municipality": "131041",
                          "seeding": {"method": "endpoint", "path": "/vendor/seed"}},
    "information-provider": {"auth": {"audience": "urn:vendor:tax"},
                             "provider": {"institution": "chiyoda-resident-tax",
                                          "item_codes": ["TM00000000000002"],
                                          "seeding_path": "/vendor/seed"}},
    "mesh-inquirer": {"auth": {"audience": "urn:vendor:allowance"},
                      "inquirer": {"institution": "chiyoda-child-allowance",
                                   "applications_path": "/apps", "give_up_within_s": 5}},
    "private-service": {"auth": {"audience": "urn:vendor:bank"},
                        "relying_party": {
                            "client_id": "vendor-bank", "redirect_uri": "/cb",
                            "public_jwk": str(KEYS / "bank-account-opening.public.jwk.json"),
                            "purpose": "account-opening", "scopes": ["name", "birthdate"]}},
    "front-service": {"auth": {"audience": "urn:vendor:front"},
                      "relying_party": {
                          "client_id": "vendor-front", "redirect_uri": "/cb",
                          "public_jwk": str(KEYS / "front-app.public.jwk.json"),
                          "purpose": "moveout", "scopes": ["name", "address"]},
                      "front_service": {"moveouts_path": "/filings"}},
    "downstream-system": {"auth": {"audience": "urn:vendor:seal"},
                          "downstream": {"client": "seal-register", "municipality": "131016",
                                         "my_number": False, "poll_interval_s": 2}},
}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The run folder is relative to the working directory, as for `meshcert certify`.
    monkeypatch.chdir(tmp_path)


def write_target(tmp_path: Path, profile: str, **changes: Any) -> Path:
    raw = {"target": 1, "name": "a vendor system", "vendor": "someone", "profile": profile,
           "base_url": VENDOR_URL, "tls": {"ca_file": "run"}, **TARGETS[profile], **changes}
    path = tmp_path / f"{profile}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def brief_of(chosen: Plan) -> dict[str, Any]:
    """The brief as `harness up` makes it, the simulators taken as started on the topology's
    ports (what processes.up reports), the JWKS file as fetched."""
    launched = [processes.Launched(name, 4242, chosen.topology.url(name),
                                   processes.log_file(chosen.run_dir, name))
                for name in chosen.names]
    return make_brief(chosen, launched, chosen.run_dir / "jwks.json")


@pytest.mark.parametrize("profile", sorted(PROFILE_TOPOLOGIES))
def test_the_vendor_topology_keeps_the_harness_and_drops_the_reference(profile):
    chosen = plan(profile)
    harness_side = set(load_catalog().profiles[profile].simulators)
    assert set(chosen.topology.simulators) == harness_side == set(chosen.names)
    assert REFERENCE[profile] in load_topology(PROFILE_TOPOLOGIES[profile]).simulators
    assert REFERENCE[profile] not in chosen.topology.simulators
    # Same name, same ports: the run folder and URLs certify uses for a vendor target.
    source = load_topology(PROFILE_TOPOLOGIES[profile])
    assert chosen.topology.name == source.name
    assert {n: chosen.topology.url(n) for n in chosen.names} == {
        n: source.url(n) for n in chosen.names}
    assert chosen.run_dir == processes.default_run_dir(source).resolve()


def test_the_institution_the_reference_served_points_at_the_vendor(tmp_path):
    without = plan("information-provider").topology.institution("chiyoda-resident-tax")
    assert without is not None and (without.simulator, without.url) == (None, PLACEHOLDER_URL)
    chosen = plan(target_path=write_target(tmp_path, "information-provider"))
    found = chosen.topology.institution("chiyoda-resident-tax")
    assert found is not None and found.url == VENDOR_URL and found.simulator is None


def test_a_vendor_key_replaces_the_demo_key_of_the_inquirers_client():
    key = KEYS / "demo-clerk.public.jwk.json"
    chosen = plan("mesh-inquirer", client_key=key)
    client = chosen.topology.client("mesh-child-allowance")
    assert client is not None and client.public_jwk == str(key.resolve())
    [registered] = brief_of(chosen)["register"]
    assert registered == {"client_id": "mesh-child-allowance", "public_jwk": str(key.resolve()),
                          "demo_key": False,
                          "note": "your public key, registered with --client-key"}
    [demo] = brief_of(plan("mesh-inquirer"))["register"]
    assert demo["demo_key"] is True
    assert demo["public_jwk"] == str(KEYS / "mesh-child-allowance.public.jwk.json")


@pytest.mark.parametrize("profile", sorted(PROFILE_TOPOLOGIES))
def test_the_brief_names_what_certify_then_uses(tmp_path, profile):
    target_path = write_target(tmp_path, profile)
    chosen = plan(target_path=target_path)
    brief = brief_of(chosen)
    # What certify does with `--topology <brief topology>` for a target without launch.
    chosen.run_dir.mkdir(parents=True)
    Path(brief["topology"]).write_text(yaml.safe_dump(chosen.raw, allow_unicode=True),
                                       encoding="utf-8")
    certify_topology = load_topology(Path(brief["topology"]))
    run_dir = processes.default_run_dir(certify_topology).resolve()
    target, base = load_target(target_path)
    harness = harness_for(target, base, brief["topology"], run_dir)
    assert str(run_dir) == brief["run_dir"]
    assert harness.issuer == brief["issuer"]["url"]
    assert str(harness.ca_file()) == brief["ca_file"] == str(
        LocalTls(processes.tls_dir(run_dir)).ca_cert)
    assert brief["issuer"]["jwks_url"] == f"{harness.issuer}/.well-known/jwks.json"
    assert brief["issuer"]["token_endpoint"] == f"{harness.issuer}/oauth/token"
    assert {n: s["url"] for n, s in brief["simulators"].items()} == {
        n: certify_topology.url(n) for n in load_catalog().profiles[profile].simulators}
    assert brief["certify"] == (f"meshcert certify --target {target_path.resolve()} "
                                f"--topology {brief['topology']}")
    calls = brief["harness_calls_you"]
    assert (calls["base_url"], calls["audience"]) == (VENDOR_URL, TARGETS[profile]["auth"][
        "audience"])
    # The harness's tokens name this subject and carry these scopes (meshcert.certify.harness).
    token_claims = harness.token().split(".")[1]
    claims = json.loads(_b64(token_claims))
    assert claims["sub"] == calls["subject"]
    assert claims["scope"].split() == calls["scopes"]
    assert claims["aud"] == calls["audience"]
    assert claims["iss"] == brief["issuer"]["url"]
    json.dumps(brief)  # the brief is JSON as written for scripts


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_a_registry_brief_names_the_seeding_endpoint_and_nothing_to_call(tmp_path):
    brief = brief_of(plan(target_path=write_target(tmp_path, "resident-registry")))
    assert brief["you_call"] == [] and brief["register"] == []
    assert brief["harness_calls_you"]["subject"] == "meshcert-harness"
    assert any(op.startswith("POST /vendor/seed") for op in
               brief["harness_calls_you"]["operations"])
    assert brief["harness_calls_you"]["contract"].endswith("resident-registry.openapi.json")


def test_a_provider_brief_says_where_and_how_to_register_copies(tmp_path):
    chosen = plan(target_path=write_target(tmp_path, "information-provider"))
    brief = brief_of(chosen)
    assert brief["harness_calls_you"]["subject"] == "mesh"
    assert "POST /vendor/seed: persons by 符号 and figures (scope admin)" in brief[
        "harness_calls_you"]["operations"]
    [jlis] = brief["you_call"]
    topology = load_topology(PROFILE_TOPOLOGIES["information-provider"])
    client = topology.client("mesh-resident-tax")
    assert client is not None
    assert jlis["url"] == topology.url("jlis")
    assert (jlis["client_id"], jlis["token"]) == ("mesh-resident-tax", client.token)
    assert jlis["operations"] == [
        f"PUT {topology.url('jlis')}/v1/copies/mesh-resident-tax/{{符号}}/{{item}}"]
    text = "\n".join(render(brief))
    assert client.token is not None and client.token in text
    assert f"PUT {topology.url('jlis')}/v1/copies/mesh-resident-tax/" in text


def test_an_inquirer_brief_names_the_mesh_its_client_and_what_it_may_ask(tmp_path):
    brief = brief_of(plan(target_path=write_target(tmp_path, "mesh-inquirer")))
    [mesh] = brief["you_call"]
    topology = load_topology(PROFILE_TOPOLOGIES["mesh-inquirer"])
    assert (mesh["url"], mesh["audience"]) == (topology.url("mesh"), "urn:meshcert:mesh")
    assert (mesh["client_id"], mesh["institution"]) == ("mesh-child-allowance",
                                                        "chiyoda-child-allowance")
    assert {"procedure_code": "JT01010000000214", "provider": "chiyoda-resident-tax",
            "item_code": "TM00000000000002"} in mesh["may_ask"]
    assert "POST /apps (scope allowance:apply)" in brief["harness_calls_you"]["operations"]
    text = "\n".join(render(brief))
    for expected in (brief["ca_file"], brief["issuer"]["jwks_url"], brief["certify"],
                     "urn:vendor:allowance", "mesh-child-allowance", topology.url("mesh"),
                     "may ask      chiyoda-resident-tax: procedure JT01010000000214"):
        assert expected in text


def test_without_a_target_the_text_says_what_to_fill_in():
    text = "\n".join(render(brief_of(plan("mesh-inquirer"))))
    assert "<auth.audience of your target file>" in text
    assert "meshcert certify --target my-system.yaml --topology " in text


@pytest.mark.parametrize(("changes", "message"), [
    ({"launch": {"topology": "x.yaml", "simulator": "tax"}}, "is a bundled reference"),
    ({"provider": {"institution": "chiyoda-child-allowance",
                   "item_codes": ["TM00000000000002"]}},
     "provider.institution 'chiyoda-child-allowance' is not among the providers"),
])
def test_a_target_that_cannot_be_served_is_refused(tmp_path, changes, message):
    path = write_target(tmp_path, "information-provider", **changes)
    if "launch" in changes:
        (tmp_path / "x.yaml").write_text("{}", encoding="utf-8")
    with pytest.raises(HarnessSideError, match=message):
        plan(target_path=path)


def test_a_profile_other_than_the_targets_is_refused(tmp_path):
    with pytest.raises(HarnessSideError, match="profile information-provider"):
        plan("mesh-inquirer", target_path=write_target(tmp_path, "information-provider"))


def test_a_key_is_refused_where_nothing_is_registered_or_when_it_is_private():
    with pytest.raises(HarnessSideError, match="no key to register"):
        plan("resident-registry", client_key=KEYS / "demo-clerk.public.jwk.json")
    with pytest.raises(HarnessSideError, match="private key"):
        plan("mesh-inquirer", client_key=KEYS / "demo-clerk.private.jwk.json")


def test_the_cli_reports_a_bad_request_in_one_line():
    result = CliRunner().invoke(harness_app, ["up", "--profile", "resident-registry",
                                              "--client-key",
                                              str(KEYS / "demo-clerk.public.jwk.json")])
    assert result.exit_code == 2
    assert "no key to register" in result.output
    result = CliRunner().invoke(harness_app, ["status", "--profile", "mesh-inquirer"])
    assert result.exit_code == 1 and "not set up" in result.output


@pytest.mark.parametrize("command", [[], ["up"], ["down"], ["status"]])
def test_every_harness_help_teaches_with_an_example(command):
    result = CliRunner().invoke(harness_app, [*command, "--help"])
    assert result.exit_code == 0 and "Example" in result.output
