"""Request ids travel end to end, so one exchange can be traced across the mesh."""

from __future__ import annotations

import pytest

from meshcert.checks import ensure_request_id_echoed, ensure_request_id_present


@pytest.mark.requirement("ERR-REQID-001")
def test_request_id_is_echoed(api, lg, population):
    atena = population[0]["atena_number"]
    response = api.get(f"/municipalities/{lg}/residents/{atena}",
                       headers={"X-Request-ID": "meshcert-trace-0001"})
    assert response.status_code == 200, response.text
    ensure_request_id_echoed(response, "meshcert-trace-0001")


@pytest.mark.requirement("ERR-REQID-001")
def test_a_request_id_is_made_when_absent(api):
    response = api.get("/health")
    ensure_request_id_present(response)
