"""The decision: 児童手当 amounts from the children's ages (the table in force since October
2024), and the notices the person gets — including when nothing can be decided.

Since 2024-10 the allowance has no income limit; the household's tax information is still
needed to confirm the applicant's income (the parent with the higher income receives it), so an
application is decided only on the provided tax information, never on missing data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

UNDER_THREE = 15_000
THREE_TO_HIGH_SCHOOL = 10_000
THIRD_CHILD_ON = 30_000
PAID_UNTIL_AGE = 18     # until the first 31 March after the 18th birthday (高校生年代)
COUNTED_UNTIL_AGE = 22  # children up to 大学生年代 count when ranking the third child


def _birthday(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February in a year without one
        return date(born.year + years, 3, 1)


def _school_year_end(born: date, years: int) -> date:
    """The first 31 March after the day the child reaches ``years`` (the day before the
    birthday, as the law counts age)."""
    reached = _birthday(born, years) - timedelta(days=1)
    end = date(reached.year, 3, 31)
    return end if reached <= end else date(reached.year + 1, 3, 31)


def monthly_amounts(births: list[date], today: date) -> list[int]:
    """The monthly amount of each child (same order as ``births``)."""
    counted = sorted((born, i) for i, born in enumerate(births)
                     if born <= today <= _school_year_end(born, COUNTED_UNTIL_AGE))
    rank = {i: n for n, (_, i) in enumerate(counted, start=1)}  # the eldest is the first
    amounts = []
    for i, born in enumerate(births):
        if not (born <= today <= _school_year_end(born, PAID_UNTIL_AGE)):
            amounts.append(0)
        elif rank.get(i, 0) >= 3:
            amounts.append(THIRD_CHILD_ON)
        elif today < _birthday(born, 3):
            amounts.append(UNDER_THREE)
        else:
            amounts.append(THREE_TO_HIGH_SCHOOL)
    return amounts


@dataclass(frozen=True)
class Outcome:
    """What an application ends as: its state, the decision (None: nothing decided), and the
    notice to the person."""

    state: str
    decision: dict[str, Any] | None
    notice: dict[str, Any]


class Decider:
    """Turns the provider's answer (or its absence) into an outcome. Each case is a method, so
    a negative control can replace one from outside."""

    def decide(self, application: dict[str, Any], item: dict[str, Any], today: date) -> Outcome:
        """``item``: the tax item of the mesh's answer (status 01 provided, 02 no data)."""
        handlers = {"01": self.on_tax_information, "02": self.on_no_data}
        handler = handlers.get(item.get("status", ""))
        if handler is None:
            return self.on_failure(application, f"the provider answered item status "
                                                f"{item.get('status')!r}: {item.get('message')}")
        return handler(application, item, today)

    def amounts(self, application: dict[str, Any], income: dict[str, Any], today: date
                ) -> dict[str, Any]:
        children = application["children"]
        amounts = monthly_amounts([date.fromisoformat(c["birth_date"]) for c in children], today)
        return {"monthly_amount": sum(amounts),
                "children": [{"name": c["name"], "birth_date": c["birth_date"],
                              "monthly_amount": a} for c, a in zip(children, amounts, strict=True)],
                "tax_year": income["tax_year"], "taxable_income": income["taxable_income"],
                "decided_on": today.isoformat()}

    def on_tax_information(self, application: dict[str, Any], item: dict[str, Any],
                           today: date) -> Outcome:
        decision = self.amounts(application, item["payload"], today)
        return Outcome("decided", decision, {
            "kind": "decision", "title": "児童手当 認定通知",
            "body": f"{application['applicant']['name']} 様の児童手当を月額 "
                    f"{decision['monthly_amount']:,} 円で認定しました。",
            "next_steps": ["支給は偶数月に前月分までをお支払いします。"]})

    def on_no_data(self, application: dict[str, Any], item: dict[str, Any],
                   today: date) -> Outcome:
        return Outcome("certificate-requested", None, {
            "kind": "certificate-requested", "title": "課税証明書のご提出のお願い",
            "body": "情報連携で所得の情報を確認できませんでした（提供機関に該当データなし）。"
                    "申請はまだ決定していません。",
            "next_steps": ["前住所地などで課税（所得）証明書を取得し、ご提出ください。",
                           "ご提出後に審査を再開し、結果をお知らせします。"]})

    def on_failure(self, application: dict[str, Any], reason: str) -> Outcome:
        return Outcome("inquiry-failed", None, {
            "kind": "inquiry-failed", "title": "所得情報の照会ができませんでした",
            "body": "情報連携による所得情報の照会が、定められた時間内に完了しませんでした。"
                    "この申請は決定しておらず、支給・不支給のいずれも決まっていません。"
                    f"（理由: {reason}）",
            "next_steps": ["担当課が照会をやり直し、結果を改めてお知らせします。",
                           "お急ぎの場合は課税（所得）証明書をご提出いただければ審査を進めます。"]})
