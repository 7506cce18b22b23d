"""Authentication and authorization (SEC-AUTH-001..008): every request carries a valid access
token of the mesh's issuer, meant for this system, unexpired, properly signed, with the scope the
operation needs and for a municipality the client is registered for.

Each refused token is checked beside a control: the same request with a valid token succeeds, so
a refusal shows the flaw in the token, not a harness that cannot reach the target at all.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from meshcert import HARNESS_CLIENT
from meshcert.checks import ensure_bearer_challenge
from meshcert_simulators.authz.tokens import (
    access_token_claims,
    generate_key,
    hmac_token,
    sign,
    unsigned_token,
)
from meshcert_suites.resident_registry.builders import CONTRACT


def _operations() -> list[tuple[str, str]]:
    """Every operation of the contract that requires credentials (all but the health check
    and the harness's seeding facility)."""
    doc = json.loads(CONTRACT.read_text(encoding="utf-8"))
    found = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if operation.get("security", doc.get("security")) and "admin" not in \
                    operation.get("tags", []):
                found.append((method.upper(), path))
    return found


@pytest.fixture
def call(harness, request):
    """``call(method, path, token=..., authenticated=True, **httpx kwargs)``, recorded."""
    clients = []

    def send(method: str, path: str, *, token: str | None = None, authenticated: bool = True,
             **kwargs: Any):
        client = harness.client(token, authenticated=authenticated,
                                recorder=harness.recorder_for(request.node))
        clients.append(client)
        return client.request(method, path, **kwargs)

    yield send
    for client in clients:
        client.close()


@pytest.fixture
def resident_path(lg, population) -> str:
    return f"/municipalities/{lg}/residents/{population[0]['atena_number']}"


@pytest.fixture
def read_with(call, lg, population):
    """Read the seeded municipality's difference feed (a page of resident records) with
    ``token``, after a control read with a valid token."""
    path = f"/municipalities/{lg}/changes?limit=1"

    def read(token: str):
        control = call("GET", path)
        if control.status_code != 200:
            pytest.fail(f"control: reading {path} with a valid token was answered "
                        f"{control.status_code} ({control.text[:200]}); the target does not "
                        "accept the harness's tokens, so no refusal can be judged",
                        pytrace=False)
        return call("GET", path, token=token)

    return read


def _claims(harness, target, **overrides: Any) -> dict[str, Any]:
    return access_token_claims(issuer=harness.issuer, audience=target.auth.audience,
                               subject=HARNESS_CLIENT, scopes=harness.scopes, **overrides)


def assert_refused(response, token_was: str) -> None:
    ensure_bearer_challenge(response, status=401, what=f"an access token {token_was}")


def assert_forbidden_scope(response, what: str) -> None:
    ensure_bearer_challenge(response, status=403, error="insufficient_scope",
                            what=f"{what} (insufficient scope)")


# -- SEC-AUTH-001: every request is authenticated -------------------------------------------------


def _concrete(path: str, lg: str, person: dict[str, Any]) -> str:
    return path.format(lg_code=lg, atena_number=person["atena_number"],
                       setai_number=person["setai_number"], application_id="meshcert-none")


@pytest.mark.requirement("SEC-AUTH-001")
@pytest.mark.parametrize(("method", "path"), _operations(),
                         ids=[f"{m} {p}" for m, p in _operations()])
def test_a_request_without_a_token_is_refused(call, lg, population, method, path):
    person = population[0]
    url = _concrete(path, lg, person)
    params = {"juminhyo_code": person["juminhyo_code"]} if path.endswith("/residents") else None
    body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    response = call(method, url, authenticated=False, params=params, **body)
    ensure_bearer_challenge(response, status=401,
                            what=f"{method} {url} without an Authorization header")


@pytest.mark.requirement("SEC-AUTH-001")
def test_the_health_check_needs_no_token(call):
    response = call("GET", "/health", authenticated=False)
    assert response.status_code == 200, (
        f"GET /health is the one operation without credentials; it was answered "
        f"{response.status_code}: {response.text[:200]}")


# -- SEC-AUTH-002: audience -----------------------------------------------------------------------


@pytest.mark.requirement("SEC-AUTH-002")
@pytest.mark.parametrize("audience", ["urn:meshcert:another-system",
                                      ["urn:meshcert:another-system", "urn:meshcert:third"]],
                         ids=["single", "list"])
def test_a_token_for_another_audience_is_refused(harness, read_with, audience):
    assert_refused(read_with(harness.token(audience=audience)), f"with aud {audience!r}")


# -- SEC-AUTH-003: lifetime -----------------------------------------------------------------------


@pytest.mark.requirement("SEC-AUTH-003")
@pytest.mark.parametrize("expired_s", [120, 3600], ids=["2-minutes-ago", "an-hour-ago"])
def test_an_expired_token_is_refused(harness, read_with, expired_s):
    now = time.time()
    token = harness.token(now=now - expired_s - 300, lifetime=300)  # exp = now - expired_s
    assert_refused(read_with(token), f"that expired {expired_s} s ago (beyond the 60 s leeway)")


# -- SEC-AUTH-004: signature ----------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _with_payload(token: str, claims: dict[str, Any]) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


def _with_flipped_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return f"{header}.{payload}.{_b64(bytes(raw))}"


@pytest.mark.requirement("SEC-AUTH-004")
def test_a_token_signed_by_another_key_is_refused(harness, target, read_with):
    token = sign(_claims(harness, target), generate_key(), {"typ": "at+jwt"})
    assert_refused(read_with(token), "signed by a key the issuer never published")


@pytest.mark.requirement("SEC-AUTH-004")
def test_a_token_signed_by_another_key_under_the_issuers_kid_is_refused(harness, target,
                                                                          read_with):
    harness.signing_key.ensure_kid()
    token = sign(_claims(harness, target), generate_key(),
                 {"typ": "at+jwt", "kid": harness.signing_key.kid})
    assert_refused(read_with(token), "signed by another key but naming the issuer's kid")


@pytest.mark.requirement("SEC-AUTH-004")
def test_a_token_whose_claims_were_altered_after_signing_is_refused(harness, target,
                                                                    read_with):
    genuine = harness.token(["registry:read"])
    forged = _with_payload(genuine, _claims(harness, target))  # scopes widened, same signature
    assert_refused(read_with(forged), "whose claims were changed after signing")


@pytest.mark.requirement("SEC-AUTH-004")
def test_a_token_with_an_altered_signature_is_refused(harness, read_with):
    assert_refused(read_with(_with_flipped_signature(harness.token())),
                   "with one bit of its signature flipped")


@pytest.mark.requirement("SEC-AUTH-004")
def test_a_token_hmac_signed_with_the_issuers_public_key_is_refused(harness, target, read_with):
    public_pem = harness.signing_key.as_pem(private=False)
    token = hmac_token(_claims(harness, target), public_pem)
    assert_refused(read_with(token), "HS256-signed with the issuer's public key "
                                     "(algorithm confusion)")


# -- SEC-AUTH-005: scope --------------------------------------------------------------------------


@pytest.mark.requirement("SEC-AUTH-005")
def test_a_token_without_the_read_scope_cannot_read_a_resident(harness, call, resident_path):
    control = call("GET", resident_path, token=harness.token(["registry:read"]))
    assert control.status_code == 200, (
        f"control: a token with registry:read could not read {resident_path}: "
        f"{control.status_code} {control.text[:200]}")
    response = call("GET", resident_path, token=harness.token(["moveout:submit"]))
    assert_forbidden_scope(response, "reading a resident with a token that has only "
                                     "moveout:submit")


@pytest.mark.requirement("SEC-AUTH-005")
def test_a_read_only_token_cannot_apply_a_movement(harness, call, sandbox, sandbox_move_in):
    response = call("POST", f"/municipalities/{sandbox}/movements",
                    token=harness.token(["registry:read"]), json=sandbox_move_in())
    assert_forbidden_scope(response, "applying a movement with a token that has only "
                                     "registry:read")


@pytest.mark.requirement("SEC-AUTH-005")
def test_a_token_without_the_audit_scope_cannot_export_the_audit_log(harness, call, lg):
    response = call("GET", f"/municipalities/{lg}/audit-log",
                    token=harness.token(["registry:read", "registry:read-mynumber"]))
    assert_forbidden_scope(response, "exporting the audit log with a token without audit:read")


# -- SEC-AUTH-006: alg none -----------------------------------------------------------------------


@pytest.mark.requirement("SEC-AUTH-006")
@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_an_unsigned_token_is_refused(harness, target, read_with, alg):
    token = unsigned_token(_claims(harness, target), {"alg": alg})
    assert_refused(read_with(token), f"with alg {alg!r} and no signature")


# -- SEC-AUTH-007: issuer -------------------------------------------------------------------------


@pytest.mark.requirement("SEC-AUTH-007")
@pytest.mark.parametrize("issuer", ["https://issuer.invalid", "{issuer}/"],
                         ids=["another-issuer", "issuer-with-trailing-slash"])
def test_a_token_from_another_issuer_is_refused(harness, read_with, issuer):
    iss = issuer.format(issuer=harness.issuer.rstrip("/"))
    # Signed with the real issuer's key: only the iss claim is wrong.
    assert_refused(read_with(harness.token(iss=iss)), f"with iss {iss!r}")


# -- SEC-AUTH-008: tenant isolation ---------------------------------------------------------------


@pytest.fixture
def other(target) -> str:
    if not target.other_municipality:
        pytest.skip("the target file names no other_municipality: tenant isolation needs a "
                    "second municipality the system hosts")
    return target.other_municipality


def _limited(harness, lg: str) -> str:
    return harness.token(municipalities=[lg])


@pytest.mark.requirement("SEC-AUTH-008")
@pytest.mark.parametrize("path", ["/municipalities/{m}/changes", "/municipalities/{m}/audit-log"])
def test_a_token_for_one_municipality_reads_nothing_of_another(harness, call, lg, other, path):
    token = _limited(harness, lg)
    control = call("GET", path.format(m=lg), token=token)
    assert control.status_code == 200, (
        f"control: a token limited to {lg} could not read {path.format(m=lg)}: "
        f"{control.status_code} {control.text[:200]}")
    response = call("GET", path.format(m=other), token=token)
    assert response.status_code == 403, (
        f"a token limited to municipality {lg} must get 403 for {path.format(m=other)} of "
        f"municipality {other}; the target answered {response.status_code}: "
        f"{response.text[:300]}")


@pytest.mark.requirement("SEC-AUTH-008")
def test_a_token_for_one_municipality_cannot_write_to_another(harness, call, lg, other,
                                                             sandbox_move_in):
    response = call("POST", f"/municipalities/{other}/movements", token=_limited(harness, lg),
                    json=sandbox_move_in())
    assert response.status_code == 403, (
        f"a token limited to municipality {lg} must get 403 when applying a movement in "
        f"{other}; the target answered {response.status_code}: {response.text[:300]}")
