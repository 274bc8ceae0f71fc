"""Raw reads of the audit trail that verify, export and the re-seal share: the hashed columns as
the database returns them, the canonical form built by the database itself, streaming fetches
on the DB-API connection, and the reference hash of one stored event."""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from ..extensions import db
from .models import AuditEvent
from .services import BATCH, encode_canonical, hmac_digest, keyring

#: the raw columns the hash covers after prev_hash, as verify reads them
HASHED = ("prev_hash", *AuditEvent.HASHED_FIELDS)
_PG_TIME = "to_char(occurred_at, 'YYYY-MM-DD HH24:MI:SS.US')"  # the text SQLite stores


def _raw(dialect: str) -> list[str]:
    return [_PG_TIME if c == "occurred_at" and dialect == "postgresql" else c for c in HASHED]


def raw_columns(dialect: str) -> str:
    """The hashed columns as the database returns them, occurred_at as SQLite's text."""
    return ", ".join(_raw(dialect))


#: False only while migration 0008's re-seal walks a chain from before the subject_seal column
SUBJECT_SEALS = ContextVar("ieum_subject_seals", default=True)


def _hashed(dialect: str) -> list[str]:
    if not SUBJECT_SEALS.get():
        return _raw(dialect)
    return ["COALESCE(subject_seal, subject_ref)" if c == "subject_ref" else c for c in _raw(dialect)]


def hashed_columns(dialect: str) -> str:
    """The values the hash covers: raw_columns with the subject's seal in subject_ref's place."""
    return ", ".join(_hashed(dialect))


def canonical_sql(dialect: str) -> str:
    """The canonical JSON built by the database itself: one string per row is far cheaper
    to fetch than 15 values to encode in Python.  Only an accelerator: a row whose text
    differs from services.canonical is hashed again in Python before it is called broken.
    Keyed rows start with their key id, legacy rows (key_id NULL) with prev_hash."""
    hashed = hashed_columns(dialect)
    if dialect == "postgresql":
        items = " || ',' || ".join(f"coalesce(to_json({c})::text, 'null')" for c in _hashed(dialect))
        return (f"convert_to('[' || CASE WHEN key_id IS NULL THEN '' ELSE to_json(key_id)::text || ',' END "
                f"|| {items} || ']', 'UTF8')")
    # bytes: nothing to decode or encode
    return f"CAST(CASE WHEN key_id IS NULL THEN json_array({hashed}) ELSE json_array(key_id, {hashed}) END AS BLOB)"


def sql(dialect: str, statement: str) -> str:
    return statement.replace("?", "%s") if dialect == "postgresql" else statement


def fetch_batches(conn, dialect: str, statement: str, params: tuple, size: int = BATCH) -> Iterator[list[tuple]]:
    """Stream rows in batches: a server-side cursor on PostgreSQL, SQLite steps lazily anyway."""
    # binary results: bytea arrives as is instead of hex text (a third faster to verify)
    cur = conn.cursor(name="ieum_audit_scan", binary=True) if dialect == "postgresql" else conn.cursor()
    try:
        cur.execute(sql(dialect, statement), params)
        while rows := cur.fetchmany(size):
            yield rows
    finally:
        cur.close()


def fetch_one(conn, dialect: str, statement: str, params: tuple = ()):
    cur = conn.cursor()
    try:
        cur.execute(sql(dialect, statement), params)
        return cur.fetchone()
    finally:
        cur.close()


@contextmanager
def read_connection(session=None):
    """A raw DBAPI connection for long reads: the session's own, or one that takes no lock."""
    if session is not None:
        yield session.connection().connection.dbapi_connection, session.get_bind().dialect.name
        return
    dialect = db.engine.dialect.name
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        # one snapshot for every statement; a plain BEGIN (not IMMEDIATE) leaves writers free
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ" if dialect == "postgresql" else "BEGIN")
        cur.close()
        yield raw.dbapi_connection, dialect
    finally:
        raw.rollback()
        raw.close()


def python_hash(conn, dialect: str, event_id: int, keys: dict[str, bytes] | None = None) -> str | None:
    """The hash of one stored event computed the reference way, from its raw columns."""
    try:
        row = fetch_one(conn, dialect, f"SELECT key_id, {hashed_columns(dialect)} FROM audit_event WHERE id = ?",
                        (event_id,))
        if row[0] is None:
            return hashlib.sha256(encode_canonical(list(row[1:])).encode("utf-8")).hexdigest()
        keys = keyring().audit_key_bytes() if keys is None else keys
        return hmac_digest(keys[row[0]], encode_canonical(list(row)).encode("utf-8"), "sha256").hex()
    except Exception:  # a missing row or key, or content that does not decode, is tampering, not a crash
        return None
