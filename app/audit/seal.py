"""Sealing what the audit chain cannot cover by itself: retention checkpoints (signed with the
audit key), the rule that legacy SHA-256 events form only a prefix, and the one-time re-seal that
switches a legacy chain to the keyed one (migration 0008).

Re-seal, step by step (all in the migration's transaction):
1. the legacy chain is walked with SHA-256 from the newest checkpoint; a broken chain stops the
   migration (rewriting it would bury the evidence);
2. existing checkpoints are checked against their audit_purged events and signed;
3. plaintext emergency-override reasons are replaced in ``referral_sent`` events by the category
   "기타" (the text stays encrypted in the referral), and the legacy SHA-256 hashes are recomputed
   from the first changed event on, so the old chain still verifies up to the switch point;
4. one keyed ``audit_chain_resealed`` event follows the legacy head, naming the legacy count, last
   id, head before and after the redaction and the redacted event ids: from here on every event
   is an HMAC under an audit key, and verify refuses a SHA-256 event after it.
"""
from __future__ import annotations

import hashlib
import json

from flask_babel import gettext as _
from sqlalchemy import text

from ..db import utcnow
from ..words import particle
from .models import AuditCheckpoint, AuditEvent
from .raw import SUBJECT_SEALS, fetch_one, raw_columns, sql
from .services import TIME_FORMAT, chain_hash, encode_canonical, keyring, mac_fields

#: the keyed event that closes the legacy SHA-256 chain
RESEAL_ACTION = "audit_chain_resealed"


def checkpoint_fields(created_at: str, purged_before: str, last_event_id: int, last_event_hash: str,
                      events_removed: int, actor_login: str | None, key_id: str) -> tuple:
    """What a checkpoint's signature covers (times as TIME_FORMAT text, as verify reads them)."""
    return ("audit_checkpoint", key_id, created_at, purged_before, int(last_event_id), last_event_hash,
            int(events_removed), actor_login)


def sign_checkpoint(checkpoint: AuditCheckpoint) -> None:
    """Seal a new checkpoint with the active audit key (before it is inserted)."""
    kid, key = keyring().audit_key()
    checkpoint.key_id = kid
    checkpoint.signature = mac_fields(key, *checkpoint_fields(
        checkpoint.created_at.strftime(TIME_FORMAT), checkpoint.purged_before.strftime(TIME_FORMAT),
        checkpoint.last_event_id, checkpoint.last_event_hash, checkpoint.events_removed,
        checkpoint.actor_login, kid))


def _time_sql(dialect: str, column: str) -> str:
    return f"to_char({column}, 'YYYY-MM-DD HH24:MI:SS.US')" if dialect == "postgresql" else column


def forged_checkpoint(conn, dialect: str, keys: dict[str, bytes]) -> str | None:
    """Every checkpoint must carry a valid signature: one inserted without the key is forged."""
    cur = conn.cursor()
    try:
        cur.execute(f"SELECT id, {_time_sql(dialect, 'created_at')}, {_time_sql(dialect, 'purged_before')}, "
                    "last_event_id, last_event_hash, events_removed, actor_login, key_id, signature "
                    "FROM audit_checkpoint ORDER BY id")
        rows = cur.fetchall()
    finally:
        cur.close()
    for cp_id, created, before, last_id, last_hash, removed, login, kid, signature in rows:
        key = keys.get(kid or "")
        if key is None or signature != mac_fields(key, *checkpoint_fields(created, before, last_id, last_hash,
                                                                          removed, login, kid)):
            return _("보존기한 체크포인트 #%(cp)d의 서명이 맞지 않습니다: 감사 키 없이 만든 체크포인트입니다 "
                     "(이벤트 #%(last_id)d까지의 삭제는 위조)", cp=cp_id, last_id=last_id)
    return None


def checkpoint_problem(conn, dialect: str, after_id: int, start_hash: str, cp_id: int) -> str | None:
    # The audit_purged event written with a checkpoint is inside the keyed chain and must agree with it.
    cur = conn.cursor()
    try:
        cur.execute(sql(dialect, "SELECT details FROM audit_event WHERE action = 'audit_purged' AND id > ?"),
                    (after_id,))
        rows = cur.fetchall()
    finally:
        cur.close()
    for (details,) in rows:
        details = json.loads(details) if details else {}
        if details.get("last_event_id") == after_id and details.get("last_event_hash") == start_hash:
            return None
    return _("보존기한 체크포인트 #%(cp)d%(wa)s 일치하는 audit_purged 이벤트가 없습니다", cp=cp_id,
             wa=particle(str(cp_id), "과/와"))


def unkeyed_problem(conn, dialect: str, after_id: int) -> str | None:
    """Legacy SHA-256 events may only form a prefix closed by the keyed re-seal event: without
    that rule a writer could replace the keyed tail with a SHA-256 chain of their own."""
    first_plain = fetch_one(conn, dialect, "SELECT MIN(id) FROM audit_event WHERE key_id IS NULL AND id > ?",
                            (after_id,))[0]
    if first_plain is None:
        return None
    first_keyed = fetch_one(conn, dialect, "SELECT id, action FROM audit_event WHERE key_id IS NOT NULL "
                                           "AND id > ? ORDER BY id LIMIT 1", (after_id,))
    late_plain = first_keyed and fetch_one(conn, dialect, "SELECT MIN(id) FROM audit_event WHERE key_id IS NULL "
                                                          "AND id > ?", (first_keyed[0],))[0]
    if first_keyed is None or late_plain:
        bad = late_plain or first_plain
        return _("이벤트 #%(id)d%(eun)s 감사 키로 봉인되지 않았습니다: 키 없는 SHA-256 이벤트는 "
                 "재봉인(%(action)s) 이전에만 있을 수 있습니다", id=bad, eun=particle(str(bad), "은/는"),
                 action=RESEAL_ACTION)
    if first_plain < first_keyed[0] and first_keyed[1] != RESEAL_ACTION:
        return _("이벤트 #%(id)d%(eun)s 재봉인 이벤트가 아닌데 키 없는 SHA-256 이벤트 뒤에 처음 봉인되었습니다",
                 id=first_keyed[0], eun=particle(str(first_keyed[0]), "은/는"))
    return None


#: the category an override reason written before categories existed is filed under
LEGACY_OVERRIDE_CATEGORY = ("other", "기타")


def _details(raw: str | None, **extra) -> str:
    data = {**(json.loads(raw) if raw else {}), **extra}
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def reseal(bind, actor_login: str = "migration:0008") -> dict | None:
    """Switch a legacy SHA-256 chain to the keyed chain (see the module docstring); runs on the
    migration's connection with the append-only triggers lifted.  None when there was nothing
    to seal (a new database: every event is keyed from the first)."""
    token = SUBJECT_SEALS.set(False)  # 0008 runs before 0018 added audit_event.subject_seal
    try:
        return _reseal(bind, actor_login)
    finally:
        SUBJECT_SEALS.reset(token)


def _reseal(bind, actor_login: str) -> dict | None:
    from .chain import chain_start, check_range  # chain imports this module
    kid, key = keyring().audit_key()
    dialect = bind.dialect.name
    raw = bind.connection.dbapi_connection
    after_id, start_hash, cp_id = chain_start(raw, dialect)
    hi = fetch_one(raw, dialect, "SELECT MAX(id) FROM audit_event")[0]
    head_before = start_hash
    if hi is not None and hi > after_id:
        walked = check_range(raw, dialect, after_id, hi, start_hash, keys={})
        if walked.broken_id is not None:
            raise RuntimeError(f"audit chain broken at event #{walked.broken_id} ({walked.problem}); "
                               "investigate with 'flask audit verify' before migrating")
        head_before = walked.last_hash
    if cp_id is not None and (problem := checkpoint_problem(raw, dialect, after_id, start_hash, cp_id)):
        raise RuntimeError(problem)
    _sign_existing_checkpoints(bind, kid, key)
    # plaintext override reasons (free text about a child's emergency) leave the trail
    rows = bind.execute(text("SELECT id, details FROM audit_event WHERE action = 'referral_sent' AND key_id IS NULL "
                             "AND reason IS NOT NULL AND id > :a ORDER BY id"), {"a": after_id}).all()
    redacted = [row[0] for row in rows]
    code, label = LEGACY_OVERRIDE_CATEGORY
    if rows:
        bind.execute(text("UPDATE audit_event SET reason = :r, details = :d WHERE id = :id"),
                     [{"r": label, "d": _details(details, override_category=code, reason_redacted=True), "id": i}
                      for i, details in rows])
    head = _rehash_from(bind, dialect, redacted[0], after_id, start_hash) if redacted else head_before
    if hi is None or hi <= after_id:
        return None
    details = {"legacy_events": hi - after_id, "legacy_last_id": hi, "legacy_head_before": head_before,
               "legacy_head": head, "redacted_override_reasons": len(redacted), "redacted_ids": redacted[:500]}
    values = {"occurred_at": utcnow(), "actor_login": actor_login, "role": "system", "action": RESEAL_ACTION,
              "object_type": "audit_event", "object_id": str(hi), "outcome": "allowed",
              "details": _details(None, **details), "prev_hash": head, "key_id": kid}
    values.update({c: None for c in ("actor_id", "organisation_id", "ip", "subject_ref", "reason", "request_id")})
    values["hash"] = chain_hash(head, values, kid, key)
    bind.execute(AuditEvent.__table__.insert(), values)
    return details


def _sign_existing_checkpoints(bind, kid: str, key: bytes) -> None:
    table = AuditCheckpoint.__table__
    for cp in bind.execute(table.select().where(table.c.signature.is_(None))).all():
        signature = mac_fields(key, *checkpoint_fields(
            cp.created_at.strftime(TIME_FORMAT), cp.purged_before.strftime(TIME_FORMAT), cp.last_event_id,
            cp.last_event_hash, cp.events_removed, cp.actor_login, kid))
        bind.execute(table.update().where(table.c.id == cp.id).values(key_id=kid, signature=signature))


def _rehash_from(bind, dialect: str, first_id: int, after_id: int, start_hash: str) -> str:
    """Recompute the legacy SHA-256 hashes from ``first_id`` on (after the redaction)."""
    before = bind.execute(text("SELECT hash FROM audit_event WHERE id < :f AND id > :a ORDER BY id DESC LIMIT 1"),
                          {"f": first_id, "a": after_id}).scalar()
    prev = before or start_hash
    rows = bind.execute(text(f"SELECT id, {raw_columns(dialect)} FROM audit_event WHERE id >= :f "
                             "AND key_id IS NULL ORDER BY id"), {"f": first_id}).all()
    updates = []
    for row in rows:
        items = [prev, *row[2:]]
        prev = hashlib.sha256(encode_canonical(items).encode("utf-8")).hexdigest()
        updates.append({"id": row[0], "p": items[0], "h": prev})
    if updates:
        bind.execute(text("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE id = :id"), updates)
    return prev
