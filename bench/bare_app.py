"""The practical limit of the server stack: bare Starlette routes under the same uvicorn
settings the simulators use (uvloop, httptools), answering fixed JSON with no authentication
and no state. Run by bench/simulator_throughput.py and bench/loadgen.py."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

RESIDENT = {"atena_number": "0633853568", "setai_number": "0308146774",
            "name": {"surname": "山口", "given_name": "和也"}, "status": "resident"}
ANSWER = {"record_id": "r", "status": "09", "route": "realtime",
          "items": [{"item_code": "TM00000000000002", "status": "01", "payload": {}}]}


async def resident(request: Request) -> JSONResponse:
    return JSONResponse(RESIDENT)


async def inquiry(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse(ANSWER)


app = Starlette(routes=[
    Route("/municipalities/{lg}/residents/{atena}", resident),
    Route("/v1/inquiries", inquiry, methods=["POST"]),
])
