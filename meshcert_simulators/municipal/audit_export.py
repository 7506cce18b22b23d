"""The audit log as the API exports it: pages of the hash chain with a signed checkpoint of its
head, the chain's verification against its checkpoints, and the keys that verify them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from pydantic import Field

from meshcert_simulators.common import checkpoints
from meshcert_simulators.common.audit import AuditEntry
from meshcert_simulators.common.paging import next_after, split_page
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.wire import WireModel

AUDIT_CHAIN_RULE = (
    "Entries are numbered from 1 per municipality. Each entry's `hash` is the lowercase hex "
    "SHA-256 of the UTF-8 bytes of the compact JSON array (no spaces, non-ASCII not escaped) "
    "`[scope, seq, at, operator, action, target, mynumber_accessed, request_id, prev_hash]`; "
    "`prev_hash` is the previous entry's `hash`, and 64 zeros for entry 1. Recomputing the "
    "chain from the export verifies it; any edited, removed or reordered entry breaks it.\n\n"
    "**What is logged.** Every read of resident records writes one entry per record read: "
    "`resident.read` (by 宛名番号), `resident.find` (by 住民票コード), `household.read` (each "
    "member), `changes.read` (a non-empty feed page; target `seq A-B`). Every refused read of "
    "an authenticated caller writes one entry with the read's action and the suffix "
    "`.refused` (e.g. `resident.read.refused`): refused for a missing scope (403), for a "
    "municipality the client is not registered for (403, in the chain of the municipality "
    "asked for), or because the record does not exist (404 resident-not-found, "
    "household-not-found). Its `target` is the identifier asked for (宛名番号, 住民票コード, "
    "世帯番号, or `after N` for the feed) and its `mynumber_accessed` is false. `operator` is "
    "the client id of the access token, `request_id` the request's X-Request-ID. Requests "
    "refused before the caller is known (401) and requests for a municipality not hosted "
    "(404 unknown-municipality) are not in any chain.\n\n"
    "**Checkpoints.** The chain alone cannot show that its newest entries were cut off, so "
    "the registry signs its head: a checkpoint is a compact JWS (ES256, header `typ` "
    "`audit-checkpoint+jws`, `kid` naming a key of `GET .../audit-log/keys`) whose payload "
    "is the JSON object `{scope, seq, head_hash, signed_at}`: entry `seq` of the chain of "
    "`scope` had hash `head_hash` (seq 0 and 64 zeros for an empty chain). Every export page "
    "carries a checkpoint of the head at the time of the export (`seq` is the newest entry, "
    "whatever page was asked for). A chain that has no entry `seq` of a checkpoint, or "
    "another hash there, was cut off or rewritten; the verification checks every checkpoint "
    "the registry has signed, and one the caller kept.")


class AuditCheckpoint(WireModel):
    """A signed checkpoint of the chain's head; the fields repeat the verified JWS payload."""

    scope: str
    seq: int
    head_hash: str
    signed_at: datetime
    jws: str


class AuditPage(WireModel):
    entries: list[AuditEntry]
    next_after: int
    has_more: bool
    checkpoint: AuditCheckpoint = Field(description="The head of the chain at the time of "
                                        "the export, signed")


class ChainCheckOut(WireModel):
    valid: bool
    entries: int
    head_hash: str
    first_bad_seq: int | None
    reason: str | None
    checkpoints_checked: int = Field(description="Signed checkpoints the chain was held "
                                     "against (the registry's own and the caller's)")
    checkpoint: AuditCheckpoint | None = Field(description="The head, signed now; null when "
                                               "the chain is not valid")


class JwkSet(WireModel):
    keys: list[dict[str, Any]]


def _invalid_checkpoint(detail: str) -> Problem:
    return Problem(422, "invalid-checkpoint", "Not a checkpoint of this registry", detail)


class AuditExport:
    """Exports and verifies the audit log. The ``registry`` (which keeps the chain and signs
    its checkpoints) is read from the app's state at the time of use, so a negative control
    or a test can replace it (or this object)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def page(self, lg_code: str, after: int, limit: int) -> dict[str, Any]:
        """Entries after ``after`` with a checkpoint of the head at the time of the export."""
        registry = self.state.registry
        checkpoint = registry.checkpoint(lg_code)  # first: the head the page is part of
        entries, more = split_page(registry.audit_entries(lg_code, after, limit + 1), limit)
        page = [asdict(e) for e in entries]
        return {"entries": page, "next_after": next_after(page, after), "has_more": more,
                "checkpoint": checkpoint.as_dict()}

    def verification(self, lg_code: str, kept: str | None = None) -> dict[str, Any]:
        """The chain recomputed and held against every checkpoint the registry signed and the
        one the caller ``kept`` (its JWS); 422 invalid-checkpoint when that is not one of
        this registry's for ``lg_code``."""
        registry = self.state.registry
        anchor = None
        if kept is not None:
            try:
                anchor = checkpoints.verified(kept, registry.checkpoint_keys())
            except ValueError as exc:
                raise _invalid_checkpoint(str(exc)) from None
            if anchor.scope != lg_code:
                raise _invalid_checkpoint(f"the checkpoint is of the chain of {anchor.scope}, "
                                          f"not {lg_code}")
        check, checked = registry.verify_audit(lg_code, anchor)
        head = registry.checkpoint(lg_code).as_dict() if check.valid else None
        return {**asdict(check), "checkpoints_checked": checked, "checkpoint": head}

    def keys(self) -> dict[str, Any]:
        """The JWK set that verifies the checkpoints."""
        return checkpoints.keys_document(self.state.registry.checkpoint_key)
