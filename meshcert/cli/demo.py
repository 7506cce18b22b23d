"""``meshcert demo``: a day at a municipality over real HTTP, step by step."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
import typer
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from meshcert.backends import processes
from meshcert.cli.console import (
    RunDirOption,
    TopologyOption,
    UserError,
    check_municipality,
    fail,
    out,
    run_dir_for,
    shown,
    start_simulators,
    topology_or_fail,
)
from meshcert_simulators.common.audit import AuditEntry, verify_chain
from meshcert_simulators.common.topology import Topology

# -- meshcert demo -------------------------------------------------------------------------

JST = timezone(timedelta(hours=9))
# Where the demo's family moves to: a public address in another municipality.
DESTINATIONS = (("271004", "大阪府大阪市北区中之島1-3-20"), ("131016", "東京都千代田区九段南1-2-1"))
SEX = {"0": "不明", "1": "男", "2": "女", "9": "適用不能"}


class DemoFailed(Exception):
    """A call got an answer the demo did not expect; the message quotes the problem."""


@dataclass(frozen=True)
class Caller:
    id: str
    token: str


@dataclass
class Day:
    """One demo run: the API, who calls it, and the step counter."""

    http: httpx.Client
    lg: str
    callers: dict[str, Caller]
    steps: int = 0

    def step(self, title: str) -> None:
        self.steps += 1
        out.print()
        out.print(f"[bold cyan]{self.steps:>2}. {title}[/bold cyan]")

    def say(self, text: str) -> None:
        out.print(f"    {text}")

    def call(self, method: str, path: str, as_: str, *, body: dict[str, Any] | None = None,
             params: dict[str, Any] | None = None, expect: tuple[int, ...] = (200,),
             quiet: bool = False, timeout: float = 30.0) -> dict[str, Any]:
        caller = self.callers[as_]
        response = self.http.request(method, path, json=body, params=params, timeout=timeout,
                                     headers={"Authorization": f"Bearer {caller.token}"})
        query = f"?{urlencode(params)}" if params else ""
        if not quiet:
            ms = response.elapsed.total_seconds() * 1000
            out.print(f"    [dim]{method} {escape(path + query)}  as {caller.id} → "
                      f"{response.status_code} in {ms:.0f} ms[/dim]")
        if response.status_code not in expect:
            try:
                problem = response.json()
                detail = problem.get("detail") or problem.get("title")
            except ValueError:
                detail = response.text[:200]
            raise DemoFailed(f"{method} {path} as {caller.id} answered "
                             f"{response.status_code}: {detail}")
        return response.json()


def _name(record: dict[str, Any]) -> str:
    n = record["name"]
    return escape(f"{n['surname']} {n['given_name']}（{n['surname_kana']} "
                  f"{n['given_name_kana']}）")


def _born(record: dict[str, Any]) -> str:
    birth = record["birth_date"]
    return escape(birth.get("iso") or f"{birth.get('text')} (不詳日)")


def _address(a: dict[str, Any]) -> str:
    text = f"{a['prefecture']}{a['city']}{a['town']}{a.get('banchi') or ''}"
    return escape(f"{text} {a['building']}" if a.get("building") else text)


def _jst(stamp: str) -> str:
    """An ISO timestamp from the API (UTC) as Japan reads it."""
    return datetime.fromisoformat(stamp).astimezone(JST).strftime("%Y-%m-%d %H:%M:%S JST")


def _short_name(record: dict[str, Any]) -> str:
    return escape(f"{record['name']['surname']} {record['name']['given_name']}")


def _masked(number: str) -> str:
    return "•" * (len(number) - 4) + number[-4:]


def _callers(topology: Topology, lg: str) -> dict[str, Caller]:
    """Who plays which part, found by roles in the topology (so any topology will do)."""

    def first(fits: Callable[[set[str]], bool], part: str) -> Caller:
        for client in topology.clients:
            if (not client.municipalities or lg in client.municipalities) and fits(
                    set(client.roles)):
                return Caller(client.id, client.token)
        raise UserError(f"topology {topology.name!r} has no client for {lg} that can act as "
                        f"{part}")

    return {
        "downstream": first(lambda r: "registry:read" in r and "registry:read-mynumber" not in r,
                            "a downstream system (registry:read without registry:read-mynumber)"),
        "tax": first(lambda r: "registry:read-mynumber" in r and "registry:write" not in r,
                     "the tax system (registry:read-mynumber, without registry:write)"),
        "clerk": first(lambda r: {"registry:write", "moveout:process", "audit:read"} <= r,
                       "the clerk (registry:write, moveout:process, audit:read)"),
        "front": first(lambda r: "moveout:submit" in r, "the front service (moveout:submit)"),
        "admin": Caller("admin", topology.admin_token),
    }


def _municipal(topology: Topology) -> tuple[str, str]:
    for name, spec in topology.simulators.items():
        if spec.kind == "municipal" and spec.municipalities:
            return name, spec.municipalities[0]
    raise UserError(f"topology {topology.name!r} has no municipal simulator hosting a "
                    "municipality")


def demo(
    topology: TopologyOption = None,
    run_dir: RunDirOption = None,
    persons: Annotated[int, typer.Option(
        "--persons", "-n", min=2, max=100_000,
        help="Residents to seed into the municipality. Example: --persons 1000")] = 200,
    seed: Annotated[int, typer.Option(
        "--seed", "-s", min=0, help="Population seed (same seed, same residents). "
        "Example: --seed 7")] = 1,
    keep_running: Annotated[bool, typer.Option(
        "--keep-running", help="Leave the simulators running afterwards, to explore the API "
        "yourself. Example: meshcert demo --keep-running")] = False,
    walkthroughs: Annotated[bool, typer.Option(
        "--walkthrough/--no-walkthrough", help="Before the certifications, walk a person "
        "through a login at the reference bank, then a person and a proxy through the online "
        "move-out (their own simulators on free ports, stopped after). Example: "
        "--no-walkthrough")] = True,
    certification: Annotated[bool, typer.Option(
        "--certify/--no-certify", help="End with a certification of each profile's bundled "
        "reference and of one defective registry (a few minutes). Example: --no-certify")
    ] = True,
) -> None:
    """Walk through a day at a municipality over real HTTP, step by step.

    Starts the simulators (reusing healthy running ones), seeds synthetic residents, then acts
    as the systems around a resident registry: a downstream system and the tax system read
    records, the clerk registers a birth and a move, the front service files an online
    move-out, the downstream system pulls the difference feed, and the audit log's hash chain
    is verified. Then a person logs in at the reference bank, and a person and a proxy file the
    online move-out through the reference front service (--no-walkthrough skips these).
    Example: `meshcert demo --persons 500 --keep-running`
    """
    topo, path = topology_or_fail(topology)
    run = run_dir_for(topo, run_dir)
    try:
        sim_name, lg = _municipal(topo)
        callers = _callers(topo, lg)
        town = check_municipality(lg)
    except UserError as exc:
        fail(str(exc))
    today = datetime.now(JST).date()
    out.print(f"[bold]meshcert demo[/bold] — a day at {town} ({lg}) as the systems around its "
              f"resident registry see it. Today in Japan: {today}.")
    day = Day(httpx.Client(base_url=topo.url(sim_name)), lg, callers)
    log = processes.log_file(run, sim_name)
    started: list[str] = []
    reused: list[str] = []
    try:
        day.step("Start the simulated mesh")
        reused = [row.name for row in processes.status(run, topo) if row.healthy]
        to_start = [n for n in topo.simulators if n not in reused]
        launched = start_simulators(path, run, to_start) if to_start else []
        started = [item.name for item in launched if not item.already_running]
        for name in topo.simulators:
            state = "started" if name in started else "already running: reused"
            day.say(f"{name}  {topo.url(name)}  {state}")
        _a_day(day, town, today, persons, seed)
        _where_to_look(topo, sim_name, run, callers, keep_running or not started)
        if walkthroughs:
            _walk_through(day)
        if certification:
            _certify_the_reference()
        if keep_running:
            _print_console()
    except DemoFailed as exc:
        fail(f"the demo stopped: {exc} (the simulator log is {shown(log)})", code=1)
    except httpx.HTTPError as exc:
        fail(f"lost the simulator at {topo.url(sim_name)}: {exc} (see {shown(log)})", code=1)
    finally:
        day.http.close()
        if started and not keep_running:
            processes.down(run, started)
            out.print(f"Stopped the simulators the demo started ({', '.join(started)}); their "
                      "data stays in the run folder. Keep them up with --keep-running.")
        elif reused:
            out.print(f"Left running what was already running ({', '.join(reused)}); stop it "
                      "with `meshcert sim down`.")


def _walk_through(day: Day) -> None:
    """A login at the reference bank, then the online move-out of a person and a proxy
    (meshcert.walkthrough; imported here, as it brings the suites' helpers with it)."""
    from meshcert.walkthrough import WalkFailed, walk_bank_login, walk_online_moveout

    told = _Told(day)
    try:
        walk_bank_login(told)
        walk_online_moveout(told)
    except WalkFailed as exc:
        fail(f"the demo stopped in a walk-through: {exc}", code=1)


class _Told:
    """The walk-throughs' plain text, told as the demo's numbered steps."""

    def __init__(self, day: Day) -> None:
        self.day = day

    def step(self, title: str) -> None:
        self.day.step(escape(title))

    def say(self, text: str) -> None:
        self.day.say(escape(text))


def _a_day(day: Day, town: str, today: date, persons: int, seed: int) -> None:
    lg = day.lg
    base = f"/municipalities/{lg}"
    day.step(f"Seed {persons:,} synthetic residents (as admin)")
    seeded = day.call("POST", "/admin/seed", "admin", timeout=300, body={
        "lg_code": lg, "reset": True, "generate": {"persons": persons, "seed": seed}})
    day.say(f"{seeded['written']:,} records written from seed {seed}; {town} now has "
            f"{seeded['residents']:,} residents. (Earlier demo records were reset; the audit "
            "log is never deleted.)")

    day.step("A downstream system loads the difference feed from the start")
    records: dict[str, dict[str, Any]] = {}
    cursor, pages = 0, 0
    while True:
        page = day.call("GET", f"{base}/changes", "downstream", quiet=pages > 0,
                        params={"after": cursor, "limit": 500})
        pages += 1
        for entry in page["entries"]:
            records[entry["atena_number"]] = entry["record"]
        cursor = page["next_after"]
        if not page["has_more"]:
            break
    day.say(f"{len(records):,} records in {pages} page(s). It keeps the cursor "
            f"[bold]{cursor}[/bold] and from now on asks only for what changed after it.")
    stay, leave = _two_households(records)
    head = stay[0]

    day.step("The downstream system reads a resident — it may not see the My Number")
    seen = day.call("GET", f"{base}/residents/{head['atena_number']}", "downstream")
    day.say(f"{_name(seen)}, born {_born(seen)}, {_address(seen['address'])}")
    day.say(f"宛名番号 {seen['atena_number']}, 世帯番号 {seen['setai_number']}, 住民票コード "
            f"{seen['juminhyo_code']}")
    day.say(f"my_number: [yellow]not in the response[/yellow] — {day.callers['downstream'].id} "
            "lacks the role registry:read-mynumber")

    day.step("The tax system reads the same resident — with the My Number")
    taxed = day.call("GET", f"{base}/residents/{head['atena_number']}", "tax")
    day.say(f"my_number: {_masked(taxed['my_number'])} (masked here) — "
            f"{day.callers['tax'].id} holds registry:read-mynumber, and the audit log records "
            "that it read it")

    setai = head["setai_number"]
    day.step(f"The downstream system reads the household (世帯 {setai})")
    household = day.call("GET", f"{base}/households/{setai}", "downstream")
    table = Table(box=None, padding=(0, 2), pad_edge=False)
    for column in ("宛名番号", "氏名", "続柄", "性別", "生年月日"):
        table.add_column(column)
    for m in household["members"]:
        table.add_row(m["atena_number"], _name(m), m["relationship"]["label"],
                      SEX.get(m["sex"], m["sex"]), _born(m))
    out.print(Padding(table, (0, 0, 0, 4)))
    day.say(f"address {_address(household['address'])}")

    tag = uuid.uuid4().hex[:8]
    born = today - timedelta(days=3)
    day.step("The clerk registers a birth (出生) into that household")
    names = head["name"]
    result = day.call("POST", f"{base}/movements", "clerk", expect=(201,), body={"movement": {
        "kind": "birth", "event_id": f"demo-birth-{tag}", "event_date": born.isoformat(),
        "notified_date": today.isoformat(), "setai_number": setai,
        "person": {"name": {"surname": names["surname"], "given_name": "陽葵",
                            "surname_kana": names["surname_kana"], "given_name_kana": "ヒマリ"},
                   "sex": "2", "birth_date": {"iso": born.isoformat()}, "relationship": "20"}}})
    child = result["affected"][0]
    day.say(f"{_name(child)}, born {born}, notified {today}: 宛名番号 {child['atena_number']}, "
            f"続柄 {child['relationship']['label']}, a new My Number issued "
            f"({_masked(child['my_number'])})")

    day.step("The household moves within the city (転居)")
    new_address = _new_address(records, head)
    result = day.call("POST", f"{base}/movements", "clerk", expect=(201,), body={"movement": {
        "kind": "move-within", "event_id": f"demo-move-{tag}",
        "event_date": (today - timedelta(days=1)).isoformat(),
        "notified_date": today.isoformat(), "setai_number": setai, "address": new_address}})
    day.say(f"{len(result['affected'])} members now live at {_address(new_address)} "
            f"(was {_address(head['address'])})")

    applicant, companions = leave[0], leave[1:]
    moving = today + timedelta(days=7)
    dest_lg, dest_address = next(d for d in DESTINATIONS if d[0] != lg)
    app_id = f"demo-{today:%Y%m%d}-{tag}"
    day.step("The front service files an online move-out (転出届) for another family")
    notice = {
        "application_id": app_id, "moving_date": moving.isoformat(),
        "applicant": {"juminhyo_code": applicant["juminhyo_code"],
                      "surname": applicant["name"]["surname"],
                      "given_name": applicant["name"]["given_name"],
                      "birth_date": applicant["birth_date"]["iso"]},
        "destination": {"lg_code": dest_lg, "address": dest_address},
        "companions": [m["juminhyo_code"] for m in companions]}
    state = day.call("POST", f"{base}/moveout-notifications", "front", body=notice,
                     expect=(202,))
    day.say(f"{_name(applicant)} and {len(companions)} companion(s) move on {moving} to "
            f"{escape(dest_address)}: application {app_id} is [bold]{state['status']}[/bold]")
    day.say(f"(online filing is open from {moving - timedelta(days=30)} to "
            f"{moving + timedelta(days=10)}; today is inside)")
    again = day.call("POST", f"{base}/moveout-notifications", "front", body=notice,
                     expect=(200,))
    day.say(f"Resent as after a timeout: 200 with the same application ({again['status']}, "
            f"received {_jst(again['received_at'])}) — no second application")

    day.step("The clerk processes it: 受付 → 処理中 → 完了")
    for status in ("処理中", "完了"):
        state = day.call("POST", f"{base}/moveout-notifications/{app_id}/transitions", "clerk",
                         body={"status": status})
        day.say(f"now [bold]{state['status']}[/bold]")
    gone = day.call("GET", f"{base}/residents/{applicant['atena_number']}", "downstream")
    departure = gone.get("departure") or {}
    day.say(f"{_name(gone)}: status {gone['status']}, departed {departure.get('departed_on')} "
            f"for {escape(str(departure.get('destination')))}")

    day.step("The downstream system pulls the differences since its cursor")
    changes: list[dict[str, Any]] = []
    while True:
        page = day.call("GET", f"{base}/changes", "downstream",
                        params={"after": cursor, "limit": 5})
        changes += page["entries"]
        cursor = page["next_after"]
        if not page["has_more"]:
            break
    table = Table(box=None, padding=(0, 2), pad_edge=False)
    for column in ("seq", "change", "宛名番号", "氏名", "status", "event"):
        table.add_column(column, no_wrap=True)
    for entry in changes:
        record = entry["record"]
        table.add_row(str(entry["seq"]), entry["change_type"], entry["atena_number"],
                      _short_name(record), record["status"], entry["event_id"] or "—")
    out.print(Padding(table, (0, 0, 0, 4)))
    day.say(f"{len(changes)} changes in pages of 5; the new cursor is {cursor}. Each entry is "
            "the full record as it now stands, without the My Number for this caller.")

    day.step("The audit log: export it and verify its hash chain")
    entries: list[dict[str, Any]] = []
    after = 0
    while True:
        page = day.call("GET", f"{base}/audit-log", "clerk", quiet=after > 0,
                        params={"after": after, "limit": 1000})
        entries += page["entries"]
        after = page["next_after"]
        if not page["has_more"]:
            break
    check = day.call("GET", f"{base}/audit-log/verification", "clerk")
    mine = [e for e in entries if e["mynumber_accessed"]][-5:]
    day.say(f"{len(entries):,} entries. The latest My Number accesses:")
    for e in mine:
        day.say(f"  seq {e['seq']}  {_jst(e['at'])}  {e['operator']}  {e['action']} "
                f"{e['target']}")
    local = verify_chain([AuditEntry(**e) for e in entries])
    verdict = "[green]valid[/green]" if check["valid"] else f"[red]broken: {check['reason']}[/red]"
    day.say(f"The simulator's verification: {verdict} over {check['entries']:,} entries, "
            f"head hash {check['head_hash'][:16]}…")
    same = local.valid and local.head_hash == check["head_hash"]
    day.say("Recomputed here from the export: " + (
        "[green]valid, same head hash[/green]" if same
        else f"[red]does not match ({local.reason or 'different head hash'})[/red]"))


def _two_households(records: dict[str, dict[str, Any]]
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two households of current residents, each listed head first, whose head has a known
    birth date (the move-out applicant is checked by name and birth date)."""
    households: dict[str, list[dict[str, Any]]] = {}
    for record in records.values():
        if record["status"] == "resident":
            households.setdefault(record["setai_number"], []).append(record)
    usable = []
    for members in households.values():
        members.sort(key=lambda m: (m["relationship"]["code"] != "02", m["atena_number"]))
        if members[0]["relationship"]["code"] == "02" and members[0]["birth_date"].get("iso"):
            usable.append(members)
    # Families of two to five read best; any household will do otherwise.
    usable.sort(key=lambda ms: (not 2 <= len(ms) <= 5, ms[0]["setai_number"]))
    if len(usable) < 2:
        raise DemoFailed("the seeded population has fewer than two usable households; "
                         "try more --persons")
    return usable[0], usable[1]


def _new_address(records: dict[str, dict[str, Any]], head: dict[str, Any]) -> dict[str, Any]:
    """A real-looking address elsewhere in the same municipality: another resident's town."""
    here = head["address"]
    town = next((r["address"] for r in records.values()
                 if r["address"]["town"] != here["town"]), here)
    moved = {k: v for k, v in town.items() if k != "building"}
    moved["banchi"] = "3-7" if town.get("banchi") != "3-7" else "4-2"
    return moved


def _where_to_look(topology: Topology, sim_name: str, run: Path, callers: dict[str, Caller],
                   running: bool) -> None:
    url = topology.url(sim_name)
    out.print()
    out.print("[bold]Where to look[/bold]")
    out.print(f"    API        {url}  (GET /health, GET /openapi.json)"
              + ("" if running else "  — while the simulators run"))
    out.print(f"    Access log {shown(processes.log_file(run, sim_name))}  (one JSON line per "
              "request, with its x-request-id)")
    out.print(f"    Run folder {shown(run)}  (pid files, logs; SQLite data in data/)")
    token = callers["downstream"].token
    lg = topology.simulators[sim_name].municipalities[0]
    out.print(f"    Try it     curl -H 'Authorization: Bearer {token}' "
              f"'{url}/municipalities/{lg}/changes?limit=2'")
    if not running:
        out.print("               (after `meshcert sim up` or `meshcert demo --keep-running`)")


# The variant the demo certifies to show a failure: a registry that hands everyone the
# My Number is the kind of defect a vendor must never ship.
DEMO_DEFECT = "mynumber-to-everyone"


def _print_console() -> None:
    """The web console over the runs above, left running (`meshcert ui` in the background)."""
    from meshcert.console.background import start_in_background
    from meshcert.errors import ConfigError

    try:
        url = start_in_background()
    except ConfigError as exc:
        out.print(f"\n[bold]Console[/bold]  not started: {escape(str(exc))}", soft_wrap=True)
        return
    out.print(f"\n[bold]Console[/bold]  {url}  (runs, trends, flaky requirements, differential, "
              "certify from the browser; stop it: kill $(cat .meshcert/console.pid))",
              soft_wrap=True)


def _certify_the_reference() -> None:
    """Certify the bundled reference of every profile (the resident registry, the mesh
    inquirer, the information provider), then the registry with one defect."""
    from meshcert.catalog.requirements import load_catalog
    from meshcert.certify.run import certify
    from meshcert.certify.selftest import profiles_with_reference, reference_target
    from meshcert.cli.certify import ProgressDisplay, print_summary
    from meshcert.errors import ConfigError, HarnessError

    catalog = load_catalog()
    runs: list[tuple[str, str | None, str]] = [
        (profile, None, f"the bundled reference {catalog.profiles[profile].title.en.lower()}, "
                        "as shipped") for profile in profiles_with_reference(catalog)]
    runs.append(("resident-registry", DEMO_DEFECT, f"the reference registry with the defect "
                 f"{DEMO_DEFECT!r} (the My Number served to every caller)"))
    reports = []
    for profile, defect, what in runs:
        target = reference_target(profile)
        out.print(f"\n[bold]Certify {what}[/bold]\n    meshcert certify --target "
                  f"{shown(target)}" + (f" --defect {defect}" if defect else ""), soft_wrap=True)
        try:
            with ProgressDisplay() as display:
                result = certify(target, defect=defect, progress=display.on_event)
        except (ConfigError, HarnessError) as exc:
            raise DemoFailed(f"the certification could not run: {exc}") from None
        print_summary(result)
        reports.append(result)
    out.print("\n[bold]The reports[/bold]")
    for result in reports:
        verdict = "certified" if result.certified else "not certified"
        out.print(f"    {verdict:14} {shown(result.index)}", soft_wrap=True)
    out.print("    Open them in a browser (they are self-contained); check a report's signature "
              f"with `meshcert verify {shown(reports[0].report_dir)}`.", soft_wrap=True)
