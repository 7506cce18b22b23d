"""Whether an application's outcome is a decision, judged on its substance.

An inquirer that could not get the income it needed (the inquiry failed, was refused, or the
provider had no data) must not decide — neither grant, nor refuse, nor award zero — whatever it
calls the outcome. So the harness does not trust one status value: it looks at everything the
contract (fixtures/specs/child-allowance.openapi.json, ``ApplicationView``) lets it see and
reports every sign of a decision:

- a state that means decided (``decided``, or any other name for granting, refusing or paying);
- a ``decision`` object, whatever its amounts (0 yen is a decision too), or any amount field;
- a notice of kind ``decision``, or a notice whose words decide: 認定, 却下, 不支給, 支給決定,
  "…を決定しました", an amount "月額 … 円", "not eligible", "approved", …

Sentences that say that nothing was decided ("決定しておらず", "支給・不支給のいずれも決まって
いません", "no decision has been made") are not signs: the notice the contract asks for after a
failure says exactly that.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

# States of the contract in which nothing is decided (and common names for them).
UNDECIDED_STATES = frozenset({
    "received", "inquiring", "certificate-requested", "inquiry-failed", "pending",
    "processing", "in-progress", "waiting", "on-hold", "failed", "error", "suspended",
    "certificate-required", "awaiting-certificate"})
NOT_DECIDED_STATE = re.compile(r"^(un|not-?|no-?)(decided|decision|determined)|未(決定|認定)"
                               r"|^(inquiry|照会)")
# Stems of a state name that mean the application was decided one way or the other.
DECIDED_STATE = re.compile(r"decid|decision|grant|approv|award|reject|deni|deny|eligib|"
                           r"dismiss|paid|payable|認定|却下|支給|決定|該当")
# A sentence saying that nothing was decided: not a sign, even when it names 不支給.
NEGATED = re.compile(
    r"(決定|認定|判断|審査|決ま)(っ|し|され|を?行っ|は?し)?て?(おらず|いません|いない|ません)"
    r"|未(決定|認定|定)|決定前|決定はまだ|まだ決定"
    r"|\bnot\s+yet\s+(been\s+)?(decided|determined|approved|rejected|granted)"
    r"|\bnot\s+(been\s+)?(decided|determined)|\bno\s+decision|\bundecided"
    r"|\bnothing\s+(was|has\s+been|is|will\s+be)\s+decided", re.IGNORECASE)
# A sentence about what happens later ("decided once the certificate arrives"): only an
# amount in it is a sign.
LATER = re.compile(r"後日|後に|次第|予定|されたら|いただければ|いただいた|\bonce\b|\bafter\b"
                   r"|\bwill\b|\bwhen\b", re.IGNORECASE)
AMOUNT_WORDS = re.compile(
    r"(月額|年額|支給額|手当額)[^。\n]{0,12}?[0-9][0-9,]*\s*円|[0-9][0-9,]*\s*円を?支給"
    r"|\b[0-9][0-9,]*\s*(yen|jpy)\b|¥\s*[0-9]", re.IGNORECASE)
# Words that decide (after NFKC, so full-width forms match too).
DECIDING = re.compile(
    r"不支給|却下|認定(し|通知|決定|され|いた|する)|支給(決定|します|いたします|する)"
    r"|(決定|判定)(しました|いたしました|されました)"
    r"|支給(の)?対象(外|となりません|になりません|ではありません)"
    r"|受給資格(はありません|がありません|なし)"
    r"|\b(not|in)\s*eligible\b|\bineligible\b"
    r"|\b(application|claim|allowance|benefit)\b[^.]{0,40}?"
    r"\b(granted|approved|awarded|rejected|denied|refused|dismissed)\b"
    r"|\b(granted|approved|awarded|rejected|denied)\b[^.]{0,12}?"
    r"\b(application|claim|allowance|benefit)\b"
    r"|\b(we\s+have|has\s+been|have\s+been|was|were|is)\s+decided\b"
    r"|\bdecided\s+(to|that|on)\b", re.IGNORECASE)
AMOUNT_KEY = re.compile(r"amount|金額|支給額|手当額|月額", re.IGNORECASE)
# Fields that carry identifiers and times, never the outcome's substance.
NOT_WORDING = frozenset({"application_id", "received_at", "updated_at", "give_up_at",
                         "inquiries"})
SENTENCE_END = re.compile(r"(?<=[。！？!?\n])|(?<=\.)(?![0-9])")  # after NFKC: ． is .


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, text) of every string inside ``value``."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _strings(item, f"{path}[{n}]")


def _amounts(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path, value) of every number held under an amount-like key."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if AMOUNT_KEY.search(str(key)) and isinstance(item, int | float) \
                    and not isinstance(item, bool):
                yield where, item
            yield from _amounts(item, where)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _amounts(item, f"{path}[{n}]")


def deciding_words(text: str) -> list[str]:
    """The phrases of ``text`` that decide: any amount; other deciding words only in sentences
    that neither say that nothing was decided nor speak of what happens later."""
    found = []
    for sentence in SENTENCE_END.split(_normal(text)):
        found += [m.group() for m in AMOUNT_WORDS.finditer(sentence)]  # an amount, always
        if not NEGATED.search(sentence) and not LATER.search(sentence):
            found += [m.group() for m in DECIDING.finditer(sentence)]
    return found


def state_decides(state: Any) -> bool:
    """Whether a state name means decided (any spelling: case, spaces, underscores)."""
    if not isinstance(state, str):
        return False
    name = re.sub(r"[\s_]+", "-", _normal(state).strip().lower())
    if name in UNDECIDED_STATES or NOT_DECIDED_STATE.search(name):
        return False
    return DECIDED_STATE.search(name) is not None


def decision_signs(view: dict[str, Any]) -> list[str]:
    """Every sign that ``view`` (an application as ``GET <applications>/{id}`` shows it) is
    a decision, each as ``where: what``; empty when nothing was decided."""
    signs = []
    if state_decides(view.get("state")):
        signs.append(f"state: {view.get('state')!r}")
    decision = view.get("decision")
    if decision not in (None, {}, [], ""):
        signs.append(f"decision: {decision!r}")
    notice = view.get("notice")
    if isinstance(notice, dict) and isinstance(notice.get("kind"), str) \
            and notice["kind"] not in ("certificate-requested", "inquiry-failed") \
            and (notice["kind"] == "decision" or state_decides(notice["kind"])):
        signs.append(f"notice.kind: {notice['kind']!r}")
    rest = {k: v for k, v in view.items() if k not in NOT_WORDING and k != "decision"}
    signs += [f"{where}: {value!r}" for where, value in _amounts(rest, "")]
    for where, text in _strings(rest, ""):
        if where == "state" or where == "notice.kind":
            continue
        signs += [f"{where}: {phrase!r}" for phrase in deciding_words(text)]
    return signs


def ensure_undecided(view: dict[str, Any], *, why: str) -> None:
    """Fail (AssertionError) when ``view`` decides, naming every sign; ``why`` says why the
    application must not be decided (e.g. "the mesh answered every attempt 503")."""
    signs = decision_signs(view)
    assert not signs, (
        f"{why}, yet the application was decided — a decision whatever it is called "
        f"(state {view.get('state')!r}): " + "; ".join(signs))
