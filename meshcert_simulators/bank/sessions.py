"""Logins in progress and signed-in sessions, in memory, keyed by the browser's cookie.

A login in progress holds the secrets of one authorization request — ``state``, ``nonce`` and
the PKCE verifier, fresh for each login — and is used up by its callback, whatever the outcome.
A session holds who signed in and the access token to ask the gateway with; never the facts.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field

COOKIE = "bank_session"
LOGIN_TTL_S = 600
SESSION_TTL_S = 1800


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def code_challenge(verifier: str) -> str:
    """PKCE S256 (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class PendingLogin:
    state: str = field(default_factory=new_secret)
    nonce: str = field(default_factory=new_secret)
    verifier: str = field(default_factory=new_secret)
    started: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Session:
    sub: str
    access_token: str
    started: float = field(default_factory=time.monotonic)


class Sessions:
    def __init__(self) -> None:
        self._pending: dict[str, PendingLogin] = {}
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def start_login(self, browser: str) -> PendingLogin:
        """A fresh login for the browser (an earlier one in progress is forgotten)."""
        login = PendingLogin()
        with self._lock:
            self._pending[browser] = login
        return login

    def take_login(self, browser: str) -> PendingLogin | None:
        """The browser's login in progress, removed: a callback uses it once."""
        with self._lock:
            login = self._pending.pop(browser, None)
        if login is None or time.monotonic() - login.started > LOGIN_TTL_S:
            return None
        return login

    def sign_in(self, session: Session) -> str:
        """A new session id (never the pre-login cookie: no session fixation)."""
        browser = new_secret()
        with self._lock:
            self._sessions[browser] = session
        return browser

    def session(self, browser: str) -> Session | None:
        with self._lock:
            found = self._sessions.get(browser)
        if found is not None and time.monotonic() - found.started > SESSION_TTL_S:
            self.end(browser)
            return None
        return found

    def end(self, browser: str) -> None:
        with self._lock:
            self._sessions.pop(browser, None)
            self._pending.pop(browser, None)
