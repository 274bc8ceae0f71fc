"""Statistics (issue 14): satisfaction surveys of closed cases (만족도 조사).

One row per case and party (student, parent) with a score of 1-5, the survey day and an
encrypted comment; the statistics pages read the scores by the survey day.

Indexes for the statistics, which aggregate a whole office or the city by period: cases by
request day (with school, status and risk, so the cohort is read from the index), selections
and first accepted matches per case, and referrals by the day they were sent with every column
the figures read (a covering index: no table lookups for ~70,000 referrals a year).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 20:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_satisfaction',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.String(length=10), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('surveyed_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('comment_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_case_satisfaction_case_id_support_case')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'],
                            name=op.f('fk_case_satisfaction_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_satisfaction')),
    sa.UniqueConstraint('case_id', 'party', name='uq_case_satisfaction_party'),
    sa.UniqueConstraint('uid', name=op.f('uq_case_satisfaction_uid'))
    )
    with op.batch_alter_table('case_satisfaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_satisfaction_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_satisfaction_surveyed_on'), ['surveyed_on'], unique=False)
    op.create_index("ix_support_case_report", "support_case", ["requested_on", "school_id", "status", "risk_level"])
    op.create_index("ix_case_selection_case_selected", "case_selection", ["case_id", "selected", "meeting_on"])
    op.create_index("ix_guardian_assignment_case_accepted", "guardian_assignment", ["case_id", "accepted_at"])
    op.create_index("ix_referral_report", "referral",
                    ["sent_at", "case_id", "status", "agency_id", "respond_by", "responded_at"])


def downgrade():
    op.drop_index("ix_referral_report", table_name="referral")
    op.drop_index("ix_guardian_assignment_case_accepted", table_name="guardian_assignment")
    op.drop_index("ix_case_selection_case_selected", table_name="case_selection")
    op.drop_index("ix_support_case_report", table_name="support_case")
    with op.batch_alter_table('case_satisfaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_satisfaction_surveyed_on'))
        batch_op.drop_index(batch_op.f('ix_case_satisfaction_case_id'))
    op.drop_table('case_satisfaction')
