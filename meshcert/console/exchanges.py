"""Matching the exchanges of runs, and telling whether two answers say the same thing.

The rule (shown on the differential page, :data:`RULE`):

* a **request** is keyed by the test that sent it, its method, its path and query (scheme,
  host and port dropped: every run listens on its own free port) and its body as canonical
  JSON (keys sorted; a body that is not JSON is compared as text); the n-th exchange with a key
  in one run pairs with the n-th with that key in the other. Requests built from per-run random
  values (an ``event_id``, a new 住民票コード) have no partner: counted, not compared;
* an **answer** is compared by its *shape*: the status, every JSON key path of the body, which
  of them are null, and the values of ``type``/``reason``/``error`` (the problem kind). Values
  are not compared: two runs of the same correct system differ in timestamps, request ids,
  audit hashes, keys and the random residents each test creates (measured: comparing values,
  339 of 1,381 matched answers of two runs of the reference differed; comparing shapes, 5,
  and none once a list that is empty in one answer is not compared item by item: a page of
  the difference feed or the audit log read while other tests write).
  A field served that the reference withholds (a My Number), a status or a problem type that
  differs, is a difference of shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

RULE = {
    "en": "Requests are matched within the same test by method, path with query (host and "
          "port dropped) and body as canonical JSON; the n-th such request of one run pairs "
          "with the n-th of the other. Answers are compared by shape: status, the JSON key "
          "paths of the body, which are null, and the problem type/reason (the items of a list "
          "empty in one answer are not compared). Values are not "
          "compared (timestamps, request ids and the random residents a test creates differ "
          "between any two runs). Requests carrying per-run random values have no partner "
          "and are counted as unmatched. Where two runs of the reference itself disagree, "
          "the request is left out as unstable.",
    "ja": "リクエストは同じテストの中で、メソッド・パスとクエリ（ホストとポートは除く）・"
          "正規化した JSON 本文が一致するものを対応させます（同じものが複数あれば順番どおり）。"
          "応答は形で比べます：ステータス、本文の JSON キーのパス、null の項目、problem の "
          "type/reason（一方で空のリストの要素は比べません）。値は比べません（時刻・"
          "リクエスト ID・テストが作る乱数の住民は実行ごとに"
          "異なるため）。実行ごとの乱数を含むリクエストは対応先がなく「対応なし」として数えます。"
          "リファレンス自身の 2 回の実行で食い違うリクエストは不安定として除きます。",
}
KEPT_VALUES = frozenset({"type", "reason", "error"})
EMPTY = "[] empty"

Key = tuple[str, str, str, str, int]  # test, method, path?query, canonical body, occurrence


@dataclass(frozen=True)
class Recorded:
    """One exchange of a run's evidence, with the test that recorded it."""

    test: str
    method: str
    path: str
    request_body: str | None
    status: int | None
    response_body: str | None
    error: str | None

    @property
    def request_key(self) -> tuple[str, str, str, str]:
        return (self.test, self.method, self.path, canonical(self.request_body))

    @property
    def shape(self) -> tuple[int | None, frozenset[str]]:
        if self.error is not None:
            return (self.status, frozenset({f"transport error: {self.error}"}))
        return (self.status, body_shape(self.response_body))


def _json(body: str | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # deeply nested generated bodies, or not JSON
        return body


def canonical(body: str | None) -> str:
    value = _json(body)
    if value is None or isinstance(value, str):
        return value or ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _paths(value: Any, at: str, into: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{at}/{key}"
            into.add(path)
            if item is None:
                into.add(f"{path} = null")
            elif key in KEPT_VALUES and isinstance(item, str):
                into.add(f"{path} = {item}")
            _paths(item, path, into)
    elif isinstance(value, list):
        if not value:
            into.add(f"{at}{EMPTY}")
        for item in value:
            _paths(item, f"{at}[]", into)


def body_shape(body: str | None) -> frozenset[str]:
    """The key paths of a JSON body (``/a/b``, ``/list[]/c``), nulls and problem kinds marked;
    a body that is not JSON is one entry, "text"."""
    value = _json(body)
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset({"(text)"})
    found: set[str] = set()
    _paths(value, "", found)
    return frozenset(found)


def _unseen(paths: frozenset[str], other: frozenset[str]) -> frozenset[str]:
    """``paths`` without those inside a list that is empty in ``other``: an empty page says
    nothing about the shape of its items (a feed read while writes happen, at another time)."""
    empty = [p[: -len(EMPTY)] + "[]" for p in other if p.endswith(EMPTY)]
    return frozenset(p for p in paths if not any(p.startswith(e) for e in empty)
                     and not p.endswith(EMPTY))


def shape_difference(a: Recorded, b: Recorded) -> list[str]:
    """What one answer has that the other lacks: ``+path`` only in b, ``-path`` only in a;
    empty: the answers agree."""
    (sa, pa), (sb, pb) = a.shape, b.shape
    pa, pb = _unseen(pa, pb), _unseen(pb, pa)
    found = [f"status {sa} → {sb}"] if sa != sb else []
    return found + [f"-{p}" for p in sorted(pa - pb)] + [f"+{p}" for p in sorted(pb - pa)]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def read_exchanges(report_dir: Path) -> Iterator[Recorded]:
    """Every exchange of a report folder's evidence/ (files that are not evidence skipped)."""
    for file in sorted((Path(report_dir) / "evidence").glob("*.json")):
        try:
            evidence = json.loads(file.read_text(encoding="utf-8"))
            test, exchanges = evidence["nodeid"], evidence["exchanges"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        for x in exchanges:
            if isinstance(x, dict):
                yield Recorded(test, str(x.get("method", "")), path_of(str(x.get("url", ""))),
                               x.get("request_body"), x.get("status"), x.get("response_body"),
                               x.get("error"))


def keyed(exchanges: Iterable[Recorded]) -> dict[Key, Recorded]:
    """Exchanges by request key and occurrence (the n-th with that key in the run)."""
    seen: dict[tuple[str, str, str, str], int] = {}
    found: dict[Key, Recorded] = {}
    for exchange in exchanges:
        key = exchange.request_key
        n = seen.get(key, 0)
        seen[key] = n + 1
        found[(*key, n)] = exchange
    return found
