"""Target files: one vendor system to certify — its profile, URL, keys, municipality, seeding.

A target is validated completely before any test runs; every problem is reported at once with
its path in the file, because most failures in the field are configuration errors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from meshcert.catalog.requirements import DEFAULT_VERSION, CatalogError, load_catalog
from meshcert.errors import MeshcertError, map_exceptions
from meshcert_simulators.common.identifiers import is_valid_local_government_code
from meshcert_simulators.common.jwks import KeyFileError, load_public_key
from meshcert_simulators.fixtures import fixture_path
from meshcert_simulators.service.definition import DefinitionError, component, load_cached

LgCode = Annotated[str, Field(pattern=r"^[0-9]{6}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsSettings(_Model):
    ca_file: str | None = Field(default=None, description="CA bundle to trust (PEM); relative "
                                "to the target file. 'run' means the harness's local CA.")
    verify: bool = True


class AuthSettings(_Model):
    audience: str = Field(min_length=1, description="The aud your system expects in tokens")


class Credential(_Model):
    env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$", description="Environment variable holding "
                     "a bearer token for the seeding endpoint (never put secrets in the file)")


class Seeding(_Model):
    method: Literal["endpoint", "file"]
    path: str = "/admin/seed"
    credential: Literal["harness-token"] | Credential = "harness-token"
    persons: Annotated[int, Field(ge=10, le=100_000)] = 200
    seed: Annotated[int, Field(ge=0)] = 1
    file: str | None = Field(default=None, description="For method 'file': the population file "
                             "you loaded into your system (from `meshcert population generate`)")


Seconds = Annotated[float, Field(gt=0, le=3600), BeforeValidator(
    lambda v: float(v) if isinstance(v, int) and not isinstance(v, bool) else v)]
InstitutionCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]


class InquirerSettings(_Model):
    """An inquirer (profile mesh-inquirer): a system that asks the mesh for other
    institutions' data, driven by the harness through a trigger endpoint."""

    institution: InstitutionCode = Field(description="Its institution code in the harness's "
                                         "mesh topology (its client authenticates as it)")
    applications_path: str = Field(default="/v1/applications", pattern=r"^/",
                                   description="The trigger the profile defines: where the "
                                   "harness submits an application")
    give_up_within_s: Seconds = Field(description="Your stated time: an application whose "
                                      "inquiry keeps failing is reported as failed to the "
                                      "person within this many seconds")


class ProviderSettings(_Model):
    """An information provider (profile information-provider): a system the mesh calls."""

    institution: InstitutionCode = Field(description="Its institution code in the harness's "
                                         "mesh topology")
    item_codes: Annotated[tuple[Annotated[str, Field(pattern=r"^TM[0-9]{14}$")], ...],
                          Field(min_length=1)] = Field(description="The 特定個人情報名コード "
                                                       "it provides")
    seeding_path: str = Field(default="/admin/seed", pattern=r"^/", description="Where the "
                              "harness loads the persons and figures it will ask about")
    publish_path: str | None = Field(default="/v1/copies/publish", pattern=r"^/",
                                     description="The trigger that registers its copies at the "
                                     "J-LIS intermediate server (copy path); null if it has none")
    service: str | None = Field(default=None, min_length=1, description="The service "
                                "definition it implements (a name of fixtures/services/ or an "
                                "absolute folder): its contract, items and scopes; omitted: "
                                "the individual-resident-tax contract (fixtures/specs/"
                                "tax.openapi.json)")

    def scopes(self) -> tuple[str, str]:
        """(provide, audit): the scopes the mesh's tokens carry towards this provider."""
        if self.service is None:
            return "tax:provide", "tax:audit"
        d = load_cached(self.service).definition
        return d.provide_role, d.audit_role

    def contract(self, item: str) -> tuple[Path, str]:
        """(the committed contract, its schema of the figures held for ``item``) the suites
        judge this provider by: the resident-tax contract, or the defined service's."""
        if self.service is None:
            return fixture_path("specs", "tax.openapi.json"), "TaxFigures"
        service = load_cached(self.service)
        found = service.definition.item(item)
        if found is None:
            raise ValueError(f"{item} is not an item of service {service.name}")
        return service.contract_path, component(service.definition, "Payload", found)


FactScope = Literal["name", "address", "birthdate", "gender"]
# What each purpose a private service may state needs of the four basic facts (基本4情報): the
# most it may ask the person for (docs/domain.md#invariant-7).
PURPOSE_SCOPES: dict[str, tuple[str, ...]] = {
    # 犯罪収益移転防止法 第4条 (取引時確認): 氏名, 住居, 生年月日.
    "account-opening": ("name", "address", "birthdate"),
    # 携帯電話不正利用防止法 第3条 (契約締結時の本人確認): 氏名, 住居, 生年月日.
    "mobile-contract": ("name", "address", "birthdate"),
    # A utility contract: who and where is served.
    "utility-contract": ("name", "address"),
    # A front service's online move-out (転出届): who files and from which address.
    "moveout": ("name", "address"),
}


class RelyingPartySettings(_Model):
    """A relying party (profile private-service): a service that signs people in with digital
    authentication and gets their basic facts from the gov-private API gateway."""

    client_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                           description="Its client id at the provider")
    redirect_uri: str = Field(description="Where the provider sends the person back: a path "
                              "on base_url (/callback) or an absolute http(s) URL")
    public_jwk: str = Field(min_length=1, description="Its private_key_jwt public key (a JWK "
                            "file, relative to the target file); the harness's provider "
                            "registers it")
    login_path: str = Field(default="/login", pattern=r"^/",
                            description="Where a person starts a login (a GET that leads to "
                            "the provider)")
    me_path: str = Field(default="/me", pattern=r"^/", description="A GET that shows the "
                         "signed-in person's facts (JSON), with the login's cookies")
    purpose: Literal["account-opening", "mobile-contract", "utility-contract", "moveout"]
    purpose_text: str = Field(default="", description="The purpose as the consent page shows "
                              "it to the person")
    scopes: Annotated[tuple[FactScope, ...], Field(min_length=1)] = Field(
        description="The basic facts it asks for (besides openid)")

    def redirect_url(self, base_url: str) -> str:
        return self.redirect_uri if "://" in self.redirect_uri else (
            f"{base_url.rstrip('/')}{self.redirect_uri}")


class FrontServiceSettings(_Model):
    """A front service (profile front-service): the app's API the harness drives as a person
    would, after a login (relying_party) whose cookies it keeps."""

    moveouts_path: str = Field(default="/moveouts", pattern=r"^/", description="POST: file "
                               "the online move-out (JSON: moving_date, new_address {lg_code, "
                               "address}, reason?, on_behalf_of? — a delegation id, proxy "
                               "only); answers 201/200 with the portal's application {id, "
                               "status}, or a problem")
    status_path: str = Field(default="/moveouts/{id}", pattern=r"^/.*\{id\}",
                             description="GET: the application's status as the portal reports "
                             "it ({id} is the application's id)")
    resend_after_s: Seconds = Field(default=3.0, description="Your stated time: without an "
                                    "answer of the portal in this many seconds the app resends "
                                    "the filing (with the same idempotency key)")


class DownstreamSettings(_Model):
    """A downstream standard system (profile downstream-system): follows the registry's
    difference feed and shows what it holds through the profile's read API (paths on
    base_url; fixtures/specs/nhi.openapi.json is the reference's)."""

    client: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="The "
                        "client it gets its registry tokens as, in the harness's topology")
    municipality: LgCode = Field(description="The municipality whose feed it follows")
    my_number: bool = Field(description="Whether its area needs the My Number (番号法 別表)")
    poll_interval_s: Seconds = Field(description="Your stated time: at most one poll this "
                                     "often once it has read the feed to its end")
    resident_path: str = Field(default="/v1/residents/{atena_number}",
                               pattern=r"^/.*\{atena_number\}", description="GET: its view "
                               "of a resident (404 if it holds none)")
    household_path: str = Field(default="/v1/households/{setai_number}",
                                pattern=r"^/.*\{setai_number\}", description="GET: the "
                                "members it holds as resident in a household")
    sync_state_path: str = Field(default="/v1/sync-state", pattern=r"^/",
                                 description="GET: its stored cursor")
    sync_path: str | None = Field(default="/v1/sync", pattern=r"^/", description="POST: read "
                                  "the feed to its end now; null if it has none (the harness "
                                  "then waits for its polls)")
    restart_path: str | None = Field(default=None, pattern=r"^/", description="POST: restart "
                                     "it (answers before it goes); null: restarted only when "
                                     "the harness launches it")


# The sections of a target file each profile's suites read.
PROFILE_SECTIONS: dict[str, tuple[str, ...]] = {
    "resident-registry": ("municipality", "seeding"),
    "mesh-inquirer": ("inquirer",),
    "information-provider": ("provider",),
    "private-service": ("relying_party",),
    "front-service": ("relying_party", "front_service"),
    "downstream-system": ("downstream",),
}


class Launch(_Model):
    """How the harness starts a bundled reference system itself (vendors leave this out)."""

    topology: str
    simulator: str
    defect: str | None = None


class Target(_Model):
    target: Literal[1] = Field(description="Target file format version")
    name: str = Field(min_length=1)
    vendor: str = Field(min_length=1)
    profile: str
    catalog: str = DEFAULT_VERSION
    base_url: str
    tls: TlsSettings = TlsSettings()
    auth: AuthSettings
    municipality: LgCode | None = Field(default=None, description="The municipality the "
                                        "suites use (resident-registry)")
    other_municipality: LgCode | None = Field(default=None, description="A second municipality "
                                              "your system hosts, for tenant-isolation tests")
    seeding: Seeding | None = None
    inquirer: InquirerSettings | None = None
    provider: ProviderSettings | None = None
    relying_party: RelyingPartySettings | None = None
    front_service: FrontServiceSettings | None = None
    downstream: DownstreamSettings | None = None
    launch: Launch | None = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL such as https://127.0.0.1:8443")
        if parts.path not in ("", "/") or parts.query:
            raise ValueError("give the origin only (scheme, host, port), without a path")
        return value.rstrip("/")

    @field_validator("municipality", "other_municipality")
    @classmethod
    def _lg_code(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_local_government_code(value):
            raise ValueError(f"{value} is not a valid local government code (check digit)")
        return value


class TargetError(MeshcertError, ValueError):
    """A target file is missing or invalid: the message lists every problem with its path; fix
    them in the target file (fixtures/vendors/ has examples). Exit status 2."""


def load_target(path: Path) -> tuple[Target, Path]:
    """Validate a target file fully; returns the target and the folder paths are relative to."""
    path = Path(path)
    with map_exceptions(TargetError, str(path), missing="no such target file"):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise TargetError(f"{path}: expected a mapping at the top level")
    problems: list[str] = []
    target: Target | None = None
    try:
        target = Target.model_validate(raw)
    except ValidationError as exc:
        problems += [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    if target is not None:
        problems += _cross_checks(target, path.parent)
    if problems:
        raise TargetError("\n".join([f"{path}: {len(problems)} problem(s):",
                                     *(f"  {p}" for p in problems)]))
    assert target is not None
    return target, path.parent.resolve()


def _cross_checks(target: Target, base: Path) -> list[str]:
    problems: list[str] = []
    try:
        catalog = load_catalog(target.catalog)
        if target.profile not in catalog.profiles:
            problems.append(f"profile: catalog {target.catalog} has no profile "
                            f"{target.profile!r} (it has: {', '.join(sorted(catalog.profiles))})")
    except CatalogError as exc:
        problems.append(f"catalog: {exc}")
    if target.tls.ca_file not in (None, "run") and not (base / target.tls.ca_file).is_file():
        problems.append(f"tls.ca_file: no such file {base / target.tls.ca_file}")
    if target.base_url.startswith("https://") is False and target.tls.ca_file:
        problems.append("tls.ca_file: given, but base_url is not https://")
    for section in PROFILE_SECTIONS.get(target.profile, ()):
        if getattr(target, section) is None:
            problems.append(f"{section}: required for profile {target.profile}")
    seeding = target.seeding or Seeding(method="endpoint")
    if seeding.method == "file":
        if not seeding.file:
            problems.append("seeding.file: required when seeding.method is 'file'")
        elif not (base / seeding.file).is_file():
            problems.append(f"seeding.file: no such file {base / seeding.file}")
    if isinstance(seeding.credential, Credential) and seeding.credential.env not in os.environ:
        problems.append(f"seeding.credential.env: the environment variable "
                        f"{seeding.credential.env} is not set")
    if target.other_municipality and target.other_municipality == target.municipality:
        problems.append("other_municipality: must differ from municipality")
    if target.relying_party is not None:
        problems += _relying_party_problems(target.relying_party, base)
    if target.provider is not None and target.provider.service is not None:
        problems += _service_problems(target.provider)
    if target.launch and not (base / target.launch.topology).is_file():
        problems.append(f"launch.topology: no such file {base / target.launch.topology}")
    return problems


def _relying_party_problems(party: RelyingPartySettings, base: Path) -> list[str]:
    problems: list[str] = []
    uri = party.redirect_uri
    parts = urlsplit(uri)
    if not uri.startswith("/") and (parts.scheme not in ("http", "https") or not parts.hostname
                                    or parts.fragment):
        problems.append("relying_party.redirect_uri: give a path on base_url (/callback) or "
                        "an absolute http(s) URL without a fragment")
    key_file = base / party.public_jwk
    try:
        load_public_key(key_file)
    except KeyFileError as exc:
        problems.append(f"relying_party.public_jwk: {exc}")
    needed = PURPOSE_SCOPES[party.purpose]
    beyond = [s for s in party.scopes if s not in needed]
    if beyond:
        problems.append(f"relying_party.scopes: {', '.join(beyond)} not needed for purpose "
                        f"{party.purpose} (it needs at most: {', '.join(needed)})")
    return problems


def _service_problems(provider: ProviderSettings) -> list[str]:
    try:
        d = load_cached(str(provider.service)).definition
    except DefinitionError as exc:
        return [f"provider.service: {p}" for p in exc.problems]
    unknown = [c for c in provider.item_codes if d.item(c) is None]
    return [f"provider.item_codes: {', '.join(unknown)} not an item of service {d.name}"
            ] if unknown else []
