"""Remembered JWT verifications: a hit answers exactly as a full verification would, at any
moment, for the verifier (or the defect's overriding subclass) that asks."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from meshcert_simulators.authz import tokens
from meshcert_simulators.common.auth import JwtVerifier, TokenRejected, VerifiedTokens
from tests.tokens import MUNICIPAL_AUDIENCE, authz_key

ISSUER = "https://authz.example"
JWKS = Path(__file__).parents[2] / "fixtures" / "keys" / "authz.jwks.json"


class Keys:
    def key_set(self) -> Any:
        return tokens.load_key_set(JWKS)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Counting(JwtVerifier):
    """Counts the signature checks: one per full verification."""

    full = 0

    def check_signature(self, signed: Any) -> None:
        Counting.full += 1
        super().check_signature(signed)


def mint(**overrides: Any) -> str:
    return tokens.mint_access_token(authz_key(), issuer=ISSUER, audience=MUNICIPAL_AUDIENCE,
                                    subject="demo-clerk", scopes=["registry:read"], **overrides)


def counting(clock: Clock) -> Counting:
    Counting.full = 0
    return Counting(ISSUER, MUNICIPAL_AUDIENCE, Keys(), clock=clock)


def test_a_good_token_is_verified_once_then_remembered() -> None:
    check = counting(Clock(time.time()))
    token = mint()
    first, again = check.verify(token), check.verify(token)
    assert first == again and first.client_id == "demo-clerk"
    assert Counting.full == 1


def test_an_expired_token_is_refused_at_once_after_expiry() -> None:
    now = float(int(time.time()))
    clock = Clock(now)
    check = counting(clock)
    token = mint(now=now - 60, lifetime=30)  # exp = now - 30: accepted for 30 s more (leeway)
    check.verify(token)
    clock.now = now + 30  # exp + leeway: still accepted, from memory
    assert check.verify(token)
    assert Counting.full == 1
    clock.now = now + 30.5
    with pytest.raises(TokenRejected) as rejected:
        check.verify(token)
    assert rejected.value.reason == "expired"


def test_an_entry_lives_at_most_the_ttl_then_the_token_is_verified_again() -> None:
    now = time.time()
    clock = Clock(now)
    check = counting(clock)
    token = mint(now=now, lifetime=3600)
    check.verify(token)
    clock.now = now + 59
    check.verify(token)
    assert Counting.full == 1
    clock.now = now + 61
    check.verify(token)
    assert Counting.full == 2


def test_a_clock_set_back_before_nbf_is_verified_in_full() -> None:
    now = time.time()
    clock = Clock(now)
    check = counting(clock)
    token = mint(now=now, nbf=now + 30)
    check.verify(token)  # nbf within the leeway
    clock.now = now - 31  # now nbf > clock + leeway
    with pytest.raises(TokenRejected) as rejected:
        check.verify(token)
    assert rejected.value.reason == "not-yet-valid"


def test_failures_are_never_remembered() -> None:
    check = counting(Clock(time.time()))
    token = mint(aud="urn:meshcert:other")
    for _ in range(2):
        with pytest.raises(TokenRejected):
            check.verify(token)
    assert Counting.full == 2


def test_a_defects_subclass_does_not_reuse_the_references_results() -> None:
    """A defect copies the verifier's state into an overriding subclass (the cache comes with
    it): the subclass still applies its own checks, and the reference its own."""

    class Strict(JwtVerifier):
        def check_audience(self, claims: dict[str, Any]) -> None:
            raise TokenRejected("wrong-audience", "nothing is for us")

    reference = JwtVerifier(ISSUER, MUNICIPAL_AUDIENCE, Keys())
    token = mint()
    reference.verify(token)
    twin = object.__new__(Strict)
    twin.__dict__.update(reference.__dict__)
    with pytest.raises(TokenRejected):
        twin.verify(token)


def test_a_verifier_with_its_own_lifetime_rule_is_not_remembered() -> None:
    class AcceptsExpired(Counting):
        def check_lifetime(self, claims: dict[str, Any]) -> None:
            return None

    Counting.full = 0
    check = AcceptsExpired(ISSUER, MUNICIPAL_AUDIENCE, Keys())
    token = mint(now=time.time() - 7200)
    assert check.verify(token) and check.verify(token)
    assert Counting.full == 2


def test_changing_the_audience_or_keys_is_not_answered_from_memory() -> None:
    check = JwtVerifier(ISSUER, MUNICIPAL_AUDIENCE, Keys())
    token = mint()
    check.verify(token)
    check.audience = "urn:meshcert:other"
    with pytest.raises(TokenRejected) as rejected:
        check.verify(token)
    assert rejected.value.reason == "wrong-audience"


def test_the_memory_is_bounded() -> None:
    memory = VerifiedTokens(size=2)
    check = JwtVerifier(ISSUER, MUNICIPAL_AUDIENCE, Keys())
    check.verified = memory  # type: ignore[attr-defined]
    for _ in range(3):
        check.verify(mint())
    assert len(memory._entries) == 2
