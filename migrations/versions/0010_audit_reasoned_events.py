"""A partial index on audit events that carry a reason (emergency overrides, exports, reviews).

The auditor's list of consent overrides (/audit/overrides) reads referral_sent events with a
reason; at Seoul scale it walked all ~150,000 referral_sent events for the page and again for the
count (1.1 s), though only a few dozen events in five million carry a reason.  A partial index on
(action, occurred_at) WHERE reason IS NOT NULL holds just those rows: both queries read it alone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 18:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

REASONED = "reason IS NOT NULL"


def upgrade():
    op.create_index("ix_audit_event_reasoned", "audit_event", ["action", "occurred_at"], unique=False,
                    sqlite_where=sa.text(REASONED), postgresql_where=sa.text(REASONED))


def downgrade():
    op.drop_index("ix_audit_event_reasoned", table_name="audit_event")
