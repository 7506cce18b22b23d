"""The one detector of identifiers that must not cross a boundary (docs/domain.md,
invariants 1 and 2).

Every profile's My Number check calls :func:`find_identifiers` (or :func:`ensure_no_identifiers`)
on what the system under test sent: a JSON value, a text, or a whole HTTP request/response
(headers and body, see :func:`exchange_parts`). It finds two things.

**Any My Number, known or not.** A run of exactly 12 digits whose last digit is the My Number
check digit (総務省令第八十五号 第五条; the formula and the plain 12-digit run live once, in
``meshcert_simulators.common.identifiers``: ``is_valid_my_number``, ``my_number_spans``), in any
string
or number at any depth (dict keys included), written

* plainly (``123456789018``), as a JSON number, or embedded in a longer string
  (``"ID:123456789018/x"``) — but not inside a longer run of digits, nor inside a
  machine-made hexadecimal id (a UUID, or 16 or more hex characters in a row);
* with full-width or other Unicode digits (``１２３４…``, NFKC and Unicode decimal values);
  invisible format characters (zero-width space, soft hyphen) are ignored;
* in the card's 4-4-4 grouping with one separator repeated (``1234-5678-9018``,
  ``1234 5678 9018``, ``1234．5678．9018``, ``1234 - 5678 - 9018``; the separator is 1-3 of:
  spaces, hyphens and dashes of any width, ``ー``, dots, ``・``, ``/``, ``_``, ``:``), when the
  groups are not part of a longer chain of digit groups.

To keep false alarms rare, an *unknown* value is NOT recognised in other groupings
(``12345-6789018``), with mixed separators, split across fields, or joined by commas: a date
and time (``2026-11-20 12:30``), a record id (``INQ-20261120-0001``), an IP address, a card
number (``1111-2222-3333-4444``), an amount (``123,456,789,018``), a phone number
(``+81 90-1234-5678``), a 15-digit 団体内統合宛名番号 or a 13-digit 法人番号 is never a hit.
About one random 12-digit run in ten passes the check digit, so a 12-digit run that is not a My
Number can still be reported: the invariant forbids any such run from crossing.

**The known values it is given** (``my_numbers``, ``juminhyo_codes``, ``codes`` — what the
harness seeded): compared letters and digits only, case-insensitively, after the same
normalisation, so they are found with ANY separators or none, embedded anywhere (even inside a
longer run of digits), in a key, a value, a number or a header, and split across several
fields or headers: contiguously in document order (``{"a": "1234", "b": "5678-9018"}``; keys
do not interrupt), or as pieces of at least four characters in any order held by one object or
array, or among the headers and URL of one HTTP message.

A hit is a :class:`Leak` naming where it was (``body.applicant.note``, ``body.items[0]``,
``header:x-note``, ``url``; ``$`` is the root of a bare value; a split hit joins its places
with `` + ``) and the text as found.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, unquote_plus

import httpx

from meshcert_simulators.common.identifiers import is_valid_my_number, my_number_spans

Kind = Literal["my-number", "juminhyo-code", "code"]

# A known value shorter than this would match by coincidence (a year, a status code).
MIN_KNOWN_LENGTH = 8
# Pieces of a known value found out of order must be at least this long, so that years,
# status codes and counts scattered through a message never add up to a value by chance.
MIN_PIECE = 4
REPORTED = 10  # leaks named in an assertion message
KEY = " (key)"  # marks the place of a dict key

# Separators a person or a program puts between digit groups (after NFKC: U+3000 is a space,
# U+FF0D a hyphen-minus, U+FF0E a dot). Commas are left out: they group amounts.
_SEP = r"[\s\-\u2010-\u2015\u2212\u30fc\u2e3a\u2e3b.\u30fb\u2024/_:]"
_GROUPED = re.compile(
    rf"(?<![0-9])(?P<a>[0-9]{{4}})(?P<sep>{_SEP}{{1,3}})(?P<b>[0-9]{{4}})(?P=sep)"
    rf"(?P<c>[0-9]{{4}})(?![0-9])")
_CHAIN_BEFORE = re.compile(rf"[0-9]{_SEP}{{1,3}}\Z")
_CHAIN_AFTER = re.compile(rf"{_SEP}{{1,3}}[0-9]")
# Machine-made hexadecimal ids (a UUID, ``secrets.token_hex``): about one in 700 random ones
# holds 12 digits that pass the check digit, so a system's request ids would fail it by chance.
_HEX_ID = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}|[0-9a-fA-F]{16,})(?![0-9A-Za-z])")


@dataclass(frozen=True)
class Leak:
    """One identifier found where it must not be.

    ``kind``: "my-number" | "juminhyo-code" | "code"; ``value``: the identifier canonically
    (a My Number as 12 ASCII digits, a known value as it was given); ``where``: its place in the
    message (places joined by `` + `` when it was split); ``form``: the text as found there.
    """

    kind: Kind
    value: str
    where: str
    form: str

    def __str__(self) -> str:
        return f"{self.kind} {self.value} at {self.where} as {self.form!r}"


@dataclass(frozen=True)
class Parts:
    """The places of one HTTP message to scan: (name, value) pairs such as ("url", "/v1/…"),
    ("header:x-note", "…"), ("body", parsed JSON or text). Made by :func:`exchange_parts`."""

    items: tuple[tuple[str, Any], ...]


# -- HTTP messages ---------------------------------------------------------------------------


def _body(content: bytes | str | None) -> Any:
    """A body as JSON when it parses as JSON (problem details included), else as text."""
    if content is None:
        return None
    text = content if isinstance(content, str) else content.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _url(path: str, query: str) -> str:
    decoded = unquote(path)
    return f"{decoded}?{unquote_plus(query)}" if query else decoded


def exchange_parts(message: httpx.Request | httpx.Response | Mapping[str, Any], *,
                   side: Literal["request", "response"] = "request") -> Parts:
    """The places of one HTTP message: every header, the body and, for a request, the URL.

    * ``httpx.Response``: ``header:<name>`` for each header (lower-case, repeated headers kept
      apart) and ``body``.
    * ``httpx.Request``: ``url`` (path and query, percent-decoded), the headers and ``body``.
    * a capture entry (a mapping from a simulator's ``GET /admin/exchanges`` with ``path``,
      ``query``, ``request_headers``, ``request_body``, ``response_body``): with
      ``side="request"`` the ``url``, headers and ``body`` the caller sent (credentials are
      redacted there), with ``side="response"`` the ``body`` it was answered.

    A body that parses as JSON is scanned as JSON, any other body as text. Raises TypeError for
    anything else.
    """
    if isinstance(message, httpx.Response):
        return Parts((*_header_parts(message.headers), ("body", _body(message.content))))
    if isinstance(message, httpx.Request):
        try:
            content: bytes | None = message.content
        except httpx.RequestNotRead:
            content = None  # a streamed body that was never read: nothing to scan
        url = _url(message.url.path, message.url.query.decode("ascii", errors="replace"))
        return Parts((("url", url), *_header_parts(message.headers), ("body", _body(content))))
    if isinstance(message, Mapping) and "request_body" in message:
        if side == "response":
            return Parts((("body", _body(message.get("response_body"))),))
        url = _url(str(message.get("path", "")), str(message.get("query", "")))
        headers = [(f"header:{name.lower()}", str(value))
                   for name, value in (message.get("request_headers") or {}).items()]
        return Parts((("url", url), *headers, ("body", _body(message.get("request_body")))))
    raise TypeError(f"exchange_parts takes an httpx.Request, an httpx.Response or a mesh "
                    f"capture entry (a mapping with request_body), not {type(message).__name__}")


def _header_parts(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(f"header:{name.lower()}", value) for name, value in headers.multi_items()]


# -- walking a message -----------------------------------------------------------------------


def _leaves(message: Any) -> Iterator[tuple[str, str, str]]:
    """(place, text, parent) of every string, number and dict key of ``message``, in
    document order; ``parent`` is the place of the object or array holding it ("" for the
    headers, URL and body of an HTTP message)."""
    if isinstance(message, httpx.Request | httpx.Response):
        message = exchange_parts(message)
    if isinstance(message, Parts):
        for name, value in message.items:
            yield from _walk(value, name, "")
    else:
        yield from _walk(message, "$", "")


def _walk(value: Any, where: str, parent: str) -> Iterator[tuple[str, str, str]]:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        yield where, value, parent
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        yield where, str(value), parent
    elif isinstance(value, float):
        # A JSON number 123456789018.0 is the integer it spells.
        text = str(int(value)) if value.is_integer() and abs(value) < 1e18 else repr(value)
        yield where, text, parent
    elif isinstance(value, Mapping):
        for key, item in value.items():
            place = f"{where}.{key}"
            yield f"{place}{KEY}", str(key), where
            yield from _walk(item, place, where)
    elif isinstance(value, list | tuple):
        for n, item in enumerate(value):
            yield from _walk(item, f"{where}[{n}]", where)
    else:
        raise TypeError(f"cannot scan a {type(value).__name__} at {where}: pass JSON-like "
                        "values (dict, list, str, int, float, bool, None), text, or an "
                        "httpx.Request/Response")


# -- normalisation ---------------------------------------------------------------------------


def _normal_char(ch: str) -> str:
    """``ch`` as compared: NFKC, Unicode decimal digits as ASCII, format characters dropped."""
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        if unicodedata.category(c) == "Cf":  # zero-width space, soft hyphen, BOM: invisible
            continue
        digit = unicodedata.decimal(c, None)
        out.append(str(digit) if digit is not None else c)
    return "".join(out)


@dataclass(frozen=True)
class _Text:
    """A text normalised, with each normalised character's index in the original."""

    where: str
    parent: str
    original: str
    normal: str
    origin: tuple[int, ...]

    @classmethod
    def of(cls, where: str, original: str, parent: str) -> _Text:
        normal, origin = [], []
        for i, ch in enumerate(original):
            for c in _normal_char(ch):
                normal.append(c)
                origin.append(i)
        return cls(where, parent, original, "".join(normal), tuple(origin))

    def form(self, start: int, end: int) -> str:
        """The original text behind normalised characters ``start``..``end`` (exclusive)."""
        return self.original[self.origin[start]:self.origin[end - 1] + 1]


def _kept(c: str) -> bool:
    """Whether a normalised character counts when comparing known values: letters and digits,
    but not ``ー`` (a letter to Unicode, written as a hyphen between digits)."""
    return c.isalnum() and c != "\u30fc"


def _skeleton(text: str) -> str:
    """The letters and digits of ``text`` as compared for known values."""
    return "".join(c for ch in text for c in _normal_char(ch) if _kept(c)).casefold()


# -- unknown My Numbers ----------------------------------------------------------------------


def _in_hex_id(s: str, start: int, end: int) -> bool:
    """Whether ``s[start:end]`` lies inside a UUID or a run of 16 or more hex characters."""
    return any(m.start() <= start and end <= m.end() for m in _HEX_ID.finditer(s))


def _my_numbers_in(text: _Text) -> Iterator[Leak]:
    s = text.normal
    for start, end in my_number_spans(s):  # plain, once normalised
        if _in_hex_id(s, start, end):
            continue
        yield Leak("my-number", s[start:end], text.where, text.form(start, end))
    for m in _GROUPED.finditer(s):
        if _CHAIN_BEFORE.search(s, 0, m.start()) or _CHAIN_AFTER.match(s, m.end()):
            continue  # part of a longer chain of groups: a card number, not a My Number
        digits = m["a"] + m["b"] + m["c"]
        if is_valid_my_number(digits):
            yield Leak("my-number", digits, text.where, text.form(m.start(), m.end()))


# -- known values ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Known:
    kind: Kind
    value: str
    skeleton: str


def _known(my_numbers: Iterable[str], juminhyo_codes: Iterable[str],
           codes: Iterable[str]) -> list[_Known]:
    found = []
    for kind, values in (("my-number", my_numbers), ("juminhyo-code", juminhyo_codes),
                         ("code", codes)):
        if isinstance(values, str):
            raise TypeError(f"pass the known {kind} values as a collection of strings, not "
                            f"one string {values!r}")
        for value in values:
            skeleton = _skeleton(str(value))
            if len(skeleton) < MIN_KNOWN_LENGTH:
                raise ValueError(
                    f"the known {kind} {value!r} has {len(skeleton)} letters or digits; at "
                    f"least {MIN_KNOWN_LENGTH} are needed to find it without false alarms")
            found.append(_Known(kind, str(value), skeleton))  # type: ignore[arg-type]
    return found


class _Document:
    """Every leaf's letters and digits, concatenated in document order, with the way back to
    the leaf and the original character of each."""

    def __init__(self, texts: list[_Text]) -> None:
        self.texts = texts
        chars: list[str] = []
        self.owner: list[tuple[int, int]] = []  # (text index, normalised index)
        # The values in document order, so a value split over neighbouring fields is one run
        # ({"a": "1234", "b": "5678"}: keys do not interrupt it); then each key on its own.
        values = [t for t, text in enumerate(texts) if not text.where.endswith(KEY)]
        keys = [t for t, text in enumerate(texts) if text.where.endswith(KEY)]
        key_set = set(keys)
        for t in values + keys:
            if t in key_set:
                chars.append("\0")  # never a letter or digit: nothing matches across it
                self.owner.append((t, 0))
            for i, c in enumerate(texts[t].normal):
                if _kept(c):
                    for folded in c.casefold():
                        chars.append(folded)
                        self.owner.append((t, i))
        self.skeleton = "".join(chars)
        # Every maximal run of letters and digits within one leaf, by the object or array
        # that holds the leaf: the pieces a split value could be put back together from.
        self.runs: dict[str, dict[str, tuple[str, str]]] = {}
        for text in texts:
            for start, end in _runs(text.normal):
                where_found = (text.where, text.form(start, end))
                run = text.normal[start:end].casefold()
                by_parent = self.runs.setdefault(run, {})
                by_parent.setdefault(text.parent, where_found)

    def span(self, start: int, end: int) -> tuple[str, str]:
        """(where, form) of skeleton characters ``start``..``end`` (exclusive), per leaf."""
        by_text: dict[int, list[int]] = {}
        for t, i in self.owner[start:end]:
            by_text.setdefault(t, []).append(i)
        places = [self.texts[t].where for t in by_text]
        forms = [self.texts[t].form(min(ix), max(ix) + 1) for t, ix in by_text.items()]
        return " + ".join(places), " + ".join(forms)

    def contiguous(self, known: _Known) -> Iterator[Leak]:
        start = self.skeleton.find(known.skeleton)
        while start != -1:
            where, form = self.span(start, start + len(known.skeleton))
            yield Leak(known.kind, known.value, where, form)
            start = self.skeleton.find(known.skeleton, start + 1)

    def scattered(self, known: _Known) -> Leak | None:
        """``known`` put together from two or more runs of at least MIN_PIECE characters, in
        any order, all held by one object or array (or all headers, URL and body of one HTTP
        message) — near each other, so that numbers scattered through a long message (years,
        counts) never add up to a value by chance."""
        value = known.skeleton
        pieces = {value[i:j] for i in range(len(value))
                  for j in range(i + MIN_PIECE, len(value) + 1)} - {value}
        present = {piece: self.runs[piece] for piece in pieces if piece in self.runs}
        for parent in sorted({p for found in present.values() for p in found}):
            here = {piece for piece, found in present.items() if parent in found}
            tiling = _tile(value, here)
            if tiling:
                found = [present[piece][parent] for piece in tiling]
                return Leak(known.kind, known.value, " + ".join(w for w, _ in found),
                            " + ".join(f for _, f in found))
        return None


def _runs(s: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every maximal run of kept characters of ``s``."""
    start = None
    for i, c in enumerate(s):
        if _kept(c):
            start = i if start is None else start
        elif start is not None:
            yield start, i
            start = None
    if start is not None:
        yield start, len(s)


def _tile(value: str, pieces: set[str]) -> list[str] | None:
    """Distinct pieces from ``pieces`` whose concatenation is ``value`` (None when there are
    none). Each piece is one place in the message, so none is used twice: a lone "0000" does
    not make "000000000000"."""
    def rest(start: int, used: tuple[str, ...]) -> list[str] | None:
        if start == len(value):
            return list(used)
        for end in range(len(value), start + MIN_PIECE - 1, -1):
            piece = value[start:end]
            if piece in pieces and piece not in used:
                found = rest(end, (*used, piece))
                if found:
                    return found
        return None

    return rest(0, ())


# -- the public surface ----------------------------------------------------------------------


def find_identifiers(message: Any, *, my_numbers: Iterable[str] = (),
                     juminhyo_codes: Iterable[str] = (), codes: Iterable[str] = ()
                     ) -> list[Leak]:
    """Every identifier in ``message`` that must not cross a boundary (see the module).

    ``message``: a JSON-like value (dict, list, str, int, float, bool, None; bytes are read as
    UTF-8 text), a text, an ``httpx.Request``/``httpx.Response`` (headers, body and URL), or the
    :class:`Parts` of :func:`exchange_parts`. ``my_numbers``, ``juminhyo_codes``, ``codes``: the
    known values to look for in every form, including split; each needs at least 8 letters or
    digits (ValueError otherwise).

    Returns the leaks in document order, each (kind, value, where) once: any 12-digit My
    Number passing the check digit, and every occurrence of a known value. An empty list means
    none was found.
    """
    known = _known(my_numbers, juminhyo_codes, codes)
    texts = [_Text.of(*leaf) for leaf in _leaves(message)]
    leaks: list[Leak] = []
    for text in texts:
        leaks.extend(_my_numbers_in(text))
    if known:
        document = _Document(texts)
        for value in known:
            hits = list(document.contiguous(value))
            if not hits:
                scattered = document.scattered(value)
                hits = [scattered] if scattered else []
            leaks.extend(hits)
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for leak in leaks:
        if (leak.kind, leak.value, leak.where) not in seen:
            seen.add((leak.kind, leak.value, leak.where))
            unique.append(leak)
    return unique


def ensure_no_identifiers(message: Any, *, what: str, my_numbers: Iterable[str] = (),
                          juminhyo_codes: Iterable[str] = (), codes: Iterable[str] = ()
                          ) -> None:
    """Raise AssertionError when :func:`find_identifiers` finds anything in ``message``.

    ``what`` names the message in the error (e.g. "the resident record 0000000019 read without
    the My Number scope"); the error lists each leak's kind, value, place and form as found.
    """
    leaks = find_identifiers(message, my_numbers=my_numbers, juminhyo_codes=juminhyo_codes,
                             codes=codes)
    if leaks:
        shown = "; ".join(str(leak) for leak in leaks[:REPORTED])
        more = f"; and {len(leaks) - REPORTED} more" if len(leaks) > REPORTED else ""
        raise AssertionError(f"{what} carries {len(leaks)} identifier(s) that must not cross "
                             f"(kind value at place as found): {shown}{more}")
