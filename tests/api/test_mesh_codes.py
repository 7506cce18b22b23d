"""符号 issuance: per institution, stable, opaque, kept only as (institution, 符号) → person."""

from __future__ import annotations

import re
import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshcert_simulators.common.identifiers import find_my_numbers
from meshcert_simulators.mesh.codes import CodeDeriver
from tests.api.mesh_support import CHILD, TAX, auth, client_for, mesh_app, mesh_topology, person

CODE = re.compile(r"[A-Z2-7]{32}")


def test_a_code_is_issued_once_then_returned_again(tmp_path):
    topo = mesh_topology()
    with client_for(mesh_app(tmp_path)) as client:
        body = {"juminhyo_code": person(1)}
        first = client.post("/v1/codes", json=body, headers=auth(topo, CHILD))
        again = client.post("/v1/codes", json=body, headers=auth(topo, CHILD))
    assert first.status_code == 201 and first.json()["newly_issued"] is True
    assert again.status_code == 200 and again.json()["newly_issued"] is False
    assert first.json()["code"] == again.json()["code"]
    assert CODE.fullmatch(first.json()["code"])


def test_a_bad_juminhyo_code_and_a_non_institution_are_refused(tmp_path):
    topo = mesh_topology()
    bad = person(1)[:-1] + str((int(person(1)[-1]) + 1) % 10)
    with client_for(mesh_app(tmp_path)) as client:
        wrong = client.post("/v1/codes", json={"juminhyo_code": bad}, headers=auth(topo, CHILD))
        stranger = client.post("/v1/codes", json={"juminhyo_code": person(1)},
                               headers=auth(topo, "mesh-stranger"))
        anonymous = client.post("/v1/codes", json={"juminhyo_code": person(1)})
    assert wrong.json()["type"] == "urn:meshcert:problem:invalid-juminhyo-code"
    assert stranger.status_code == 403
    assert stranger.json()["type"] == "urn:meshcert:problem:institution-not-registered"
    assert anonymous.status_code == 401


def test_the_database_never_holds_the_juminhyo_code(tmp_path):
    topo = mesh_topology()
    with client_for(mesh_app(tmp_path)) as client:
        client.post("/v1/codes", json={"juminhyo_code": person(7)}, headers=auth(topo, CHILD))
    dump = "\n".join(sqlite3.connect(tmp_path / "mesh.sqlite3").iterdump())
    assert person(7) not in dump


@settings(max_examples=200, deadline=None)
@given(seeds=st.lists(st.integers(0, 2**32), min_size=1, max_size=20, unique=True),
       institutions=st.lists(st.from_regex(r"[a-z0-9-]{1,32}", fullmatch=True), min_size=2,
                             max_size=8, unique=True))
def test_codes_are_distinct_across_persons_and_institutions(seeds, institutions):
    deriver = CodeDeriver.from_config({})
    persons = {person(s) for s in seeds}
    codes = {}
    for jumin in persons:
        key = deriver.person_key(jumin)
        for inst in institutions:
            code = deriver.code(inst, key)
            assert code == deriver.code(inst, deriver.person_key(jumin))  # stable
            assert jumin not in code and not find_my_numbers(code)
            codes[(jumin, inst)] = code
    assert len(set(codes.values())) == len(codes)  # no two (person, institution) share one


def test_codes_from_the_api_differ_per_institution_and_are_stable(tmp_path):
    topo = mesh_topology()
    with client_for(mesh_app(tmp_path)) as client:

        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        @given(seed=st.integers(0, 2**32))
        def check(seed):
            jumin = person(seed)
            seen = {}
            for inst in (i.code for i in topo.institutions):
                r = client.post("/v1/codes", json={"juminhyo_code": jumin},
                                headers=auth(topo, inst))
                assert r.status_code in (200, 201)
                assert jumin not in r.text and not find_my_numbers(r.text)
                seen[inst] = r.json()["code"]
                again = client.post("/v1/codes", json={"juminhyo_code": jumin},
                                    headers=auth(topo, inst))
                assert again.json()["code"] == seen[inst]
            assert len(set(seen.values())) == len(seen)

        check()


def test_a_different_secret_gives_unrelated_codes():
    a = CodeDeriver(b"secret-a", b"person-a")
    b = CodeDeriver(b"secret-b", b"person-b")
    jumin = person(3)
    assert a.code(TAX, a.person_key(jumin)) != b.code(TAX, b.person_key(jumin))


def test_the_harness_can_see_a_code_before_it_is_issued_and_only_as_admin(tmp_path):
    topo = mesh_topology()
    admin = {"Authorization": f"Bearer {topo.admin_token}"}
    with client_for(mesh_app(tmp_path)) as client:
        jumin = person(11)
        preview = client.get(f"/admin/codes/{CHILD}", params={"juminhyo_code": jumin},
                             headers=admin)
        issued = client.post("/v1/codes", json={"juminhyo_code": jumin}, headers=auth(topo, CHILD))
        as_inquirer = client.get(f"/admin/codes/{CHILD}", params={"juminhyo_code": jumin},
                                 headers=auth(topo, CHILD))
        unknown = client.get("/admin/codes/nowhere", params={"juminhyo_code": jumin},
                             headers=admin)
    assert preview.status_code == 200
    # Looking did not issue it: the inquirer's request is still the first.
    assert issued.status_code == 201 and issued.json()["newly_issued"] is True
    assert preview.json()["code"] == issued.json()["code"]
    assert as_inquirer.status_code == 403
    assert unknown.status_code == 404
