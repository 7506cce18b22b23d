"""Negative controls: named defects applied to a reference simulator from outside its code.

A conformance test that cannot fail certifies nothing. Each MUST requirement of the catalog
names a defect; ``meshcert selftest`` runs the reference with each defect and checks that the
requirement's tests fail (and nothing unrelated does).

A defect never adds an ``if`` to the reference code. It is one of:

- ``adjust`` — changes the settings the simulator is built from (e.g. serve without TLS);
- ``patch`` — replaces an object the app holds on ``app.state`` with an overriding subclass
  (e.g. a token verifier that skips the audience check, a registry that mis-numbers);
- ``wrap`` — wraps the finished ASGI app in a middleware that alters traffic (e.g. rewrites
  problem+json into HTML).

Modules in this package register defects with :func:`defect`; :func:`get` finds one by id.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from meshcert_simulators.common.settings import Settings

Adjust = Callable[[Settings], Settings]
Patch = Callable[[Any], None]          # receives the FastAPI app
Wrap = Callable[[Any], Any]            # receives an ASGI app, returns one


@dataclass(frozen=True)
class Defect:
    id: str
    kinds: tuple[str, ...]  # the simulator kinds it applies to, e.g. ("municipal",)
    requirement: str        # the catalog requirement it must trip
    description: str
    adjust: Adjust | None = None
    patch: Patch | None = None
    wrap: Wrap | None = None

    def applies_to(self, kind: str) -> bool:
        return kind in self.kinds

    def settings(self, settings: Settings) -> Settings:
        return self.adjust(settings) if self.adjust else settings

    def apply(self, app: Any) -> Any:
        """Patch the app, then wrap it; returns what the server should run."""
        if self.patch:
            self.patch(app)
        return self.wrap(app) if self.wrap else app


_REGISTRY: dict[str, Defect] = {}


def defect(id: str, kind: str | tuple[str, ...], requirement: str, description: str, *,
           adjust: Adjust | None = None, patch: Patch | None = None,
           wrap: Wrap | None = None) -> Defect:
    """Register a defect (called at import time by the modules of this package) for one
    simulator kind, or several that share the parts it alters (e.g. ``("tax", "service")``)."""
    if id in _REGISTRY:
        raise ValueError(f"defect {id!r} is registered twice")
    if not (adjust or patch or wrap):
        raise ValueError(f"defect {id!r} changes nothing: give adjust, patch or wrap")
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    if not kinds:
        raise ValueError(f"defect {id!r} applies to no simulator kind")
    found = Defect(id, kinds, requirement, description, adjust, patch, wrap)
    _REGISTRY[id] = found
    return found


def _load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def all_defects() -> dict[str, Defect]:
    _load_all()
    return dict(_REGISTRY)


def get(defect_id: str) -> Defect:
    defects = all_defects()
    try:
        return defects[defect_id]
    except KeyError:
        known = ", ".join(sorted(defects)) or "none"
        raise ValueError(f"no defect {defect_id!r}; known: {known}") from None
