"""The console's web application (Starlette + Jinja2 templates in templates/): every page is
complete HTML made on the server, so reading needs no JavaScript; the one script is the live
progress of a certification started here (server-sent events), which degrades to reloading.

Routes::

    GET  /                         runs, filtered by ?target=&profile=&catalog=&verdict=&kind=
                                   &since=&until=
    POST /reindex                  index the report folders again
    GET  /runs/{id}                a run: verdicts, signature, links
    GET  /runs/{id}/report/{path}  the report's own files (index.html, evidence/, ...)
    GET  /runs/{id}/archive.zip    the report folder as a zip that ``meshcert verify`` accepts
    GET  /trends?target=           verdict grid, first failing run, flaky, latency over time
    GET  /flaky                    flaky requirements of every target
    GET  /compare?a=&b=            two runs: verdicts, exchanges, timings that changed
    GET  /differential?run=...     disagreements between systems on the same requests
    GET  /certify, POST /certify   choose a target file and start a certification
    GET  /jobs/{id}                its progress; /jobs/{id}/events the same as SSE
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from meshcert.console import charts, queries
from meshcert.console.archive import zip_report
from meshcert.console.exchanges import RULE
from meshcert.console.index import connect, index_runs, short_id
from meshcert.console.jobs import Job, Jobs
from meshcert.console.messages import pick_language, translator
from meshcert.reports.charts import STYLE as CHART_STYLE
from meshcert.reports.content import shown

TEMPLATES = Path(__file__).parent / "templates"
# A report page is self-contained (inline style and one inline script, no network).
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
              "img-src data:; base-uri 'none'; form-action 'none'")


@dataclass
class Settings:
    db: Path                                   # the SQLite index
    roots: list[Path]                          # report folders to index
    out_dir: Path                              # where certifications started here write
    target_dirs: list[Path] = field(default_factory=list)  # where target files are offered


def target_files(settings: Settings) -> list[Path]:
    """The target files offered for certification (*.yaml of the target folders)."""
    found: list[Path] = []
    for folder in settings.target_dirs:
        found += sorted(p for p in Path(folder).glob("*.yaml") if p.is_file())
    return found


def create_app(settings: Settings) -> Starlette:
    def indexed(job: Job) -> None:
        index_runs(settings.db, [job.out_dir])
        job.add({"event": "indexed", "run": short_id(job.out_dir)})

    jobs = Jobs(settings.out_dir, indexed)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.globals["chart_style"] = CHART_STYLE

    def context(request: Request) -> dict[str, Any]:
        lang = pick_language(request.query_params.get("lang"),
                             request.headers.get("accept-language"))

        def u(path: str, **params: Any) -> str:
            items = [(k, v) for k, v in params.items() if v not in (None, "")]
            if lang != "en" or "lang" in request.query_params:
                items.append(("lang", lang))
            flat = [(k, x) for k, v in items for x in (v if isinstance(v, list) else [v])]
            return path + (f"?{urlencode(flat)}" if flat else "")

        other = "ja" if lang == "en" else "en"
        switch = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        switch.append(("lang", other))
        return {"lang": lang, "t": translator(lang), "u": u, "path": request.url.path,
                "switch_url": f"{request.url.path}?{urlencode(switch)}"}

    templates = Jinja2Templates(env=env, context_processors=[context])

    def page(request: Request, name: str, status: int = 200, **values: Any) -> Response:
        return templates.TemplateResponse(request, name, values, status_code=status)

    def not_found(request: Request, what: str) -> Response:
        return page(request, "error.html.j2", 404, message=what, heading="error.not_found")

    def bad_request(request: Request, what: str) -> Response:
        return page(request, "error.html.j2", 400, message=what, heading="error.bad_request")

    def same_origin(request: Request) -> bool:
        """A form post from a page of this console (not another site the browser has open)."""
        origin = request.headers.get("origin")
        return origin is None or urlsplit(origin).netloc == request.headers.get("host")

    async def runs(request: Request) -> Response:
        filters = {k: request.query_params.get(k, "") for k in (*queries.FILTERS, "since",
                                                                 "until")}
        with connect(settings.db) as conn:
            rows = queries.list_runs(conn, filters)
            choices = queries.facets(conn)
        return page(request, "runs.html.j2", runs=rows, filters=filters, choices=choices,
                    indexed=request.query_params.get("indexed"))

    async def reindex(request: Request) -> Response:
        if not same_origin(request):
            return bad_request(request, "cross-site request refused")
        result = await asyncio.to_thread(index_runs, settings.db, settings.roots)
        lang = request.query_params.get("lang")
        query = urlencode({"indexed": f"{result.added}/{result.total}",
                           **({"lang": lang} if lang else {})})
        return RedirectResponse(f"/?{query}", status_code=303)

    async def run_page(request: Request) -> Response:
        with connect(settings.db) as conn:
            row = queries.run(conn, request.path_params["id"])
            if row is None:
                return not_found(request, request.path_params["id"])
            rows = queries.verdicts(conn, row["id"])
            others = queries.list_runs(conn, {"profile": row["profile"] or "",
                                              "kind": "certification"}) \
                if row["kind"] == "certification" else []
        report = next((n for n in ("index.html", "load.html", "selftest.json")
                       if (Path(row["folder"]) / n).is_file()), None)
        return page(request, "run.html.j2", run=row, verdicts=rows, report=report,
                    others=[o for o in others if o["id"] != row["id"]])

    async def report_file(request: Request) -> Response:
        with connect(settings.db) as conn:
            row = queries.run(conn, request.path_params["id"])
        if row is None:
            return not_found(request, request.path_params["id"])
        folder = Path(row["folder"]).resolve()
        wanted = (folder / request.path_params["path"]).resolve()
        if not wanted.is_relative_to(folder) or not wanted.is_file():
            return not_found(request, request.path_params["path"])
        kind = mimetypes.guess_type(wanted.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind == "application/json":
            kind += "; charset=utf-8"
        return FileResponse(wanted, media_type=kind, headers={
            "Content-Security-Policy": REPORT_CSP, "X-Content-Type-Options": "nosniff"})

    async def archive(request: Request) -> Response:
        with connect(settings.db) as conn:
            row = queries.run(conn, request.path_params["id"])
        if row is None:
            return not_found(request, request.path_params["id"])
        folder = Path(row["folder"])
        data = await asyncio.to_thread(zip_report, folder)
        return Response(data, media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="{folder.name}.zip"'})

    async def trends(request: Request) -> Response:
        target = request.query_params.get("target", "")
        with connect(settings.db) as conn:
            systems = queries.systems(conn)
            trend = queries.trend(conn, target) if target else None
            flaky = queries.flaky(conn, target) if target else []
            latency = queries.latency_series(conn, target) if target else []
        t = translator(pick_language(request.query_params.get("lang"),
                                     request.headers.get("accept-language")))
        grid = latency_svgs = None
        if trend and trend.runs:
            ids = [r["id"] for r in trend.runs]
            grid = charts.verdict_grid(trend.requirements, ids, trend.cells,
                                       t("trends.grid", n=len(ids)))
            latency_svgs = [(entry, charts.latency_chart(
                entry, f"{entry['requirement']} · {entry['test'].split('::')[-1]}",
                t("trends.run_number"))) for entry in latency]
        return page(request, "trends.html.j2", systems=systems, target=target, trend=trend,
                    grid=grid, flaky=flaky, latency=latency_svgs or [])

    async def flaky_page(request: Request) -> Response:
        with connect(settings.db) as conn:
            rows = queries.flaky(conn)
        return page(request, "flaky.html.j2", flaky=rows)

    async def compare(request: Request) -> Response:
        a, b = request.query_params.get("a", ""), request.query_params.get("b", "")
        with connect(settings.db) as conn:
            ra, rb = queries.run(conn, a), queries.run(conn, b)
            if ra is None or rb is None:
                return not_found(request, a if ra is None else b)
            result = queries.compare(conn, ra, rb)
        return page(request, "compare.html.j2", c=result)

    async def differential(request: Request) -> Response:
        chosen = request.query_params.getlist("run")
        lang = pick_language(request.query_params.get("lang"),
                             request.headers.get("accept-language"))
        with connect(settings.db) as conn:
            groups = queries.differential_candidates(conn)
            rows = {g_id: queries.run(conn, g_id) for g in groups for g_id in g["ids"]}
            picked = [r for r in (queries.run(conn, c) for c in chosen) if r is not None]
            result = queries.differential(conn, picked) if picked else None
        return page(request, "differential.html.j2", groups=groups, rows=rows, chosen=chosen,
                    d=result, rule=RULE[lang])

    def offered() -> list[tuple[Path, str]]:
        return [(p, shown(p)) for p in target_files(settings)]

    async def certify_form(request: Request) -> Response:
        return page(request, "certify.html.j2", targets=offered(), busy=jobs.busy(),
                    jobs=list(jobs.jobs.values())[::-1], error=None)

    async def certify_start(request: Request) -> Response:
        if not same_origin(request):
            return bad_request(request, "cross-site request refused")
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        offered = {str(p): p for p in target_files(settings)}
        target = offered.get((form.get("target") or [""])[0])
        seed_text = (form.get("seed") or [""])[0].strip()
        if target is None:
            return bad_request(request, "choose one of the target files offered")
        if seed_text and not seed_text.isdigit():
            return bad_request(request, f"seed {seed_text!r}: give a whole number ≥ 0")
        job = jobs.start(target, int(seed_text) if seed_text else None)
        if job is None:
            return page(request, "certify.html.j2", 409, targets=offered(), busy=True,
                        jobs=list(jobs.jobs.values())[::-1], error="busy")
        lang = request.query_params.get("lang")
        return RedirectResponse(f"/jobs/{job.id}" + (f"?lang={lang}" if lang else ""),
                                status_code=303)

    async def job_page(request: Request) -> Response:
        job = jobs.jobs.get(request.path_params["id"])
        if job is None:
            return not_found(request, request.path_params["id"])
        return page(request, "job.html.j2", job=job)

    async def job_events(request: Request) -> Response:
        job = jobs.jobs.get(request.path_params["id"])
        if job is None:
            return JSONResponse({"error": "no such job"}, status_code=404)
        last = request.headers.get("last-event-id", "")
        start = int(last) + 1 if last.isdigit() else 0

        async def stream() -> AsyncIterator[str]:
            sent = start
            while True:
                events = job.events[sent:]
                for event in events:
                    yield (f"id: {sent}\nevent: {event.get('event', 'message')}\n"
                           f"data: {json.dumps(event, ensure_ascii=False)}\n\n")
                    sent += 1
                if events and events[-1].get("event") == "end":
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.2)
        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(index_runs, settings.db, settings.roots)
        try:
            yield
        finally:
            jobs.stop_all()

    app = Starlette(routes=[
        Route("/", runs), Route("/reindex", reindex, methods=["POST"]),
        Route("/runs/{id}", run_page), Route("/runs/{id}/report/{path:path}", report_file),
        Route("/runs/{id}/archive.zip", archive), Route("/trends", trends),
        Route("/flaky", flaky_page), Route("/compare", compare),
        Route("/differential", differential), Route("/certify", certify_form),
        Route("/certify", certify_start, methods=["POST"]), Route("/jobs/{id}", job_page),
        Route("/jobs/{id}/events", job_events), Route("/health", health),
    ], lifespan=lifespan)
    app.state.jobs = jobs
    return app
