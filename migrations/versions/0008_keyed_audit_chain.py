"""Keyed audit chain, signed checkpoints, override reason categories.

- audit_event.key_id: the key ring's audit key that sealed the event (HMAC-SHA256); NULL only for
  the legacy SHA-256 events before the switch point
- audit_checkpoint.key_id / signature: a checkpoint is signed with the audit key
- referral.override_category: the category of an emergency override (the text stays encrypted)
- triggers (SQLite and PostgreSQL): a checkpoint is refused when its purged_before is younger than
  the legal retention period (2 years, by the database clock), or when the newest audit event is not
  its own audit_purged event (PostgreSQL also requires that event to come from the same
  transaction, via xmin); DELETE reaches only events a checkpoint covers by id AND by time
- the one-time re-seal (app.audit.seal.reseal, documented there and in the README): verifies the
  legacy chain, signs existing checkpoints, replaces plaintext override reasons in referral_sent
  events by the category "기타", recomputes the legacy SHA-256 hashes from the first changed
  event, and appends one keyed audit_chain_resealed event naming all of it.

Needs the key ring with an audit key ('flask keys rotate --audit' adds one to an older ring).
Downgrade drops the columns and restores the old triggers; redacted reasons stay redacted.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

#: the legal minimum (개인정보의 안전성 확보조치 기준: 접속기록 2년); config may keep longer
RETENTION_YEARS = 2

SQLITE_OLD_TRIGGERS = {
    "audit_event_no_update": """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
    "audit_event_no_delete": """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       WHEN OLD.id > (SELECT COALESCE(MAX(last_event_id), 0) FROM audit_checkpoint)
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only; purge only through a checkpoint'); END""",
    "audit_checkpoint_no_update": """CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
       BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only'); END""",
}

SQLITE_NEW_TRIGGERS = [
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       WHEN OLD.id > (SELECT COALESCE(MAX(last_event_id), 0) FROM audit_checkpoint)
         OR OLD.occurred_at >= (SELECT COALESCE(MAX(purged_before), '') FROM audit_checkpoint)
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only; purge only through a checkpoint'); END""",
    f"""CREATE TRIGGER audit_checkpoint_retention BEFORE INSERT ON audit_checkpoint
       WHEN NEW.purged_before > strftime('%Y-%m-%d %H:%M:%f', 'now', '-{RETENTION_YEARS} years')
       BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is younger than the retention period'); END""",
    # the purge records its audit_purged event first; the checkpoint must follow it directly
    """CREATE TRIGGER audit_checkpoint_needs_purge_event BEFORE INSERT ON audit_checkpoint
       WHEN NOT EXISTS (SELECT 1 FROM audit_event e
                        WHERE e.id = (SELECT MAX(id) FROM audit_event) AND e.action = 'audit_purged'
                          AND json_extract(e.details, '$.last_event_id') = NEW.last_event_id
                          AND json_extract(e.details, '$.last_event_hash') = NEW.last_event_hash
                          AND json_extract(e.details, '$.events_removed') = NEW.events_removed)
       BEGIN SELECT RAISE(ABORT, 'audit_checkpoint needs its audit_purged event first'); END""",
]

# nested IFs: OLD.occurred_at exists only on audit_event, and PL/pgSQL does not short-circuit AND
POSTGRES_REFUSE = """CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_event' THEN
           IF OLD.id <= (SELECT COALESCE(MAX(last_event_id), 0) FROM audit_checkpoint){time_rule} THEN
             RETURN OLD;
           END IF;
         END IF;
         RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
       END $$"""
POSTGRES_TIME_RULE = "\n              AND OLD.occurred_at < (SELECT MAX(purged_before) FROM audit_checkpoint)"

POSTGRES_CHECKPOINT_GUARD = [
    f"""CREATE FUNCTION audit_checkpoint_guard() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.purged_before > (now() AT TIME ZONE 'UTC') - interval '{RETENTION_YEARS} years' THEN
           RAISE EXCEPTION 'audit_checkpoint is younger than the retention period';
         END IF;
         -- its audit_purged event: the newest event, written by this very transaction
         IF NOT EXISTS (SELECT 1 FROM audit_event e
                        WHERE e.id = (SELECT MAX(id) FROM audit_event) AND e.action = 'audit_purged'
                          AND e.xmin::text = (txid_current() % 4294967296)::text
                          AND (e.details::json ->> 'last_event_id')::bigint = NEW.last_event_id
                          AND e.details::json ->> 'last_event_hash' = NEW.last_event_hash
                          AND (e.details::json ->> 'events_removed')::int = NEW.events_removed) THEN
           RAISE EXCEPTION 'audit_checkpoint needs its audit_purged event in the same transaction';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER audit_checkpoint_guard BEFORE INSERT ON audit_checkpoint
       FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_guard()""",
]
POSTGRES_APPEND_ONLY = {
    "audit_event": """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
       FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
    "audit_checkpoint": """CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
       FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
}


def _lift_append_only(pg: bool) -> None:
    if pg:
        for table in POSTGRES_APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    else:
        for name in SQLITE_OLD_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")


def upgrade():
    from app.audit.seal import reseal  # needs the app context flask db upgrade runs in (the key ring)
    from app.audit.services import keyring
    # before any change: a ring from before issue 12 has no audit key ('flask keys rotate --audit')
    keyring().audit_key()
    pg = op.get_bind().dialect.name == "postgresql"
    op.add_column('audit_event', sa.Column('key_id', sa.String(length=32), nullable=True))
    op.add_column('audit_checkpoint', sa.Column('key_id', sa.String(length=32), nullable=True))
    op.add_column('audit_checkpoint', sa.Column('signature', sa.String(length=64), nullable=True))
    op.add_column('referral', sa.Column('override_category', sa.String(length=24), nullable=True))
    op.execute("UPDATE referral SET override_category = 'other' WHERE override_by_id IS NOT NULL")

    _lift_append_only(pg)
    reseal(op.get_bind())

    if pg:
        op.execute(POSTGRES_REFUSE.format(time_rule=POSTGRES_TIME_RULE))
        for statement in POSTGRES_APPEND_ONLY.values():
            op.execute(statement)
        for statement in POSTGRES_CHECKPOINT_GUARD:
            op.execute(statement)
    else:
        op.execute(SQLITE_OLD_TRIGGERS["audit_event_no_update"])
        op.execute(SQLITE_OLD_TRIGGERS["audit_checkpoint_no_update"])
        for statement in SQLITE_NEW_TRIGGERS:
            op.execute(statement)


def downgrade():
    # events sealed with a keyed hash cannot become the 0007 chain again: the column goes, the
    # hashes stay, and the 0007 chain would be broken from its first event.  Refuse instead.
    if op.get_bind().execute(sa.text("SELECT 1 FROM audit_event LIMIT 1")).first():
        raise RuntimeError("audit events are sealed with keyed hashes that the older chain cannot verify; "
                           "restore a backup instead")
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute("DROP TRIGGER audit_checkpoint_guard ON audit_checkpoint")
        op.execute("DROP FUNCTION audit_checkpoint_guard()")
        op.execute(POSTGRES_REFUSE.format(time_rule=""))
    else:
        for name in ("audit_checkpoint_retention", "audit_checkpoint_needs_purge_event", "audit_event_no_delete"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute(SQLITE_OLD_TRIGGERS["audit_event_no_delete"])
    op.drop_column('referral', 'override_category')
    op.drop_column('audit_checkpoint', 'signature')
    op.drop_column('audit_checkpoint', 'key_id')
    op.drop_column('audit_event', 'key_id')
