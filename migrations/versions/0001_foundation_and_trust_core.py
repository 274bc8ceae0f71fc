"""Foundation and trust core: organisations, users, login throttle, audit trail.

Loads the 11 교육지원청 and 25 자치구 from app/data/seoul_education_offices.csv (a copy of
shared/data), creates an organisation per district office plus the city office, and installs
the triggers that make the audit trail append-only.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
import csv
import datetime as dt
import uuid
from pathlib import Path

from alembic import op
import sqlalchemy as sa

REFERENCE_CSV = Path(__file__).resolve().parents[2] / "app" / "data" / "seoul_education_offices.csv"
CITY_OFFICE = ("SEN", "서울특별시교육청")

SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
    # deletes only through a retention checkpoint that covers the event
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       WHEN OLD.id > (SELECT COALESCE(MAX(last_event_id), 0) FROM audit_checkpoint)
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only; purge only through a checkpoint'); END""",
    """CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
       BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only'); END""",
    """CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
       BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only'); END""",
]

POSTGRES_TRIGGERS = [
    """CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_event' AND OLD.id <=
            (SELECT COALESCE(MAX(last_event_id), 0) FROM audit_checkpoint) THEN
           RETURN OLD;
         END IF;
         RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
       END $$""",
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
       FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
       FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()""",
    """CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
       FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
    """CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
       FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()""",
]


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('purged_before', sa.DateTime(), nullable=False),
    sa.Column('last_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_event_hash', sa.String(length=64), nullable=False),
    sa.Column('events_removed', sa.Integer(), nullable=False),
    sa.Column('actor_login', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_login', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('subject_ref', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_actor_time', ['actor_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_audit_event_action_time', ['action', 'occurred_at'], unique=False)
        batch_op.create_index('ix_audit_event_subject_time', ['subject_ref', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index('ix_audit_event_denied_time', ['occurred_at'], unique=False,
                              sqlite_where=sa.text("outcome = 'denied'"),
                              postgresql_where=sa.text("outcome = 'denied'"))

    op.create_table('district_office',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_ko', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_district_office'))
    )
    op.create_table('login_throttle',
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('login', name=op.f('pk_login_throttle'))
    )
    op.create_table('gu',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_ko', sa.String(length=32), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('office_code', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['office_code'], ['district_office.code'], name=op.f('fk_gu_office_code_district_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gu')),
    sa.UniqueConstraint('name_ko', name=op.f('uq_gu_name_ko'))
    )
    with op.batch_alter_table('gu', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gu_office_code'), ['office_code'], unique=False)

    op.create_table('organisation',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('gu_id', sa.Integer(), nullable=True),
    sa.Column('office_code', sa.String(length=32), nullable=True),
    sa.Column('school_level', sa.String(length=16), nullable=True),
    sa.Column('agency_kind', sa.String(length=40), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['gu_id'], ['gu.id'], name=op.f('fk_organisation_gu_id_gu')),
    sa.ForeignKeyConstraint(['office_code'], ['district_office.code'], name=op.f('fk_organisation_office_code_district_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('code', name=op.f('uq_organisation_code')),
    sa.UniqueConstraint('uid', name=op.f('uq_organisation_uid'))
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_gu_id'), ['gu_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_office_code'), ['office_code'], unique=False)

    op.create_table('user_account',
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('display_name_enc', sa.Text(), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_user_account_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('login', name=op.f('uq_user_account_login')),
    sa.UniqueConstraint('uid', name=op.f('uq_user_account_uid'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_account_role'), ['role'], unique=False)

    op.create_table('audit_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user_account.id'], name=op.f('fk_audit_review_reviewer_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_review')),
    sa.UniqueConstraint('month', name=op.f('uq_audit_review_month'))
    )
    triggers = POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)
    load_reference_data()


def load_reference_data():
    """Seoul's district offices and 자치구, an organisation per office, and the city office."""
    with REFERENCE_CSV.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    offices = {r["office_code"]: (r["office_name_ko"], r["office_name_en"]) for r in rows}
    office_table = sa.table("district_office", sa.column("code"), sa.column("name_ko"), sa.column("name_en"))
    gu_table = sa.table("gu", sa.column("name_ko"), sa.column("name_en"), sa.column("office_code"))
    org_table = sa.table("organisation", sa.column("uid"), sa.column("code"), sa.column("name"),
                         sa.column("kind"), sa.column("office_code"), sa.column("active"),
                         sa.column("created_at"), sa.column("updated_at"))
    op.bulk_insert(office_table, [{"code": c, "name_ko": ko, "name_en": en} for c, (ko, en) in offices.items()])
    op.bulk_insert(gu_table, [{"name_ko": r["gu_ko"], "name_en": r["gu_en"], "office_code": r["office_code"]}
                              for r in rows])
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    orgs = [{"code": CITY_OFFICE[0], "name": CITY_OFFICE[1], "kind": "city_office", "office_code": None}]
    orgs += [{"code": c, "name": ko, "kind": "district_office", "office_code": c} for c, (ko, _en) in offices.items()]
    op.bulk_insert(org_table, [dict(o, uid=str(uuid.uuid4()), active=True, created_at=now, updated_at=now)
                               for o in orgs])


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in ("audit_event", "audit_checkpoint"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_refuse_change()")
    op.drop_table('audit_review')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_role'))
        batch_op.drop_index(batch_op.f('ix_user_account_organisation_id'))

    op.drop_table('user_account')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_office_code'))
        batch_op.drop_index(batch_op.f('ix_organisation_kind'))
        batch_op.drop_index(batch_op.f('ix_organisation_gu_id'))

    op.drop_table('organisation')
    with op.batch_alter_table('gu', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gu_office_code'))

    op.drop_table('gu')
    op.drop_table('login_throttle')
    op.drop_table('district_office')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_denied_time')
        batch_op.drop_index(batch_op.f('ix_audit_event_occurred_at'))
        batch_op.drop_index('ix_audit_event_subject_time')
        batch_op.drop_index('ix_audit_event_action_time')
        batch_op.drop_index('ix_audit_event_actor_time')

    op.drop_table('audit_event')
    op.drop_table('audit_checkpoint')
