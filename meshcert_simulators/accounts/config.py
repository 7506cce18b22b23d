"""Where the account registry finds its peers, from the topology and ``settings.extra``
(environment ``MESHCERT_ACCOUNTS_<KEY>`` when not in extra):

- ``idp``: the provider whose access tokens persons come with (default: the topology's ``idp``
  simulator; issuer = its base URL, keys at ``<issuer>/jwks``), or ``idp_issuer`` with
  ``idp_jwks`` (a JWKS file) for a provider outside the topology. Tokens must name the
  portal's audience (``urn:meshcert:portal``; the simulator's ``audience`` overrides it): the
  registry is reached through the portal's trust, never with a private service's token.
- the person behind a token: the provider's introspection, asked with this simulator's own
  client (:func:`meshcert_simulators.common.registry_client.own_client`), which needs the
  provider roles ``idp:introspect`` and ``idp:person-link`` (the answer then carries the
  ``juminhyo_code``).
- ``person_clients`` (comma-separated): the clients whose persons' tokens are taken — the
  portal and the front services, never a private service, though the provider's tokens all
  name the portal's audience. Default: ``portal`` and the topology's ``front-app`` simulators.
- ``registry`` / ``client``: the resident registry read for the kana name (registry_client).
- ``mesh``: where this registry gets its own 符号 of a person (default: the topology's ``mesh``
  simulator), as the institution whose ``simulator`` is this one (its client's token).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from meshcert_simulators.common.settings import Settings, SettingsError

PORTAL_AUDIENCE = "urn:meshcert:portal"
PERSON_LINK_ROLE = "idp:person-link"


def setting(settings: Settings, key: str) -> str | None:
    return settings.extra.get(key) or os.environ.get(f"MESHCERT_ACCOUNTS_{key.upper()}")


def of_kind(settings: Settings, kind: str) -> str | None:
    return next((n for n, s in settings.topology.simulators.items() if s.kind == kind), None)


@dataclass(frozen=True)
class AccountsConfig:
    issuer: str | None
    jwks_url: str | None
    jwks_file: str | None
    audience: str
    mesh_url: str | None
    institution: str | None          # this registry's institution code at the mesh
    institution_token: str | None    # its client's static token
    person_clients: frozenset[str]   # clients a person's token may be issued to

    @classmethod
    def for_settings(cls, settings: Settings) -> AccountsConfig:
        topology = settings.topology
        idp = setting(settings, "idp") or of_kind(settings, "idp")
        jwks_file = setting(settings, "idp_jwks")
        issuer = setting(settings, "idp_issuer") or (topology.url(idp) if idp else None)
        if jwks_file is not None and issuer is None:
            raise SettingsError("MESHCERT_ACCOUNTS_IDP_JWKS needs MESHCERT_ACCOUNTS_IDP_ISSUER "
                                "(the iss of the provider's tokens)")
        mesh = setting(settings, "mesh") or of_kind(settings, "mesh")
        inst = next((i for i in topology.institutions if i.simulator == settings.name), None)
        client = topology.client(inst.client) if inst else None
        listed = setting(settings, "person_clients")
        person_clients = frozenset(c.strip() for c in listed.split(",") if c.strip()) \
            if listed else frozenset({"portal", *(n for n, s in topology.simulators.items()
                                                  if s.kind == "front-app")})
        return cls(issuer=issuer,
                   jwks_url=None if jwks_file or issuer is None else f"{issuer}/jwks",
                   jwks_file=jwks_file,
                   audience=settings.spec.audience or PORTAL_AUDIENCE,
                   mesh_url=topology.url(mesh) if mesh else None,
                   institution=inst.code if inst else None,
                   institution_token=client.token if client else None,
                   person_clients=person_clients)
