"""The registry's answers: JSON validated against the documented response model first (so the
simulator never answers outside its own contract), with the small bodies remembered."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from meshcert_simulators.common.http import json_text


class ValidatedBodies:
    """What :func:`meshcert_simulators.common.http.validated_response` computes, remembered: the
    body a response model gives for the exact JSON text of some content (validation and
    serialisation depend on nothing else). A bounded LRU of small bodies (a resident record, not
    a feed page); content that fails validation raises every time and is never remembered."""

    def __init__(self, size: int = 4096, max_bytes: int = 8192) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[tuple[type[BaseModel], bytes], str] = OrderedDict()
        self._lock = threading.Lock()

    def body(self, model: type[BaseModel], content: dict[str, Any]) -> str:
        text = json_text(content)
        key = (model, text)
        with self._lock:
            found = self._bodies.get(key)
            if found is not None:
                self._bodies.move_to_end(key)
                return found
        # Fields a record does not have (a My Number the caller may not see) are left out.
        body = model.model_validate_json(text).model_dump_json(exclude_unset=True)
        if len(text) <= self.max_bytes:
            with self._lock:
                self._bodies[key] = body
                while len(self._bodies) > self.size:
                    self._bodies.popitem(last=False)
        return body


_VALIDATED = ValidatedBodies()


def json_response(model: type[BaseModel], content: dict[str, Any], status: int = 200
                  ) -> Response:
    """``content`` as JSON, validated against the documented response ``model`` first (as
    validated_response, remembered)."""
    return Response(_VALIDATED.body(model, content), status, media_type="application/json")
