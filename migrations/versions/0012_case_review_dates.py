"""Each case's current review date, kept by school and office; two indexes of the homes (issue 13).

The district coordinator's home listed its upcoming case reviews by probing the review dates of
every case of the office (~9,000 at Seoul scale, ~20 ms per page).  case_review holds one row per
case with a current review: the date decided by its latest held conference, with the case's
school and office, so the homes read one index range in date order.  The conference services
keep it in the transaction that records or amends a conference (app/conferences/reviews.py);
this migration fills it from the decisions recorded so far.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 22:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# the same rule as app/conferences/reviews.py: the latest held conference (by start, then id) decides
BACKFILL = """
INSERT INTO case_review (case_id, conference_case_id, school_id, office_code, review_on)
SELECT cc.case_id, cc.id, sc.school_id, o.office_code, cc.next_review_on
FROM conference_case cc
JOIN conference c ON c.id = cc.conference_id
JOIN support_case sc ON sc.id = cc.case_id
JOIN organisation o ON o.id = sc.school_id
WHERE c.status = 'held' AND cc.next_review_on IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM conference_case l JOIN conference lc ON lc.id = l.conference_id
    WHERE l.case_id = cc.case_id AND lc.status = 'held'
      AND (lc.starts_at > c.starts_at OR (lc.starts_at = c.starts_at AND lc.id > c.id)))
"""


def upgrade():
    op.create_table('case_review',
    sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('conference_case_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('office_code', sa.String(length=32), nullable=False),
    sa.Column('review_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_case_review_case_id_support_case')),
    sa.ForeignKeyConstraint(['conference_case_id'], ['conference_case.id'],
                            name=op.f('fk_case_review_conference_case_id_conference_case')),
    sa.ForeignKeyConstraint(['school_id'], ['organisation.id'], name=op.f('fk_case_review_school_id_organisation')),
    sa.ForeignKeyConstraint(['office_code'], ['district_office.code'],
                            name=op.f('fk_case_review_office_code_district_office')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_review')),
    sa.UniqueConstraint('conference_case_id', name=op.f('uq_case_review_conference_case_id'))
    )
    op.create_index('ix_case_review_office', 'case_review', ['office_code', 'review_on', 'case_id'])
    op.create_index('ix_case_review_school', 'case_review', ['school_id', 'review_on', 'case_id'])
    op.execute(BACKFILL)
    # the district home's other slow reads at Seoul scale: the office's escalated cases (3.6 ms ->
    # 0.2) and the next scheduled conferences in scope (4.7 ms -> 1.1, in start order)
    op.create_index('ix_support_case_escalation', 'support_case', ['escalation_open', 'school_id'])
    op.create_index('ix_conference_status_starts', 'conference', ['status', 'starts_at'])


def downgrade():
    op.drop_index('ix_conference_status_starts', table_name='conference')
    op.drop_index('ix_support_case_escalation', table_name='support_case')
    op.drop_index('ix_case_review_school', table_name='case_review')
    op.drop_index('ix_case_review_office', table_name='case_review')
    op.drop_table('case_review')
