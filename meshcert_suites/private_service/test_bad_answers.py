"""Every bad answer of the provider ends the login with no one signed in (OpenID Connect Core
§3.1.3.7, RFC 6749 §4.1.2.1, RFC 9700 §4.5/§4.7).

The harness makes its provider answer the next login of the system badly in one way, lets the
person consent, and then looks at the system's me path with that login's cookies: none of the
person's facts may show. A correct login afterwards must show them — a system that signs nobody
in refuses everything and proves nothing.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlencode, urljoin

import pytest

from meshcert.certify.verdicts import HarnessFault
from meshcert_simulators.idp.holder import ScriptedHolder
from meshcert_suites.private_service.conftest import (
    Login,
    Person,
    Provider,
    System,
    ensure_nobody_signed_in,
    ensure_signed_in,
)

TRANSACTION = re.compile(r'name="transaction" value="([^"]*)"')
ACTION = re.compile(r'<form method="post" action="([^"]*)"')

# fault the provider makes -> (requirement, what the answer was)
BAD_ANSWERS = {
    "wrong-iss": ("RP-IDTOKEN-ISS-001", "an ID token from another issuer"),
    "wrong-aud": ("RP-IDTOKEN-AUD-001", "an ID token for another audience"),
    "expired": ("RP-IDTOKEN-EXP-001", "an expired ID token"),
    "iat-future": ("RP-IDTOKEN-IAT-001", "an ID token issued an hour in the future"),
    "unknown-kid": ("RP-IDTOKEN-KID-001", "an ID token signed by a key nobody published"),
    "bad-signature": ("RP-IDTOKEN-SIG-001", "an ID token whose signature does not verify"),
    "alg-none": ("RP-IDTOKEN-NONE-001", "an unsigned ID token (alg none)"),
    "hmac-public-key": ("RP-IDTOKEN-HMAC-001", "an ID token HMAC'd with the provider's public "
                        "key"),
    "wrong-nonce": ("RP-IDTOKEN-NONCE-001", "an ID token with another nonce"),
    "wrong-state": ("RP-AUTHZ-STATE-001", "an answer with another state"),
    "code-for-other-client": ("RP-AUTHZ-CLIENT-001", "a code issued to another client"),
}


@pytest.mark.parametrize("fault", [
    pytest.param(fault, marks=pytest.mark.requirement(requirement), id=fault)
    for fault, (requirement, _) in BAD_ANSWERS.items()])
def test_a_bad_provider_answer_signs_nobody_in(fault: str, system: System, provider: Provider,
                                              person: Person):
    what = BAD_ANSWERS[fault][1]
    provider.misbehave(system.party.client_id, fault)
    refused = system.login(person)
    ensure_nobody_signed_in(refused, f"the provider answered the login with {what}")
    provider.behave()
    ensure_signed_in(system.login(person), f"a correct login after {what}")


@pytest.mark.requirement("RP-AUTHZ-ERROR-001")
def test_an_error_answer_signs_nobody_in(system: System, provider: Provider, person: Person):
    provider.misbehave(system.party.client_id, "error-answer")
    ensure_nobody_signed_in(system.login(person), "the provider answered error=server_error")
    provider.behave()
    # A confused provider: the error beside a code that would redeem (the harness takes the
    # provider's answer to the person's consent and adds the error to it on the way back).
    browser = system.browser()
    start = f"{system.harness.target.base_url}{system.party.login_path}"
    page = ScriptedHolder(browser, person=person.juminhyo_code, decision="abandon").login(start)
    transaction, action = TRANSACTION.search(page.page.text), ACTION.search(page.page.text)
    if transaction is None:
        raise HarnessFault("the harness's provider showed a page without a transaction")
    decided = browser.post(
        urljoin(page.authorize_url, unescape(action.group(1)) if action else "/authorize/decision"),
        data={"transaction": unescape(transaction.group(1)), "person": person.juminhyo_code,
              "decision": "consent"}, follow_redirects=False)
    back = decided.headers.get("location", "")
    if "code=" not in back:
        raise HarnessFault(f"the harness's provider answered the consent without a code: {back}")
    error = urlencode({"error": "server_error", "error_description": "the provider failed"})
    browser.get(f"{back}&{error}", follow_redirects=True)
    ensure_nobody_signed_in(Login(browser, person, system.party.me_path, None, {}),
                            "the provider answered error=server_error beside a code")
    ensure_signed_in(system.login(person), "a correct login after an error answer")
