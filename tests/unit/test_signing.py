"""The signing key: made on first use with owner-only permissions, refused when others can read
it, and the same key for runs that start at once."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from meshcert.reports import signing


def test_the_key_is_made_on_first_use_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing-key.pem"
    key, created = signing.load_or_create_key(path)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again, created_again = signing.load_or_create_key(path)
    assert not created_again
    assert signing.fingerprint(again) == signing.fingerprint(key)


def test_the_path_comes_from_the_environment_when_not_given(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    monkeypatch.setenv(signing.KEY_ENV, str(tmp_path / "env-key.pem"))
    assert signing.key_path() == tmp_path / "env-key.pem"
    assert signing.key_path(tmp_path / "given.pem") == tmp_path / "given.pem"
    monkeypatch.delenv(signing.KEY_ENV)
    assert signing.key_path() == Path.home() / ".meshcert" / "signing-key.pem"


def test_a_key_others_can_read_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    signing.load_or_create_key(path)
    path.chmod(0o644)
    with pytest.raises(signing.SigningError, match="chmod 600"):
        signing.load_or_create_key(path)


def test_a_file_that_is_not_a_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text("not a key")
    path.chmod(0o600)
    with pytest.raises(signing.SigningError, match=str(path)):
        signing.load_or_create_key(path)


def test_runs_starting_at_once_share_one_complete_key(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: signing.load_or_create_key(path), range(16)))
    assert len({signing.fingerprint(key) for key, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert not [p for p in tmp_path.iterdir() if p.name != "key.pem"]


def test_a_signature_verifies_only_over_the_exact_bytes(tmp_path: Path) -> None:
    key, _ = signing.load_or_create_key(tmp_path / "key.pem")
    public = signing.load_public_key(signing.public_pem(key), "test")
    signature = signing.sign(key, b'{"certified": true}\n')
    assert signing.signature_valid(public, b'{"certified": true}\n', signature)
    assert not signing.signature_valid(public, b'{"certified": true} \n', signature)
    assert not signing.signature_valid(public, b'{"certified": true}\n', b"garbage")
