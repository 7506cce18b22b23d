"""Where the portal finds its peers, from the topology and ``settings.extra`` (environment
``MESHCERT_PORTAL_<KEY>`` when not in extra):

- ``client``: the portal's own credential (default: the client named like the simulator, else
  the first non-admin static-token client with ``registry:read``). It reads the registries,
  files move-outs there (``moveout:submit``), asks the idp who a token is about
  (``idp:introspect`` + ``idp:person-link``) and reads the gateway's records (``gateway:audit``).
- ``idp``: the provider whose access tokens persons bring (default: the topology's ``idp``);
  or ``idp_issuer`` with ``idp_jwks`` (a JWKS file) for one outside the topology.
- ``institution``: the portal's institution code at the mesh (default: the institution whose
  client is the portal's credential); ``accounts``: the account registry (default: the
  topology's ``accounts`` simulator, if any), or ``accounts_url`` for one outside it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from meshcert_simulators.common.registry_client import RegistryAccess, own_client
from meshcert_simulators.common.settings import Settings, SettingsError
from meshcert_simulators.common.topology import Client

PORTAL_AUDIENCE = "urn:meshcert:portal"


def setting(settings: Settings, key: str) -> str | None:
    return settings.extra.get(key) or os.environ.get(f"MESHCERT_PORTAL_{key.upper()}")


def _of_kind(settings: Settings, kind: str) -> list[str]:
    return [n for n, s in settings.topology.simulators.items() if s.kind == kind]


@dataclass(frozen=True)
class MeshAccess:
    url: str
    token: str
    institution: str


@dataclass(frozen=True)
class PortalConfig:
    issuer: str | None
    jwks_url: str | None
    jwks_file: str | None
    audience: str
    credential: Client | None
    registries: tuple[RegistryAccess, ...]
    mesh: MeshAccess | None
    gateway_url: str | None
    accounts_url: str | None
    admin_token: str = ""  # the harness's credential (control plane: advancing at a registry)

    @classmethod
    def for_settings(cls, settings: Settings) -> PortalConfig:
        topology = settings.topology
        extra = {k: v for k in ("client",) if (v := setting(settings, k))}
        credential = own_client(Settings(settings.name, topology, settings.data_dir,
                                         extra=extra) if extra else settings)
        idp = setting(settings, "idp") or next(iter(_of_kind(settings, "idp")), None)
        issuer = setting(settings, "idp_issuer") or (topology.url(idp) if idp else None)
        jwks_file = setting(settings, "idp_jwks")
        if jwks_file is not None and setting(settings, "idp_issuer") is None:
            raise SettingsError("MESHCERT_PORTAL_IDP_JWKS needs MESHCERT_PORTAL_IDP_ISSUER")
        gateway = next(iter(_of_kind(settings, "gateway")), None)
        accounts = setting(settings, "accounts") or next(iter(_of_kind(settings, "accounts")),
                                                         None)
        return cls(issuer=issuer,
                   jwks_url=None if jwks_file or issuer is None else f"{issuer}/jwks",
                   jwks_file=jwks_file,
                   audience=settings.spec.audience or PORTAL_AUDIENCE,
                   credential=credential,
                   registries=_registries(settings, credential),
                   mesh=_mesh(settings, credential),
                   gateway_url=topology.url(gateway) if gateway else None,
                   accounts_url=setting(settings, "accounts_url")
                   or (topology.url(accounts) if accounts else None),
                   admin_token=topology.admin_token)

    @property
    def token(self) -> str | None:
        return self.credential.token if self.credential else None


def _registries(settings: Settings, credential: Client | None) -> tuple[RegistryAccess, ...]:
    """Every municipal simulator of the topology (the old and the new municipality may be
    served by different ones), as the portal's credential may read them."""
    if credential is None or credential.token is None:
        return ()
    out = []
    for name in _of_kind(settings, "municipal"):
        spec = settings.topology.simulators[name]
        places = tuple(m for m in spec.municipalities
                       if not credential.municipalities or m in credential.municipalities)
        out.append(RegistryAccess(name, settings.topology.url(name), credential.token, places,
                                  settings))
    return tuple(out)


def _mesh(settings: Settings, credential: Client | None) -> MeshAccess | None:
    topology = settings.topology
    mesh = next(iter(_of_kind(settings, "mesh")), None)
    code = setting(settings, "institution")
    inst = (topology.institution(code) if code else
            topology.institution_of_client(credential.id) if credential else None)
    client = topology.client(inst.client) if inst else None
    if mesh is None or inst is None or client is None or client.token is None:
        return None
    return MeshAccess(topology.url(mesh), client.token, inst.code)
