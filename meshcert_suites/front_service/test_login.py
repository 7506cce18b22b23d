"""The app signs the person in through digital authentication as a relying party must
(FRONT-AUTH-001, FRONT-AUTH-002) and sends no data the procedure does not need
(FRONT-DATA-001). The relying-party checks are the private-service suites' own, imported and
applied to the app; what the app sent the portal is judged from the portal's capture."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from meshcert.checks import find_identifiers
from meshcert_suites.front_service.conftest import (
    App,
    Person,
    Portal,
    accepted,
    body_of,
    form,
)
from meshcert_suites.private_service import test_bad_answers as rp_answers
from meshcert_suites.private_service import test_login_request as rp_request
from meshcert_suites.private_service.conftest import Provider, System

# The bad answers of digital authentication a front service is tried with (of the
# private-service profile's): forged or misdirected ID tokens and a wrong state.
BAD_ANSWERS = ("wrong-iss", "wrong-aud", "bad-signature", "alg-none", "wrong-nonce",
               "wrong-state")
# The move-out's fields in the portal's contract (POST /v1/moveouts): all a filing may carry.
PROCEDURE_FIELDS = {"on_behalf_of", "moving_date", "new_address", "reason", "idempotency_key"}
ADDRESS_FIELDS = {"lg_code", "address"}


@pytest.fixture
def captured(system: System, provider: Provider, recorded_provider: httpx.Client,
             persons: list[Person]) -> rp_request.Captured:
    return rp_request.two_logins(system, provider, recorded_provider, persons)


@pytest.mark.requirement("FRONT-AUTH-001")
def test_every_login_uses_pkce_fresh_secrets_and_private_key_jwt(
        captured: rp_request.Captured, public_jwk: dict[str, Any], system: System):
    rp_request.test_every_login_sends_a_new_s256_challenge_and_its_verifier(captured)
    rp_request.test_every_login_sends_a_fresh_state_and_nonce(captured)
    rp_request.test_the_token_request_authenticates_with_private_key_jwt_only(
        captured, public_jwk, system)


@pytest.mark.requirement("FRONT-AUTH-002")
@pytest.mark.parametrize("fault", BAD_ANSWERS)
def test_a_bad_answer_of_digital_authentication_signs_nobody_in(
        fault: str, system: System, provider: Provider, person: Person):
    rp_answers.test_a_bad_provider_answer_signs_nobody_in(fault, system, provider, person)


@pytest.mark.requirement("FRONT-DATA-001")
def test_the_app_asks_and_sends_only_what_the_move_out_needs(
        captured: rp_request.Captured, system: System, app: App, portal: Portal,
        person: Person):
    rp_request.test_the_login_asks_only_for_what_the_purpose_needs(captured, system)
    rp_request.test_no_login_asks_for_the_my_number_and_no_page_shows_one(captured)
    session = app.sign_in(person)
    after = portal.last_seq()
    answer = session.file(form(7))
    assert accepted(answer) is not None, (
        f"a move-out inside the window was not accepted: {answer.status_code} "
        f"{answer.text[:300]}")
    sent = portal.everything_from(after, system.party.client_id)
    assert sent, "the app sent the portal nothing for a move-out"
    for exchange in sent:
        leaks = [leak for leak in find_identifiers({
            "body": exchange.get("request_body"), "query": exchange.get("query"),
            "headers": exchange.get("request_headers")}) if leak.kind == "my-number"]
        assert not leaks, (f"the app sent the portal a My Number ({exchange['method']} "
                           f"{exchange['path']}): {leaks}")
    for exchange in (e for e in sent if e["method"] == "POST" and e["path"] == "/v1/moveouts"):
        body = body_of(exchange)
        beyond = sorted(set(body) - set(PROCEDURE_FIELDS))
        assert not beyond, (f"the move-out the app sent carries fields the procedure does "
                            f"not take: {beyond}")
        address = body.get("new_address")
        extra = sorted(set(address) - ADDRESS_FIELDS) if isinstance(address, dict) else []
        assert not extra, f"the new address the app sent carries {extra} besides {ADDRESS_FIELDS}"
