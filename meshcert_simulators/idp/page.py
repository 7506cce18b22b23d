"""The login-and-consent page: plain server-rendered HTML with one form, labels in Japanese and
English. The person picks who logs in (the card), sees which facts the service asks for and
why, and consents or refuses."""

from __future__ import annotations

from html import escape
from typing import Any

from meshcert_simulators.idp.persons import display_name
from meshcert_simulators.idp.provider import Transaction

SCOPE_LABELS = {
    "openid": ("本人であることの確認", "That it is you (a pseudonymous identifier)"),
    "name": ("氏名（フリガナ）", "Name (and its kana)"),
    "address": ("住所", "Address"),
    "birthdate": ("生年月日", "Date of birth"),
    "gender": ("性別", "Gender"),
}

_STYLE = """
body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.5}
h1{font-size:1.3em}.en{color:#555;font-size:.9em}fieldset{margin:1em 0}
button{font-size:1em;padding:.4em 1.2em;margin-right:1em}
"""


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="ja"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body>{body}</body></html>")


def _person_choice(persons: list[dict[str, Any]]) -> str:
    if not persons:
        return ('<label for="person">住民票コード <span class="en">Resident record code</span>'
                '</label><br><input id="person" name="person" required pattern="[0-9]{11}" '
                'inputmode="numeric" autocomplete="off">')
    options = "".join(
        f'<option value="{escape(p["juminhyo_code"])}">{escape(display_name(p))} '
        f'({escape(p["juminhyo_code"])})</option>' for p in persons)
    return ('<label for="person">ログインする人（マイナンバーカード） <span class="en">Who logs '
            'in (the card)</span></label><br>'
            f'<select id="person" name="person" required>{options}</select>')


def login_page(transaction: Transaction, persons: list[dict[str, Any]],
               notice: str | None = None) -> str:
    """The page for one authorization request."""
    client = transaction.client
    asked = "".join(
        f'<li data-scope="{escape(s)}">{escape(SCOPE_LABELS[s][0])} '
        f'<span class="en">{escape(SCOPE_LABELS[s][1])}</span></li>'
        for s in transaction.scopes if s in SCOPE_LABELS)
    warning = f'<p role="alert">{escape(notice)}</p>' if notice else ""
    body = (
        '<h1>デジタル認証 <span class="en">Digital authentication</span></h1>'
        f"{warning}"
        f'<p>サービス <span class="en">Service</span>: <strong id="client">'
        f"{escape(client.client_id)}</strong></p>"
        f'<p>利用目的 <span class="en">Purpose</span>: <span id="purpose">'
        f"{escape(client.purpose)}</span></p>"
        '<p>このサービスに提供される情報 <span class="en">What the service will receive'
        f'</span>:</p><ul id="scopes">{asked}</ul>'
        '<form method="post" action="/authorize/decision">'
        f'<input type="hidden" name="transaction" value="{escape(transaction.id)}">'
        f"<fieldset>{_person_choice(persons)}</fieldset>"
        '<button type="submit" name="decision" value="consent" id="consent">同意する '
        '<span class="en">Consent</span></button>'
        '<button type="submit" name="decision" value="refuse" id="refuse" formnovalidate>'
        '同意しない <span class="en">Refuse</span></button>'
        "</form>")
    return _page("デジタル認証 — Digital authentication", body)


def error_page(title_ja: str, title_en: str, detail: str) -> str:
    """A page for a request that cannot be sent back to the service."""
    return _page(f"{title_ja} — {title_en}",
                 f'<h1>{escape(title_ja)} <span class="en">{escape(title_en)}</span></h1>'
                 f'<p id="detail">{escape(detail)}</p>')
