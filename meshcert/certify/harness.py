"""The harness side of a certification run: the token issuer, TLS trust, and HTTP access to the
system under test with every exchange recorded.

The harness runs the authorization server the target trusts (the topology's authz simulator),
so it can mint access tokens directly with the issuer's key: valid ones for the suites, and
deliberately broken ones (another audience, expired, signed by another key) for the security
suite.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import Key

from meshcert.backends import processes
from meshcert.catalog.targets import Target
from meshcert.certify.evidence import Recorder
from meshcert_simulators.authz.tokens import load_signing_key, mint_access_token
from meshcert_simulators.common.tls import LocalTls, shared_client_context
from meshcert_simulators.common.topology import Topology, load_topology
from meshcert_simulators.fixtures import fixture_path

HARNESS_CLIENT = "meshcert-harness"
TOPOLOGIES = fixture_path("topologies")
CERTIFY_TOPOLOGY = TOPOLOGIES / "certify.yaml"
# The harness side a vendor's system of each profile is certified against (--topology changes
# it): the counterparts on their fixed ports, which the vendor's system is configured to reach.
PROFILE_TOPOLOGIES: dict[str, Path] = {
    "resident-registry": CERTIFY_TOPOLOGY,
    "mesh-inquirer": TOPOLOGIES / "mesh-inquirer.yaml",
    "information-provider": TOPOLOGIES / "information-provider.yaml",
    "private-service": TOPOLOGIES / "private-service.yaml",
    "front-service": TOPOLOGIES / "front-service.yaml",
    "downstream-system": TOPOLOGIES / "downstream-system.yaml",
}
RECORDER = pytest.StashKey[Recorder]()

# The scopes a profile's operations need: a token with all of them reaches everything.
PROFILE_SCOPES: dict[str, tuple[str, ...]] = {
    "resident-registry": ("registry:read", "registry:read-mynumber", "registry:write",
                          "moveout:submit", "moveout:process", "audit:read"),
    "mesh-inquirer": ("allowance:apply", "allowance:read", "allowance:audit"),
    "information-provider": ("tax:provide", "tax:audit"),
    "downstream-system": ("downstream:read", "downstream:read-mynumber", "downstream:sync"),
}
# Who the harness is towards a profile's system, when not itself: a provider under test is
# called by the mesh, so the harness's tokens name the mesh's client.
PROFILE_CLIENTS: dict[str, str] = {"information-provider": "mesh"}


@dataclass
class Harness:
    target: Target
    base: Path                 # the folder the target file's relative paths start from
    topology: Topology         # the harness side: the issuer and surrounding simulators
    run_dir: Path
    issuer: str
    signing_key: Key

    @property
    def scopes(self) -> tuple[str, ...]:
        if self.target.profile == "information-provider" and self.target.provider:
            return self.target.provider.scopes()  # the service's own (tax by default)
        return PROFILE_SCOPES.get(self.target.profile, ())

    def ca_file(self) -> Path | None:
        ca = self.target.tls.ca_file
        if ca is None:
            return None
        if ca == "run":
            return LocalTls(processes.tls_dir(self.run_dir)).ca_cert
        return self.base / ca

    def verify(self) -> ssl.SSLContext | bool:
        if not self.target.tls.verify:
            return False
        return shared_client_context(self.ca_file())

    def token(self, scopes: Iterable[str] | None = None, *,
              municipalities: Iterable[str] | None = None, **overrides: Any) -> str:
        """An access token for the target, signed by the issuer: by default with every scope
        of the profile; ``overrides`` change or (with None) remove claims."""
        return mint_access_token(
            self.signing_key, issuer=self.issuer,
            audience=overrides.pop("audience", self.target.auth.audience),
            subject=PROFILE_CLIENTS.get(self.target.profile, HARNESS_CLIENT),
            scopes=self.scopes if scopes is None else scopes,
            municipalities=municipalities, **overrides)

    def client(self, token: str | None = None, *, recorder: Recorder | None = None,
               authenticated: bool = True, timeout: float = 15.0) -> httpx.Client:
        """An HTTP client for the target; ``token`` defaults to one with every scope."""
        headers = {}
        if authenticated:
            headers["Authorization"] = f"Bearer {token or self.token()}"
        return httpx.Client(base_url=self.target.base_url, verify=self.verify(),
                            headers=headers, timeout=timeout,
                            event_hooks=recorder.hooks() if recorder else None)

    def recorder_for(self, node: pytest.Item) -> Recorder:
        """The recorder of one test: every client made for the test shares it."""
        if RECORDER not in node.stash:
            node.stash[RECORDER] = Recorder()
        return node.stash[RECORDER]


def harness_for(target: Target, base: Path, topology_path: str | Path | None = None,
                run_dir: str | Path | None = None) -> Harness:
    topology = load_topology(Path(topology_path) if topology_path else CERTIFY_TOPOLOGY)
    issuer = topology.issuer_url()
    if topology.issuer is None or topology.issuer.simulator is None or issuer is None:
        raise ValueError(f"topology {topology.name!r} names no issuer simulator: the harness "
                         "mints tokens with its authz simulator's key")
    key_path = topology.simulator(topology.issuer.simulator).signing_key
    assert key_path is not None  # the topology validates that an authz simulator has one
    return Harness(target=target, base=base, topology=topology,
                   run_dir=Path(run_dir) if run_dir else processes.default_run_dir(topology),
                   issuer=issuer, signing_key=load_signing_key(Path(key_path)))
