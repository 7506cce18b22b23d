"""The four basic facts (基本4情報) as the national services hand them on: derived from a
resident record of the registry, and cut down to the scopes a person consented to.

One derivation for every simulator that shows the facts (the JPKI-like CA writes them into a
signing certificate, the gateway provides them, the provider may answer claims with them), so
the same person reads the same everywhere.

Forms: ``name`` is ``surname`` U+3000 ``given name`` (kana likewise, ``name_kana``);
``address`` is prefecture, city, 町字, 番地以下 joined without spaces, then U+3000 and the
building when there is one; ``birthdate`` is the ISO date (an uncertain date the registry holds
only as text is left out); ``gender`` is ``male``, ``female``, ``unknown`` or
``not-applicable`` (JIS X 0303 codes 1, 2, 0, 9).
"""

from __future__ import annotations

from typing import Any

FACT_SCOPES = ("name", "address", "birthdate", "gender")
# The claims each scope discloses (``address_kana`` only where the registry holds it).
CLAIMS_OF_SCOPE: dict[str, tuple[str, ...]] = {
    "name": ("name", "name_kana"), "address": ("address", "address_kana"),
    "birthdate": ("birthdate",), "gender": ("gender",)}
GENDER_OF_SEX_CODE = {"1": "male", "2": "female", "0": "unknown", "9": "not-applicable"}
SPACE = "\u3000"  # the full-width space between the parts of a Japanese name


def basic_facts(resident: dict[str, Any]) -> dict[str, str]:
    """Every claim of the four facts that ``resident`` (the registry's record) holds."""
    name = resident["name"]
    address = resident["address"]
    place = "".join(part for part in (address.get("prefecture"), address.get("city"),
                                      address.get("town"), address.get("banchi")) if part)
    facts = {"name": f"{name['surname']}{SPACE}{name['given_name']}",
             "name_kana": f"{name['surname_kana']}{SPACE}{name['given_name_kana']}",
             "address": f"{place}{SPACE}{address['building']}" if address.get("building")
             else place,
             "gender": GENDER_OF_SEX_CODE.get(str(resident.get("sex")), "unknown")}
    if address.get("kana"):
        facts["address_kana"] = str(address["kana"])
    birth = (resident.get("birth_date") or {}).get("iso")
    if birth:
        facts["birthdate"] = str(birth)
    return facts


def facts_for_scopes(facts: dict[str, str], scopes: set[str] | frozenset[str]
                     ) -> dict[str, str]:
    """Only the claims of ``scopes`` (unknown scopes disclose nothing)."""
    allowed = {claim for scope in scopes for claim in CLAIMS_OF_SCOPE.get(scope, ())}
    return {claim: value for claim, value in facts.items() if claim in allowed}
