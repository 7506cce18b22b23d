"""The practical limit of the server stack: bare Starlette routes under the same uvicorn
settings the simulators use (uvloop, httptools), answering fixed JSON with no authentication
and no state. Run by bench/simulator_throughput.py and bench/loadgen.py.

With ``MESHCERT_BENCH_RELAY=<base URL>`` the inquiry route instead passes each body on to that
server's inquiry route and answers with its answer, through the same outgoing transport as the
mesh (meshcert_simulators.common.http1_transport, called directly as the mesh does): the practical
limit
of one hop, as a mesh inquiry makes.
"""

from __future__ import annotations

import os

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from meshcert_simulators.common.http1_transport import Http1Transport

RESIDENT = {"atena_number": "0633853568", "setai_number": "0308146774",
            "name": {"surname": "山口", "given_name": "和也"}, "status": "resident"}
ANSWER = {"record_id": "r", "status": "09", "route": "realtime",
          "items": [{"item_code": "TM00000000000002", "status": "01", "payload": {}}]}
RELAY = os.environ.get("MESHCERT_BENCH_RELAY", "").rstrip("/")
TIMEOUT = httpx.Timeout(10.0).as_dict()
hop = Http1Transport()


async def resident(request: Request) -> JSONResponse:
    return JSONResponse(RESIDENT)


async def inquiry(request: Request) -> Response:
    body = await request.body()
    if not RELAY:
        return JSONResponse(ANSWER)
    answer = await hop.handle_async_request(httpx.Request(
        "POST", f"{RELAY}/v1/inquiries", content=body,
        headers={"Content-Type": "application/json"}, extensions={"timeout": TIMEOUT}))
    return Response(answer.content, answer.status_code, media_type="application/json")


app = Starlette(routes=[
    Route("/municipalities/{lg}/residents/{atena}", resident),
    Route("/v1/inquiries", inquiry, methods=["POST"]),
])
