"""The reference child-allowance system (meshcert_simulators/childallowance/) in-process with the
real
authz, mesh and resident-tax apps: the trigger, the inquiry through the mesh, the decision and
notice, its own art. 23 records, retries, giving up, restarts, and its HTTP edge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshcert_simulators.common.identifiers import find_my_numbers
from tests.api.childallowance_support import World, family


@pytest.fixture
def world(tmp_path: Path):
    with World(tmp_path) as running:
        yield running


def test_an_application_is_decided_from_the_income_the_mesh_provides(world):
    applicant = family(1)
    world.seed(applicant)
    submitted = world.submit(applicant.application("A-1"))
    assert submitted.status_code == 202
    assert submitted.headers["location"] == "/v1/applications/A-1"
    view = world.conclude("A-1")
    assert view["state"] == "decided"
    assert view["decision"]["monthly_amount"] == 25_000  # 15,000 (under 3) + 10,000
    assert view["decision"]["taxable_income"] == 4_150_000
    assert view["notice"]["kind"] == "decision"
    [inquiry] = view["inquiries"]
    assert inquiry["outcome"] == "provided" and inquiry["attempts"] == 1


def test_what_crosses_the_mesh_is_the_code_never_the_my_number(world):
    applicant = family(2)
    world.seed(applicant)
    world.submit(applicant.application("A-2"))
    world.conclude("A-2")
    sent = world.sent()
    assert [e["path"] for e in sent] == ["/v1/codes", "/v1/inquiries"]
    assert all(not find_my_numbers(e["request_body"]) for e in sent)
    assert applicant.my_number not in json.dumps(sent)
    code = json.loads(sent[0]["response_body"])["code"]
    inquiry = json.loads(sent[1]["request_body"])
    assert inquiry == {"record_id": inquiry["record_id"], "procedure_code": "JT01010000000214",
                       "item_code": "TM00000000000002", "provider": "chiyoda-resident-tax",
                       "code": code}


def test_its_own_records_match_the_mesh_record(world):
    applicant = family(3)
    world.seed(applicant)
    world.submit(applicant.application("A-3"))
    world.conclude("A-3")
    [mine] = world.inquirer.get("/v1/provision-records").json()["records"]
    answer = json.loads(world.sent()[-1]["response_body"])
    assert mine["record_id"] == answer["record_id"]
    assert (mine["requested_at"], mine["provided_at"]) == (answer["requested_at"],
                                                           answer["provided_at"])
    assert mine["outcome"] == "provided" and mine["item_status"] == "01"


def test_without_data_at_the_provider_a_certificate_is_asked_for(world):
    world.submit(family(4).application("A-4"))  # never seeded
    view = world.conclude("A-4")
    assert view["state"] == "certificate-requested"
    assert view["decision"] is None
    assert view["notice"]["kind"] == "certificate-requested"
    assert "課税証明書" in view["notice"]["title"]


def test_a_503_is_retried_under_the_same_record_id(world):
    applicant = family(5)
    world.seed(applicant)
    world.fault({"error": {"rate": 1.0, "status": 503}, "max_hits": 2})
    world.submit(applicant.application("A-5"))
    view = world.conclude("A-5")
    assert view["state"] == "decided"
    attempts = [e for e in world.sent() if e["path"] == "/v1/inquiries"]
    assert [e["status"] for e in attempts] == [503, 503, 200]
    assert len({json.loads(e["request_body"])["record_id"] for e in attempts}) == 1
    assert view["inquiries"][0]["attempts"] == 3


def test_an_attempt_slower_than_the_attempt_timeout_is_abandoned_and_retried(tmp_path):
    with World(tmp_path, attempt_timeout_s="0.3") as world:
        applicant = family(6)
        world.seed(applicant)
        world.fault({"latency": 1500, "max_hits": 1})
        world.submit(applicant.application("A-6"))
        view = world.conclude("A-6")
    assert view["state"] == "decided"
    assert view["inquiries"][0]["attempts"] == 2


def test_a_failing_inquiry_is_given_up_in_time_and_nothing_is_decided(tmp_path):
    with World(tmp_path, give_up_within_s="1.0") as world:
        applicant = family(7)
        world.seed(applicant)
        world.fault({"error": {"rate": 1.0, "status": 503}})
        world.submit(applicant.application("A-7"))
        view = world.conclude("A-7", within_s=5)
        [record] = world.inquirer.get("/v1/provision-records").json()["records"]
    assert view["state"] == "inquiry-failed"
    assert view["decision"] is None
    assert view["notice"]["kind"] == "inquiry-failed" and view["notice"]["next_steps"]
    assert record["outcome"] == "failed" and record["provided_at"] is None
    assert record["attempts"] >= 2


def test_an_unfinished_application_resumes_after_a_restart(tmp_path):
    applicant = family(8)
    with World(tmp_path) as world:
        world.seed(applicant)
        world.fault({"error": {"rate": 1.0, "status": 503}})  # it cannot finish now
        world.submit(applicant.application("A-8"))
        assert world.inquirer.get("/v1/applications/A-8").json()["state"] in ("received",
                                                                             "inquiring")
    # Stopped mid-inquiry; a new process on the same data (and a mesh without faults).
    with World(tmp_path) as world:
        view = world.conclude("A-8")
    assert view["state"] == "decided"


def test_a_resend_is_the_same_application_and_a_changed_one_is_refused(world):
    applicant = family(9)
    world.seed(applicant)
    first = world.submit(applicant.application("A-9"))
    world.conclude("A-9")
    again = world.submit(applicant.application("A-9"))
    assert again.status_code == 200 and again.json()["state"] == "decided"
    assert again.json()["received_at"] == first.json()["received_at"]
    changed = applicant.application("A-9") | {"children": [{"name": "三郎",
                                                             "birth_date": "2024-01-01"}]}
    refused = world.submit(changed)
    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:meshcert:problem:application-id-reused"
    assert len([e for e in world.sent() if e["path"] == "/v1/inquiries"]) == 1


@pytest.mark.parametrize(("change", "status", "slug"), [
    (lambda a: a["applicant"].update(my_number="123456789012"), 422, "invalid-my-number"),
    (lambda a: a["applicant"].update(juminhyo_code="12345678901"), 422,
     "invalid-juminhyo-code"),
    (lambda a: a["children"][0].update(birth_date="2999-01-01"), 422, "birth-date-in-future"),
    (lambda a: a["children"][0].update(birth_date=20200101), 422, "validation-error"),
    (lambda a: a.update(surprise=True), 422, "validation-error"),
])
def test_a_malformed_application_is_a_problem_not_a_500(world, change, status, slug):
    application = family(10).application("A-10")
    change(application)
    answer = world.submit(application)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"] == f"urn:meshcert:problem:{slug}"


def test_the_trigger_needs_a_token_with_the_right_scope(world):
    application = family(11).application("A-11")
    anonymous = world.inquirer.post("/v1/applications", json=application,
                                    headers={"Authorization": ""})
    assert anonymous.status_code == 401
    reader = world.inquirer.post("/v1/applications", json=application,
                                 headers={"Authorization": f"Bearer "
                                          f"{world.token(['allowance:read'])}"})
    assert reader.status_code == 403
    assert world.inquirer.get("/v1/provision-records", headers={
        "Authorization": f"Bearer {world.token(['allowance:read'])}"}).status_code == 403


def test_an_unknown_application_is_a_404_problem(world):
    answer = world.inquirer.get("/v1/applications/NOPE")
    assert answer.status_code == 404
    assert answer.json()["type"] == "urn:meshcert:problem:application-not-found"
