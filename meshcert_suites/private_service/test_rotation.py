"""The system follows the provider's key rotation (OpenID Connect Core §10.1.1).

This module runs last (pytest takes modules in name order): after it the provider signs with a
new key for the rest of the run, so a system that keeps the old key set logs nobody in here,
and nothing earlier is affected by it.
"""

from __future__ import annotations

import pytest

from meshcert_suites.private_service.conftest import (
    Person,
    Provider,
    System,
    ensure_signed_in,
)


@pytest.mark.requirement("RP-KEYS-ROTATION-001")
def test_a_token_signed_with_the_new_key_is_accepted(system: System, provider: Provider,
                                                      persons: list[Person]):
    ensure_signed_in(system.login(persons[0]), "a login before the rotation (old key)")
    old, new = provider.rotate_keys()
    ensure_signed_in(system.login(persons[1]),
                     f"a login after the provider published key {new} and signs with it "
                     f"instead of {old}")
