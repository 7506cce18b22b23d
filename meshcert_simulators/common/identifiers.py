"""Every identifier rule of the harness, in one place (docs/domain.md §3, invariant 9).

Conventions, the same for every identifier:

* ``*_check_digit(body)`` returns the check digit as a one-character string and raises
  ``ValueError`` when ``body`` is not the right count of ASCII digits ``0-9``. Full-width digits
  (``１``) and other Unicode digits are refused: ``str.isdigit()`` accepts them, so every shape
  check here is a ``[0-9]{n}`` full match instead.
* ``is_valid_*(s)`` never raises: it returns ``False`` for a wrong shape or a wrong check digit.
* ``generate_*(rng)`` draws from the ``random.Random`` it is given, so a seed reproduces a
  population.

Sources: My Number — 総務省令第八十五号 第五条 [P]; corporate number — National Tax Agency [P];
local government code — 総務省 code rules [P] (checked against all 1,788 JIS X 0402 codes);
宛名番号/世帯番号 — modulus 11, weights 2-7 [S]; 住民票コード — not public, assumed [I].
"""

from __future__ import annotations

import random
import re

_ASCII_DIGITS = re.compile(r"[0-9]+")
# 12 ASCII digits not preceded or followed by another ASCII digit.
_TWELVE_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")

MY_NUMBER_LENGTH = 12
CORPORATE_NUMBER_LENGTH = 13
ATENA_NUMBER_LENGTH = 10  # 9-digit municipal sequence + check digit (harness shape)
SETAI_NUMBER_LENGTH = 10
JUMINHYO_CODE_LENGTH = 11
LOCAL_GOVERNMENT_CODE_LENGTH = 6
INTEGRATED_ATENA_NUMBER_LENGTH = 15


def _digits(value: str, length: int | None, what: str) -> list[int]:
    """The digits of ``value``, or ValueError naming the expected shape."""
    expected = f"{length} ASCII digits 0-9" if length else "one or more ASCII digits 0-9"
    if not isinstance(value, str) or not _ASCII_DIGITS.fullmatch(value):
        raise ValueError(
            f"{what}: expected {expected}, got {value!r} "
            "(full-width and other Unicode digits are not accepted)"
        )
    if length is not None and len(value) != length:
        raise ValueError(f"{what}: expected {expected}, got {len(value)} digits in {value!r}")
    return [int(c) for c in value]


def _is_digits(value: object, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and bool(_ASCII_DIGITS.fullmatch(value))


# --- 個人番号 (My Number) -----------------------------------------------------------------------


def my_number_check_digit(first11: str) -> str:
    """Check digit of a My Number (個人番号) from its first 11 digits.

    The formula of 総務省令第八十五号 第五条: number the 11 digits P_n from the right (n=1 is the
    rightmost), weight Q_n = n+1 for 1<=n<=6 and Q_n = n-5 for 7<=n<=11 (so 2,3,4,5,6,7,2,3,4,5,6
    from the right); r = sum(P_n*Q_n) mod 11; the check digit is 0 when r<=1, else 11-r.

    Raises ValueError unless ``first11`` is exactly 11 ASCII digits: pass the number without the
    check digit, spaces or hyphens.
    """
    digits = _digits(first11, MY_NUMBER_LENGTH - 1, "My Number body")
    weights = [n + 1 if n <= 6 else n - 5 for n in range(1, 12)]
    r = sum(p * q for p, q in zip(reversed(digits), weights, strict=True)) % 11
    return "0" if r <= 1 else str(11 - r)


def is_valid_my_number(s: str) -> bool:
    """True when ``s`` is 12 ASCII digits whose last digit is the My Number check digit.

    No separators are stripped: normalise ``1234 5678 9018`` to ``123456789018`` first.
    """
    return _is_digits(s, MY_NUMBER_LENGTH) and my_number_check_digit(s[:11]) == s[11]


def generate_my_number(rng: random.Random) -> str:
    """A random 12-digit number with a valid My Number check digit (synthetic, never real)."""
    body = "".join(rng.choice("0123456789") for _ in range(MY_NUMBER_LENGTH - 1))
    return body + my_number_check_digit(body)


def my_number_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every run of exactly 12 ASCII digits in ``text``, not part of a longer
    run of ASCII digits, whose check digit is valid (invariant 1), in order of appearance."""
    return [m.span() for m in _TWELVE_DIGIT_RUN.finditer(text) if is_valid_my_number(m.group())]


def find_my_numbers(text: str) -> list[str]:
    """Every My-Number-shaped value in ``text``, in order of appearance (invariant 1).

    Returns each run of exactly 12 ASCII digits, not part of a longer run of ASCII digits, whose
    check digit is valid. A valid-looking value is reported even if it is a coincidence (about
    1 in 10 random 12-digit runs passes): the caller decides whether it may cross a boundary.
    Not found: numbers split by spaces or hyphens, or written with full-width digits — the
    simulators' guard on their own output. The harness judges a vendor with the detector of
    every form, meshcert/checks/identifiers.py, which builds on ``my_number_spans``.
    """
    return [text[start:end] for start, end in my_number_spans(text)]


# --- 法人番号 (corporate number) ----------------------------------------------------------------


def corporate_number_check_digit(body12: str) -> str:
    """Check digit of a corporate number (法人番号) from its last 12 digits (the "body").

    National Tax Agency formula: number the body digits P_n from the right (n=1 is the
    rightmost); weight 1 for odd n, 2 for even n; the check digit is 9 - (sum(P_n*Q_n) mod 9),
    so it is always 1-9. The check digit is written FIRST: number = check + body.

    Raises ValueError unless ``body12`` is exactly 12 ASCII digits (the number without its
    leading check digit, without hyphens).
    """
    digits = _digits(body12, CORPORATE_NUMBER_LENGTH - 1, "corporate number body")
    total = sum(p * (1 if n % 2 else 2) for n, p in enumerate(reversed(digits), start=1))
    return str(9 - total % 9)


def is_valid_corporate_number(s: str) -> bool:
    """True when ``s`` is 13 ASCII digits and its FIRST digit is the check digit of the rest."""
    return _is_digits(s, CORPORATE_NUMBER_LENGTH) and corporate_number_check_digit(s[1:]) == s[0]


# --- modulus 11, weights 2-7: 宛名番号 / 世帯番号 / 住民票コード ---------------------------------


def _mod11_remainder(digits: list[int]) -> int:
    # Weights 2,3,4,5,6,7,2,3,... starting at the rightmost body digit.
    return sum(p * (2 + i % 6) for i, p in enumerate(reversed(digits))) % 11


def is_issuable_mod11_body(body: str) -> bool:
    """False for a body whose modulus-11 remainder is 1 (its check "digit" would be 10).

    Such bodies are never issued (harness rule [I]; many municipal systems skip them), which is
    what lets modulus 11 detect every single-digit error. Raises ValueError like
    ``mod11_check_digit`` for a body that is not ASCII digits.
    """
    return _mod11_remainder(_digits(body, None, "modulus-11 body")) != 1


def mod11_check_digit(body: str) -> str:
    """Modulus-11 check digit (weights 2-7) of a 宛名番号/世帯番号/住民票コード body.

    Weights 2,3,4,5,6,7 repeat from the rightmost body digit; r = sum mod 11; the check digit
    is 0 when r == 0, else 11 - r. When r == 1 the result would be 10: such bodies are NOT
    ISSUED (the harness's rule [I]; municipalities skip that sequence number), and this
    function raises ValueError for them; generators skip them.

    Raises ValueError unless ``body`` is one or more ASCII digits (no check digit appended).
    """
    r = _mod11_remainder(_digits(body, None, "modulus-11 body"))
    if r == 1:
        raise ValueError(
            f"modulus-11 body {body!r} has remainder 1 (check would be 10): such "
            "numbers are not issued; skip to the next sequence number"
        )
    return "0" if r == 0 else str(11 - r)


def is_valid_mod11(s: str) -> bool:
    """True when ``s`` is at least 2 ASCII digits and its last digit is the modulus-11 check
    digit of the rest (see ``mod11_check_digit``; a non-issuable body is never valid)."""
    if not isinstance(s, str) or len(s) < 2 or not _ASCII_DIGITS.fullmatch(s):
        return False
    return is_issuable_mod11_body(s[:-1]) and mod11_check_digit(s[:-1]) == s[-1]


def _generate_mod11(rng: random.Random, length: int, seq: int | None, what: str) -> str:
    body_length = length - 1
    if seq is not None:
        if isinstance(seq, bool) or not 0 <= seq < 10**body_length:
            raise ValueError(
                f"{what}: sequence must be an int in 0..{10**body_length - 1}, got {seq!r}"
            )
        body = f"{seq:0{body_length}d}"
        return body + mod11_check_digit(body)  # raises for a non-issuable sequence
    while True:  # redraw non-issuable bodies (about 1 in 11)
        body = "".join(rng.choice("0123456789") for _ in range(body_length))
        if is_issuable_mod11_body(body):
            return body + mod11_check_digit(body)


def generate_atena_number(rng: random.Random, municipality_seq: int | None = None) -> str:
    """A 10-digit 宛名番号: a 9-digit municipal sequence number + modulus-11 check digit.

    With ``municipality_seq`` the body is that sequence number zero-padded (deterministic; the
    rng is not used) and ValueError is raised when it is one of the non-issuable sequence
    numbers (remainder 1): a sequential issuer catches that and moves to the next number.
    Without it, a random issuable body is drawn from ``rng``.
    """
    return _generate_mod11(rng, ATENA_NUMBER_LENGTH, municipality_seq, "宛名番号")


def generate_setai_number(rng: random.Random, municipality_seq: int | None = None) -> str:
    """A 10-digit 世帯番号, same shape and rules as ``generate_atena_number``."""
    return _generate_mod11(rng, SETAI_NUMBER_LENGTH, municipality_seq, "世帯番号")


def is_valid_juminhyo_code(s: str) -> bool:
    """True when ``s`` is an 11-digit 住民票コード passing the harness's check-digit rule.

    The real check-digit formula of the 住民票コード is not public. The harness ASSUMES [I] the
    same rule as 宛名番号: the last digit is the modulus-11 check digit (weights 2-7) of the
    first 10, and bodies with remainder 1 are not issued. Replace this function if the real
    rule becomes available.
    """
    return _is_digits(s, JUMINHYO_CODE_LENGTH) and is_valid_mod11(s)


def generate_juminhyo_code(rng: random.Random) -> str:
    """A random 11-digit 住民票コード valid under the assumed rule of ``is_valid_juminhyo_code``."""
    return _generate_mod11(rng, JUMINHYO_CODE_LENGTH, None, "住民票コード")


# --- 全国地方公共団体コード (local government code) ----------------------------------------------


def local_government_code_check_digit(first5: str) -> str:
    """Check digit of a 6-digit local government code from its first 5 digits.

    Weights 6,5,4,3,2 from the left; r = sum mod 11; the check digit is the last digit of
    11 - r, i.e. (11 - r) % 10 (r=0 -> 1, r=1 -> 0). Example: 13101 -> 6 (131016, 千代田区).

    Raises ValueError unless ``first5`` is exactly 5 ASCII digits (prefecture 2 + municipality 3).
    """
    digits = _digits(first5, LOCAL_GOVERNMENT_CODE_LENGTH - 1, "local government code")
    r = sum(p * w for p, w in zip(digits, (6, 5, 4, 3, 2), strict=True)) % 11
    return str((11 - r) % 10)


def is_valid_local_government_code(s: str) -> bool:
    """True when ``s`` is 6 ASCII digits whose last digit is the check digit of the first 5.

    Only the check digit is verified, not that the code is assigned to an existing body: look it
    up in the JIS X 0402 list for that.
    """
    return (
        _is_digits(s, LOCAL_GOVERNMENT_CODE_LENGTH)
        and local_government_code_check_digit(s[:5]) == s[5]
    )


# --- 団体内統合宛名番号 ------------------------------------------------------------------------


def integrated_atena_number(n: int) -> str:
    """The 団体内統合宛名番号 ``n`` as it appears at interfaces: 15 digits, zero-padded.

    Raises ValueError unless ``n`` is an int in 0..999,999,999,999,999 (bool is refused).
    """
    limit = 10**INTEGRATED_ATENA_NUMBER_LENGTH
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < limit:
        raise ValueError(f"団体内統合宛名番号: expected an int in 0..{limit - 1}, got {n!r}")
    return f"{n:0{INTEGRATED_ATENA_NUMBER_LENGTH}d}"
