"""The one base of the simulators' wire models: strict (no coercion of a string into a number)
and closed (an unknown field is a 422, not silently dropped), as every contract of the mesh is."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """A request or response body of a simulator's API."""

    model_config = ConfigDict(extra="forbid", strict=True)
