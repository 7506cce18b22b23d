"""The console's pages over HTTP (in-process): filters as GET parameters, a run and its report
files (path-safe), the archive ``meshcert verify`` accepts, both languages, refused input."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from meshcert.cli.app import app
from meshcert.console.app import Settings, create_app
from meshcert.console.index import short_id
from meshcert.console.jobs import FINISHED, Job
from meshcert.reports.certificate import verify_report
from tests.unit.test_console_runs import make_run

REFERENCE = "fixtures/vendors/reference-registry.yaml"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    root = tmp_path_factory.mktemp("reports")
    make_run(root, "ref-1", run=0)
    make_run(root, "ref-2", run=1, failing=("SEC-AUTH-002",))
    make_run(root, "tampered", run=2, failing=("SEC-AUTH-002",), tamper=True)
    make_run(root, "defect", run=3, defect="mynumber-to-everyone", failing=("PRIV-MYNUM-001",))
    settings = Settings(db=root / "index.sqlite", roots=[root], out_dir=root / "jobs",
                        target_dirs=[Path("fixtures/vendors")])
    with TestClient(create_app(settings)) as client:
        yield client, root


def run_id(root: Path, name: str) -> str:
    return short_id((root / name).resolve())


def test_the_list_filters_by_get_parameters(world: tuple[TestClient, Path]) -> None:
    client, root = world
    every = client.get("/").text
    assert every.count('data-run="') == 4
    only = client.get("/", params={"target": f"{REFERENCE} + mynumber-to-everyone"}).text
    assert only.count('data-run="') == 1 and run_id(root, "defect") in only
    # only the tampered one claims to be certified, and the list says it does not verify
    claimed = client.get("/", params={"verdict": "certified"}).text
    assert claimed.count('data-run="') == 1 and run_id(root, "tampered") in claimed
    assert 'data-signature="invalid"' in claimed


def test_a_tampered_report_says_its_signature_does_not_verify(
        world: tuple[TestClient, Path]) -> None:
    client, root = world
    page = client.get(f"/runs/{run_id(root, 'tampered')}").text
    assert "signature does not verify" in page
    assert "signature verifies" in client.get(f"/runs/{run_id(root, 'ref-1')}").text


def test_a_run_serves_its_report_files_and_nothing_outside(
        world: tuple[TestClient, Path]) -> None:
    client, root = world
    base = f"/runs/{run_id(root, 'ref-1')}/report"
    page = client.get(f"{base}/index.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert client.get(f"{base}/certificate.json").json()["seed"] == 1234
    for sneaky in ("%2e%2e/defect/index.html", "..%2F..%2Findex.sqlite", "%2Fetc%2Fpasswd",
                   "evidence"):
        assert client.get(f"{base}/{sneaky}").status_code == 404, sneaky


def test_the_archive_unpacks_to_a_folder_that_verifies(
        world: tuple[TestClient, Path], tmp_path: Path) -> None:
    client, root = world
    answer = client.get(f"/runs/{run_id(root, 'ref-2')}/archive.zip")
    assert answer.headers["content-type"] == "application/zip"
    zipfile.ZipFile(io.BytesIO(answer.content)).extractall(tmp_path)
    result = verify_report(tmp_path / "ref-2")
    assert result.valid and result.checked > 4


def test_pages_speak_japanese_when_asked(world: tuple[TestClient, Path]) -> None:
    client, root = world
    assert "実行履歴" in client.get("/", params={"lang": "ja"}).text
    assert "実行履歴" in client.get("/", headers={"accept-language": "ja,en;q=0.5"}).text
    page = client.get(f"/runs/{run_id(root, 'tampered')}", params={"lang": "ja"}).text
    assert '<html lang="ja">' in page and "署名を検証できません" in page
    assert "Runs" in client.get("/", headers={"accept-language": "fr"}).text


def test_every_page_answers(world: tuple[TestClient, Path]) -> None:
    client, root = world
    a, b = run_id(root, "ref-1"), run_id(root, "defect")
    for url in ("/trends", f"/trends?target={REFERENCE}", "/flaky", f"/compare?a={a}&b={b}",
                "/differential", f"/differential?run={a}&run={b}", "/certify", "/health"):
        assert client.get(url).status_code == 200, url
    for url in ("/runs/nope", "/compare?a=nope&b=nope", "/jobs/nope", "/runs/nope/archive.zip"):
        assert client.get(url).status_code == 404, url


def test_the_language_switch_keeps_every_chosen_run(world: tuple[TestClient, Path]) -> None:
    client, root = world
    a, b = run_id(root, "ref-1"), run_id(root, "defect")
    page = client.get(f"/differential?run={a}&run={b}").text
    assert f'href="/differential?run={a}&amp;run={b}&amp;lang=ja"' in page


def test_a_certification_starts_only_from_an_offered_target_and_this_site(
        world: tuple[TestClient, Path]) -> None:
    client, _ = world
    assert client.post("/certify", data={"target": "/etc/passwd"}).status_code == 400
    offered = f"{Path('fixtures/vendors/reference-registry.yaml')}"
    assert client.post("/certify", data={"target": offered, "seed": "x"}).status_code == 400
    refused = client.post("/certify", data={"target": offered},
                          headers={"origin": "http://evil.example"})
    assert refused.status_code == 400
    assert client.post("/reindex", headers={"origin": "http://evil.example"}).status_code == 400


def test_reindexing_from_the_page_adds_nothing_twice(world: tuple[TestClient, Path]) -> None:
    client, _ = world
    answer = client.post("/reindex", follow_redirects=True)
    assert "4 in the index" in answer.text and answer.text.count('data-run="') == 4


def test_the_command_teaches_with_an_example_and_refuses_a_missing_folder(
        tmp_path: Path) -> None:
    runner = CliRunner()
    helped = runner.invoke(app, ["ui", "--help"])
    assert helped.exit_code == 0 and "Example" in helped.stdout
    missing = runner.invoke(app, ["ui", "--reports", str(tmp_path / "nowhere"), "--db",
                                  str(tmp_path / "i.sqlite")])
    assert missing.exit_code == 2 and "nowhere: no such folder" in missing.stderr


def test_a_job_streams_its_events_as_server_sent_events(world: tuple[TestClient, Path]) -> None:
    client, root = world
    job = Job("job-1", "t.yaml", root / "jobs" / "job-1")
    job.add({"event": "collected", "total": 2})
    job.add({"event": "test", "nodeid": "a::b", "outcome": "failed", "requirements": []})
    job.end(FINISHED)
    client.app.state.jobs.jobs[job.id] = job  # type: ignore[attr-defined]
    stream = client.get("/jobs/job-1/events")
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert [line for line in stream.text.splitlines() if line.startswith("event:")] == \
        ["event: collected", "event: test", "event: end"]
    resumed = client.get("/jobs/job-1/events", headers={"last-event-id": "1"}).text
    assert resumed.startswith("id: 2\nevent: end\n")
    assert "1 of 2 tests, 1 failed" in client.get("/jobs/job-1").text   # without JavaScript
