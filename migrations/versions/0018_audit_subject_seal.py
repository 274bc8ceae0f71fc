"""Audit subject seals and retention tombstones (issue 16).

- audit_event.subject_seal: HMAC (128 bits) of ["subject", subject_ref] under the event's audit key,
  and a partial index (subject_ref, subject_seal, key_id) that verify reads in order.  From
  now on the hash covers the seal in subject_ref's place, so the retention run can replace a
  deleted student's reference by a tombstone ("retained:<uid>") and the chain still verifies;
  verify checks every reference that is not a tombstone against its seal.  Events written
  before this revision have no seal: their hash covers the reference itself, which therefore
  stays (a random uid that names nobody once the student's row is gone).
- the UPDATE triggers (SQLite and PostgreSQL) allow exactly one change: a sealed, not yet
  tombstoned subject_ref becoming a tombstone, every other column unchanged.  Anything else is
  refused as before.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 06:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

#: every column but subject_ref must stay as it is
UNCHANGED = ("id", "occurred_at", "actor_id", "actor_login", "role", "organisation_id", "ip", "action",
             "object_type", "object_id", "outcome", "reason", "request_id", "details", "prev_hash", "hash",
             "key_id", "subject_seal")
TOMBSTONE_ONLY = ("OLD.subject_seal IS NOT NULL AND OLD.subject_ref IS NOT NULL "
                  "AND OLD.subject_ref NOT LIKE 'retained:%' AND NEW.subject_ref LIKE 'retained:%' AND ")

SQLITE_OLD = """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"""
SQLITE_NEW = ("CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event WHEN NOT ("
              + TOMBSTONE_ONLY + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in UNCHANGED)
              + ") BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END")

PG_FUNCTION = ("""CREATE FUNCTION audit_event_tombstone_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF """ + TOMBSTONE_ONLY + "ROW(" + ", ".join(f"NEW.{c}" for c in UNCHANGED) + ") IS NOT DISTINCT FROM ROW("
               + ", ".join(f"OLD.{c}" for c in UNCHANGED) + """) THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'audit_event is append-only';
       END $$""")


def upgrade():
    op.add_column('audit_event', sa.Column('subject_seal', sa.String(length=64), nullable=True))
    op.create_index('ix_audit_event_subject_seal', 'audit_event', ['subject_ref', 'subject_seal', 'key_id'],
                    unique=False, sqlite_where=sa.text('subject_seal IS NOT NULL'),
                    postgresql_where=sa.text('subject_seal IS NOT NULL'))
    if op.get_bind().dialect.name == "postgresql":
        # deletes stay with audit_refuse_change (purges through a checkpoint); updates get their own rule
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute("""CREATE TRIGGER audit_event_append_only BEFORE DELETE ON audit_event
                      FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""")
        op.execute(PG_FUNCTION)
        op.execute("""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
                      FOR EACH ROW EXECUTE FUNCTION audit_event_tombstone_only()""")
    else:
        op.execute("DROP TRIGGER audit_event_no_update")
        op.execute(SQLITE_NEW)


def downgrade():
    # tombstoned events would no longer verify without their seal: refuse rather than break the chain
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM audit_event WHERE subject_seal IS NOT NULL LIMIT 1")).first():
        raise RuntimeError("audit events carry subject seals: their hashes need the column; restore a backup instead")
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_no_update ON audit_event")
        op.execute("DROP FUNCTION audit_event_tombstone_only()")
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute("""CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
                      FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""")
    else:
        op.execute("DROP TRIGGER audit_event_no_update")
        op.execute(SQLITE_OLD)
    op.drop_index('ix_audit_event_subject_seal', table_name='audit_event')
    op.drop_column('audit_event', 'subject_seal')  # as 0008 does (SQLite ALTER TABLE DROP COLUMN)
