"""Durable state of the gateway: registered clients, consent records (with their signature
evidence), and the provision records kept for each person.

A client and person have at most one live consent: a new one supersedes the earlier one.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from meshcert_simulators.common.paging import seq_page
from meshcert_simulators.common.provision_records import TABLE, ProvisionRecords
from meshcert_simulators.common.storage import Database

RECORDS = ProvisionRecords(
    unique=True,
    columns=(("consent_id", "TEXT NOT NULL"), ("client_id", "TEXT NOT NULL"),
             ("sub", "TEXT NOT NULL"), ("juminhyo_code", "TEXT NOT NULL"),
             ("purpose", "TEXT NOT NULL"), ("scopes", "TEXT NOT NULL"),
             ("claims", "TEXT NOT NULL"), ("token_jti", "TEXT NOT NULL"),
             ("requested_at", "TEXT NOT NULL"), ("provided_at", "TEXT NOT NULL")),
    indexes=(("records_by_sub", "sub, client_id"), ("records_by_person", "juminhyo_code")))

SCHEMA = """
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    scopes TEXT NOT NULL,
    rate_limit_per_s INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS consents (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    sub TEXT NOT NULL,
    juminhyo_code TEXT NOT NULL,
    purpose TEXT NOT NULL,
    scopes TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT,
    evidence TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS consents_of_pair ON consents (client_id, sub);
""" + RECORDS.schema


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def consent_out(row: sqlite3.Row) -> dict[str, Any]:
    """A consent as the API answers it (the 住民票コード stays inside)."""
    return {"id": row["id"], "sub": row["sub"], "client_id": row["client_id"],
            "purpose": row["purpose"], "scopes": json.loads(row["scopes"]),
            "granted_at": row["granted_at"], "expires_at": row["expires_at"],
            "revoked_at": row["revoked_at"], "revoked_by": row["revoked_by"],
            "evidence": json.loads(row["evidence"])}


def record_out(row: sqlite3.Row) -> dict[str, Any]:
    return {"seq": row["seq"], "record_id": row["record_id"], "consent_id": row["consent_id"],
            "client_id": row["client_id"], "sub": row["sub"], "purpose": row["purpose"],
            "scopes": json.loads(row["scopes"]), "claims": json.loads(row["claims"]),
            "requested_at": row["requested_at"], "provided_at": row["provided_at"]}


class GatewayStore:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    # -- clients -----------------------------------------------------------------------------

    def put_client(self, client_id: str, purpose: str, scopes: list[str],
                   rate_limit_per_s: int) -> dict[str, Any]:
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO clients VALUES (?,?,?,?) ON CONFLICT (client_id) DO "
                         "UPDATE SET purpose=excluded.purpose, scopes=excluded.scopes, "
                         "rate_limit_per_s=excluded.rate_limit_per_s",
                         (client_id, purpose, json.dumps(scopes), rate_limit_per_s))
        return {"client_id": client_id, "purpose": purpose, "scopes": scopes,
                "rate_limit_per_s": rate_limit_per_s}

    def client(self, client_id: str) -> dict[str, Any] | None:
        row = self.db.query_one("SELECT * FROM clients WHERE client_id=?", (client_id,))
        if row is None:
            return None
        return {"client_id": row["client_id"], "purpose": row["purpose"],
                "scopes": json.loads(row["scopes"]),
                "rate_limit_per_s": row["rate_limit_per_s"]}

    # -- consents ----------------------------------------------------------------------------

    def add_consent(self, client: dict[str, Any], sub: str, juminhyo_code: str,
                    scopes: list[str], evidence: dict[str, Any], lifetime: timedelta
                    ) -> dict[str, Any]:
        """Record a consent; the pair's earlier live consent is superseded."""
        now = self.clock()
        consent_id = f"cns-{uuid.uuid4().hex}"
        with self.db.transaction() as conn:
            conn.execute("UPDATE consents SET revoked_at=?, revoked_by='superseded' WHERE "
                         "client_id=? AND sub=? AND revoked_at IS NULL",
                         (stamp(now), client["client_id"], sub))
            conn.execute("INSERT INTO consents (id, client_id, sub, juminhyo_code, purpose, "
                         "scopes, granted_at, expires_at, evidence) VALUES (?,?,?,?,?,?,?,?,?)",
                         (consent_id, client["client_id"], sub, juminhyo_code,
                          client["purpose"], json.dumps(scopes), stamp(now),
                          stamp(now + lifetime), json.dumps(evidence, ensure_ascii=False)))
        row = self.consent(consent_id)
        assert row is not None
        return consent_out(row)

    def consent(self, consent_id: str) -> sqlite3.Row | None:
        return self.db.query_one("SELECT * FROM consents WHERE id=?", (consent_id,))

    def latest_consent(self, client_id: str, sub: str) -> sqlite3.Row | None:
        """The pair's newest consent, live or not (to tell revoked from never given)."""
        return self.db.query_one("SELECT * FROM consents WHERE client_id=? AND sub=? "
                                 "ORDER BY granted_at DESC, rowid DESC LIMIT 1",
                                 (client_id, sub))

    def revoke_consent(self, consent_id: str, by: str) -> bool:
        with self.db.transaction() as conn:
            return conn.execute("UPDATE consents SET revoked_at=?, revoked_by=? WHERE id=? AND "
                                "revoked_at IS NULL",
                                (stamp(self.clock()), by, consent_id)).rowcount > 0

    def revoke_pair(self, client_id: str, juminhyo_code: str, by: str) -> list[str]:
        with self.db.transaction() as conn:
            ids = [r["id"] for r in conn.execute(
                "SELECT id FROM consents WHERE client_id=? AND juminhyo_code=? AND "
                "revoked_at IS NULL", (client_id, juminhyo_code)).fetchall()]
            conn.executemany("UPDATE consents SET revoked_at=?, revoked_by=? WHERE id=?",
                             [(stamp(self.clock()), by, i) for i in ids])
        return ids

    # -- provision records -------------------------------------------------------------------

    def record_provision(self, consent: sqlite3.Row, scopes: list[str], claims: list[str],
                         jti: str, requested_at: datetime) -> dict[str, Any]:
        record_id = f"prv-{uuid.uuid4().hex}"
        with self.db.transaction() as conn:
            RECORDS.insert(conn, record_id=record_id, consent_id=consent["id"],
                           client_id=consent["client_id"], sub=consent["sub"],
                           juminhyo_code=consent["juminhyo_code"], purpose=consent["purpose"],
                           scopes=json.dumps(scopes), claims=json.dumps(claims), token_jti=jti,
                           requested_at=stamp(requested_at), provided_at=stamp(self.clock()))
        row = self.db.query_one(f"SELECT * FROM {TABLE} WHERE record_id=?", (record_id,))
        assert row is not None
        return record_out(row)

    def records(self, filters: dict[str, str], after: int, limit: int
                ) -> tuple[list[dict[str, Any]], bool]:
        """Records matching every column = value of ``filters``, by ``seq``."""
        where = " AND ".join(f"{column}=?" for column in filters)
        rows, more = seq_page(self.db, f"SELECT * FROM {TABLE}", where, list(filters.values()),
                              after, limit)
        return [record_out(r) for r in rows], more
