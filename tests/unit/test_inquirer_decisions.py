"""The mesh-inquirer suites' judgement of "was this application decided?": a decision is a
decision whatever it is called (any state name, amount, wording or field), and a notice saying
that nothing was decided is not one — properties over renamings and wordings."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from meshcert_suites.mesh_inquirer.decisions import decision_signs, ensure_undecided

FULL_WIDTH = str.maketrans("0123456789,", "０１２３４５６７８９，")

# What the contract's failure and certificate notices may say (none of it decides).
UNDECIDED_SENTENCES = [
    "情報連携による所得情報の照会が、定められた時間内に完了しませんでした。",
    "この申請は決定しておらず、支給・不支給のいずれも決まっていません。",
    "申請はまだ決定していません。",
    "支給・不支給は未決定です。",
    "課税（所得）証明書をご提出いただければ審査を進めます。",
    "ご提出後に審査を再開し、結果をお知らせします。",
    "証明書のご提出後に決定します。",
    "担当課が照会をやり直し、結果を改めてお知らせします。",
    "（理由: HTTP 503 Service Unavailable）",
    "（理由: the mesh refused the inquiry: HTTP 403 照会は許可されていません (not permitted)）",
    "（理由: 符号が未取得 (code not issued)）",
    "The income inquiry did not complete in time.",
    "No decision has been made on your application.",
    "Nothing was decided; we will write to you again.",
    "Access denied by the mesh (HTTP 403).",
    "Your application will be decided once the certificate arrives.",
]
UNDECIDED_STATES = ["inquiry-failed", "certificate-requested", "Inquiry Failed",
                    "INQUIRY_FAILED", "pending", "on hold", "undecided", "not_decided"]
DECIDED_STATES = ["decided", "granted", "approved", "awarded", "rejected", "denied",
                  "not eligible", "ineligible", "dismissed", "paid", "認定", "却下", "不支給",
                  "支給決定", "not-eligible", "eligible"]
# Deciding sentences; {n} is an amount (0 included: paying nothing is a decision).
DECIDING_SENTENCES = [
    "児童手当を月額 {n} 円で認定しました。",
    "今回の申請は不支給とします。",
    "申請を却下しました。",
    "支給しないことを決定しました。",
    "支給額: {n} 円",
    "児童手当の支給対象外です。",
    "受給資格はありません。",
    "Your application is not eligible.",
    "You are ineligible for the allowance.",
    "Your application has been rejected.",
    "The allowance was granted: {n} yen a month.",
    "Monthly amount ¥{n}.",
    "We have decided to pay nothing.",
]


def amount_text(n: int, commas: bool, full_width: bool) -> str:
    text = f"{n:,}" if commas else str(n)
    return text.translate(FULL_WIDTH) if full_width else text


def respell(state: str, draw: Any) -> str:
    """The same state name in another case and with other separators."""
    case = draw(st.sampled_from([str.lower, str.upper, str.title, lambda s: s]))
    sep = draw(st.sampled_from(["-", "_", " ", ""]))
    return case(state.replace("-", sep).replace(" ", sep))


@st.composite
def undecided_views(draw: Any) -> dict[str, Any]:
    sentences = draw(st.lists(st.sampled_from(UNDECIDED_SENTENCES), min_size=1, max_size=5))
    if draw(st.booleans()):
        sentences = [s.translate(FULL_WIDTH) for s in sentences]
    state = draw(st.sampled_from(UNDECIDED_STATES))
    return {"application_id": "APP-" + draw(st.text("0123456789abcdef", min_size=1,
                                                        max_size=20)),
            "state": respell(state, draw) if draw(st.booleans()) else state,
            "received_at": "2026-12-04T00:00:00.000+00:00",
            "updated_at": "2026-12-04T00:00:04.000+00:00",
            "give_up_at": "2026-12-04T00:00:04.000+00:00",
            "decision": draw(st.sampled_from([None, {}])),
            "notice": {"kind": draw(st.sampled_from(["inquiry-failed", "certificate-requested"])),
                       "title": draw(st.sampled_from(["所得情報の照会ができませんでした",
                                                      "課税証明書のご提出のお願い"])),
                       "body": "".join(sentences[:-1] or sentences),
                       "next_steps": sentences[-1:]},
            "inquiries": [{"record_id": "CA" + "2" * 24, "outcome": "failed", "attempts": 3}]}


@st.composite
def decided_views(draw: Any) -> dict[str, Any]:
    """An undecided view with one decision slipped in, in one of many forms."""
    view = draw(undecided_views())
    amount = draw(st.integers(0, 200_000))
    form = draw(st.sampled_from(["state", "decision", "amount-field", "notice-kind",
                                 "wording"]))
    if form == "state":
        view["state"] = respell(draw(st.sampled_from(DECIDED_STATES)), draw)
    elif form == "decision":
        view["decision"] = draw(st.sampled_from([
            {"monthly_amount": amount}, {"monthly_amount": 0, "children": []},
            {"result": "not eligible"}, {"支給額": amount}]))
    elif form == "amount-field":
        key = draw(st.sampled_from(["amount", "monthly_amount", "paid_amount", "支給額"]))
        where = draw(st.sampled_from(["top", "notice"]))
        (view if where == "top" else view["notice"])[key] = amount
    elif form == "notice-kind":
        view["notice"]["kind"] = respell(draw(st.sampled_from(["decision", "rejection",
                                                               "approval", "不支給決定"])),
                                         draw)
    else:
        text = draw(st.sampled_from(DECIDING_SENTENCES)).format(n=amount_text(
            amount, draw(st.booleans()), draw(st.booleans())))
        if draw(st.booleans()):
            text = text.translate(FULL_WIDTH)
        field = draw(st.sampled_from(["title", "body", "next_steps"]))
        if field == "next_steps":
            view["notice"]["next_steps"].insert(draw(st.integers(0, 1)), text)
        else:
            at = draw(st.sampled_from(["start", "end"]))
            old = view["notice"][field]
            view["notice"][field] = text + old if at == "start" else old + text
    return view


@given(undecided_views())
def test_a_notice_that_nothing_was_decided_is_not_a_decision(view):
    assert decision_signs(view) == []
    ensure_undecided(view, why="the inquiry failed")


@given(decided_views())
def test_a_decision_is_found_whatever_it_is_called(view):
    assert decision_signs(view), f"a decision went unnoticed: {view}"


def test_the_failure_names_every_sign():
    view = {"state": "inquiry-failed", "decision": {"monthly_amount": 0},
            "notice": {"kind": "inquiry-failed", "title": "不支給決定通知",
                       "body": "Not eligible.", "next_steps": []}}
    try:
        ensure_undecided(view, why="the mesh refused the inquiry")
    except AssertionError as exc:
        message = str(exc)
    else:
        raise AssertionError("a decision with amount 0 and 不支給 passed as undecided")
    for part in ("the mesh refused the inquiry", "decision:", "notice.title", "not eligible"):
        assert part.lower() in message.lower(), (part, message)
