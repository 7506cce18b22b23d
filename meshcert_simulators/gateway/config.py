"""Where the gateway finds its peers, and its limits, from the topology and ``settings.extra``
(environment ``MESHCERT_GATEWAY_<KEY>`` when not in extra):

- ``idp``: the provider whose access tokens it takes (default: the topology's ``idp``
  simulator); its issuer is the provider's base URL and its keys ``<issuer>/jwks``. Or
  ``idp_issuer`` with ``idp_jwks`` (a JWKS file) for a provider outside the topology.
- ``jpki``: the CA that checks consent signatures (default: the topology's ``jpki``).
- ``registry`` / ``registry_client``: meshcert_simulators.common.registry_client.
- ``consent_days`` (default 365): how long a consent lasts; ``rate_limit_per_s`` (default 10):
  the limit of a client registered without one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from meshcert_simulators.common.settings import Settings, SettingsError

GATEWAY_AUDIENCE = "urn:meshcert:gateway"
DEFAULT_CONSENT_DAYS = 365
DEFAULT_RATE_LIMIT = 10


def setting(settings: Settings, key: str) -> str | None:
    return settings.extra.get(key) or os.environ.get(f"MESHCERT_GATEWAY_{key.upper()}")


def _whole(settings: Settings, key: str, default: int) -> int:
    raw = setting(settings, key) or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"MESHCERT_GATEWAY_{key.upper()} must be a whole number >= 1, "
                            f"not {raw!r}")
    return int(raw)


def _of_kind(settings: Settings, kind: str) -> str | None:
    return next((n for n, s in settings.topology.simulators.items() if s.kind == kind), None)


@dataclass(frozen=True)
class GatewayConfig:
    issuer: str | None
    jwks_url: str | None
    jwks_file: str | None
    jpki_url: str | None
    audience: str
    consent_lifetime: timedelta
    default_rate_limit: int

    @classmethod
    def for_settings(cls, settings: Settings) -> GatewayConfig:
        topology = settings.topology
        idp = setting(settings, "idp") or _of_kind(settings, "idp")
        jwks_file = setting(settings, "idp_jwks")
        issuer = setting(settings, "idp_issuer")
        if issuer is None and idp is not None:
            issuer = topology.url(idp)
        if jwks_file is not None and issuer is None:
            raise SettingsError("MESHCERT_GATEWAY_IDP_JWKS needs MESHCERT_GATEWAY_IDP_ISSUER "
                                "(the iss of the provider's tokens)")
        jpki = setting(settings, "jpki") or _of_kind(settings, "jpki")
        return cls(issuer=issuer,
                   jwks_url=None if jwks_file or issuer is None else f"{issuer}/jwks",
                   jwks_file=jwks_file,
                   jpki_url=topology.url(jpki) if jpki else None,
                   audience=settings.spec.audience or GATEWAY_AUDIENCE,
                   consent_lifetime=timedelta(days=_whole(settings, "consent_days",
                                                          DEFAULT_CONSENT_DAYS)),
                   default_rate_limit=_whole(settings, "rate_limit_per_s", DEFAULT_RATE_LIMIT))
