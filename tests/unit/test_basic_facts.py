"""The four basic facts as the national services hand them on, and how the JPKI-like CA's
certificate profile carries them (meshcert_simulators/contracts/)."""

from __future__ import annotations

from meshcert_simulators.contracts.basic_facts import basic_facts, facts_for_scopes
from meshcert_simulators.contracts.jpki_profile import der_utf8, read_der_utf8

RESIDENT = {"name": {"surname": "髙橋", "given_name": "𠮷子", "surname_kana": "タカハシ",
                     "given_name_kana": "ヨシコ"},
            "address": {"prefecture": "東京都", "city": "千代田区", "town": "霞が関二丁目",
                        "banchi": "1-6", "building": "中央合同庁舎"},
            "birth_date": {"iso": None, "uncertain": True, "text": "昭和30年頃"},
            "sex": "9", "my_number": "123456789018", "juminhyo_code": "12345678901"}


def test_the_facts_of_a_resident_never_hold_an_identifier():
    facts = basic_facts(RESIDENT)
    assert facts == {"name": "髙橋\u3000𠮷子", "name_kana": "タカハシ\u3000ヨシコ",
                     "address": "東京都千代田区霞が関二丁目1-6\u3000中央合同庁舎",
                     "gender": "not-applicable"}  # an uncertain birth date is left out
    assert "123456789018" not in str(facts) and "12345678901" not in str(facts)


def test_scopes_cut_the_facts_down():
    facts = basic_facts({**RESIDENT, "birth_date": {"iso": "1955-03-01"}})
    assert facts_for_scopes(facts, {"name"}) == {"name": facts["name"],
                                                 "name_kana": facts["name_kana"]}
    assert facts_for_scopes(facts, {"birthdate", "openid", "unknown"}) == {
        "birthdate": "1955-03-01"}
    assert facts_for_scopes(facts, set()) == {}


def test_utf8strings_round_trip_in_short_and_long_form():
    for text in ("", "山田", "東京都" * 20, "東京都" * 50):
        assert read_der_utf8(der_utf8(text)) == text
    assert der_utf8("東京都" * 20)[1:3] == bytes([0x81, 180])  # long form: 1 length byte
    assert der_utf8("東京都" * 50)[1:4] == bytes([0x82, 0x01, 0xC2])  # 450 in 2 bytes
    assert read_der_utf8(b"\x13\x02ab") is None  # a PrintableString is not a UTF8String
    assert read_der_utf8(der_utf8("山田")[:-1]) is None  # truncated
