"""What is filed with the registry: movement events (異動) from a clerk's system, and online
move-out notifications (転出届) from a front service with their processing."""

from __future__ import annotations

from typing import Any

from meshcert_simulators.municipal import moveout
from meshcert_simulators.municipal.models import MovementRequest, MoveoutNotification
from meshcert_simulators.municipal.movements import apply_movement
from meshcert_simulators.municipal.registry import Actor


class Movements:
    """Applies movement events, idempotent by event id. The ``registry`` is read from the app's
    state at the time of each event, so a negative control or a test can replace it."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def apply(self, lg_code: str, request: MovementRequest, raw: bytes, actor: Actor
              ) -> tuple[dict[str, Any], bool]:
        """Apply one event (``raw``: its body as sent); returns (result, created)."""
        return apply_movement(self.state.registry, lg_code, request, raw, actor)


class Moveouts:
    """Receives move-out notifications and advances their processing. The ``registry`` and the
    ``moveout_rules`` are read from the app's state at the time of use, so a negative control
    can replace either."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def receive(self, lg_code: str, notice: MoveoutNotification, raw: bytes, actor: Actor
                ) -> tuple[dict[str, Any], bool]:
        """Accept a notification, idempotent by application id; returns (state, created)."""
        return moveout.receive(self.state.registry, lg_code, notice, raw, actor,
                               self.state.moveout_rules)

    def status(self, lg_code: str, application_id: str) -> dict[str, Any]:
        return moveout.status(self.state.registry, lg_code, application_id)

    def advance(self, lg_code: str, application_id: str, to: str, actor: Actor
                ) -> dict[str, Any]:
        """One step on (受付 → 処理中 → 完了); 完了 removes the records."""
        return moveout.advance(self.state.registry, lg_code, application_id, to, actor,
                               self.state.moveout_rules)
