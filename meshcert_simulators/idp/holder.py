"""The scripted holder: the person's side of a login, with no browser.

It starts where the relying party starts a login, follows the redirects to the provider's
login-and-consent page, decides as scripted (consent, refuse, abandon; perhaps after thinking
a while) and follows the redirects back to the relying party's callback. It reports what
happened and never judges: the suites do. Suites may import it (a harness-side tool)::

    with httpx.Client() as http:
        result = ScriptedHolder(http, person="12345678901").login(rp_login_url)
        result.callback.status_code, result.authorize_params["code_challenge_method"]
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from html import unescape
from typing import Literal
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx

Decision = Literal["consent", "refuse", "abandon"]
MAX_REDIRECTS = 20
_TRANSACTION = re.compile(r'name="transaction" value="([^"]*)"')
_ACTION = re.compile(r'<form method="post" action="([^"]*)"')


class HolderError(Exception):
    """The login did not go as a login goes (no page reached, too many redirects)."""


@dataclass
class HolderResult:
    """What happened: the decision taken, the authorization request the relying party made
    (its URL and parameters), the page shown, the answer at the end of the redirects back (the
    callback's, for a decision) and its URL; ``visited`` lists every URL requested."""

    decision: Decision
    authorize_url: str
    authorize_params: dict[str, str]
    page: httpx.Response
    callback: httpx.Response | None = None
    final_url: str | None = None
    visited: list[str] = field(default_factory=list)

    @property
    def callback_params(self) -> dict[str, str]:
        """The query of the last URL reached (code and state, or error and state)."""
        return dict(parse_qsl(urlsplit(self.final_url or "").query))


def _is_login_page(response: httpx.Response) -> bool:
    return (response.status_code == 200
            and response.headers.get("content-type", "").startswith("text/html")
            and _TRANSACTION.search(response.text) is not None)


class ScriptedHolder:
    """Drives one login with ``http`` (its cookies kept, so the relying party's session
    survives the round trip) as the person with 住民票コード ``person``."""

    def __init__(self, http: httpx.Client, person: str, decision: Decision = "consent",
                 think_s: float = 0.0) -> None:
        self.http = http
        self.person = person
        self.decision = decision
        self.think_s = think_s

    def _follow(self, response: httpx.Response, visited: list[str]) -> httpx.Response:
        """Follow redirects by hand (each hop recorded) until an answer that is not one."""
        for _ in range(MAX_REDIRECTS):
            if not response.is_redirect:
                return response
            url = urljoin(str(response.url), response.headers["location"])
            visited.append(url)
            response = self.http.get(url, follow_redirects=False)
        raise HolderError(f"more than {MAX_REDIRECTS} redirects from {visited[0]}")

    def login(self, start_url: str) -> HolderResult:
        """Start at ``start_url`` (the relying party's login) and see the login through."""
        visited = [start_url]
        page = self._follow(self.http.get(start_url, follow_redirects=False), visited)
        if not _is_login_page(page):
            raise HolderError(f"no login page reached from {start_url}: ended at {page.url} "
                              f"with {page.status_code}")
        authorize_url = str(page.url)
        result = HolderResult(self.decision, authorize_url,
                              dict(parse_qsl(urlsplit(authorize_url).query)), page,
                              visited=visited)
        if self.think_s > 0:
            time.sleep(self.think_s)
        if self.decision == "abandon":
            return result
        transaction = unescape(_TRANSACTION.search(page.text).group(1))  # type: ignore[union-attr]
        action = _ACTION.search(page.text)
        target = urljoin(authorize_url, unescape(action.group(1)) if action else
                         "/authorize/decision")
        visited.append(target)
        answer = self.http.post(target, data={"transaction": transaction,
                                              "person": self.person,
                                              "decision": self.decision},
                                follow_redirects=False)
        result.callback = self._follow(answer, visited)
        result.final_url = str(result.callback.url)
        return result
