"""What every part of the portal works with: its configuration, store, peers and clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from meshcert_simulators.portal.config import PortalConfig
from meshcert_simulators.portal.peers import Peers
from meshcert_simulators.portal.store import PortalStore


@dataclass(frozen=True)
class Portal:
    config: PortalConfig
    store: PortalStore
    peers: Peers
    clock: Callable[[], datetime]
