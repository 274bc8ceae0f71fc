"""Retention (학생맞춤통합지원법 시행령 제10조⑤): each student's retention date and rule, legal holds,
the tombstones of removed students, and their cases as de-identified facts for statistics (issue 16).

No backfill here: the age rule needs the encrypted birth date, which a migration cannot read.
``flask retention refresh`` computes the rows of existing students (and the daily
``flask retention run`` refreshes missing rows before it looks for due students).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 06:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('student_retention',
    sa.Column('student_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('rule', sa.String(length=12), nullable=False),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('missing', sa.String(length=12), nullable=True),
    sa.Column('grade_year', sa.Integer(), nullable=False),
    sa.Column('left_school_on', sa.Date(), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['student.id'], name=op.f('fk_student_retention_student_id_student')),
    sa.PrimaryKeyConstraint('student_id', name=op.f('pk_student_retention'))
    )
    op.create_index(op.f('ix_student_retention_until'), 'student_retention', ['until'])
    op.create_table('legal_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('reason_enc', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['set_by_id'], ['user_account.id'], name=op.f('fk_legal_hold_set_by_id_user_account')),
    sa.ForeignKeyConstraint(['student_id'], ['student.id'], name=op.f('fk_legal_hold_student_id_student')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_hold')),
    sa.UniqueConstraint('uid', name=op.f('uq_legal_hold_uid'))
    )
    op.create_index(op.f('ix_legal_hold_student_id'), 'legal_hold', ['student_id'])
    op.create_index('ix_legal_hold_student_ends', 'legal_hold', ['student_id', 'ends_on'])
    op.create_table('retention_tombstone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('removed_at', sa.DateTime(), nullable=False),
    sa.Column('rule', sa.String(length=12), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('office_code', sa.String(length=32), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['organisation.id'], name=op.f('fk_retention_tombstone_school_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_tombstone')),
    sa.UniqueConstraint('uid', name=op.f('uq_retention_tombstone_uid'))
    )
    op.create_index(op.f('ix_retention_tombstone_school_id'), 'retention_tombstone', ['school_id'])
    op.create_table('retention_case_fact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tombstone_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('office_code', sa.String(length=32), nullable=True),
    sa.Column('gu_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('risk_level', sa.String(length=20), nullable=False),
    sa.Column('requested_month', sa.Date(), nullable=False),
    sa.Column('closed_month', sa.Date(), nullable=True),
    sa.Column('close_reason', sa.String(length=20), nullable=True),
    sa.Column('needs', sa.JSON(), nullable=False),
    sa.Column('selections', sa.JSON(), nullable=False),
    sa.Column('referrals', sa.JSON(), nullable=False),
    sa.Column('assignments', sa.JSON(), nullable=False),
    sa.Column('satisfaction', sa.JSON(), nullable=False),
    sa.Column('decisions', sa.JSON(), nullable=False),
    sa.Column('action_items', sa.JSON(), nullable=False),
    sa.Column('conferences', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['organisation.id'], name=op.f('fk_retention_case_fact_school_id_organisation')),
    sa.ForeignKeyConstraint(['tombstone_id'], ['retention_tombstone.id'],
                            name=op.f('fk_retention_case_fact_tombstone_id_retention_tombstone')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_case_fact'))
    )
    op.create_index(op.f('ix_retention_case_fact_school_id'), 'retention_case_fact', ['school_id'])
    op.create_index(op.f('ix_retention_case_fact_tombstone_id'), 'retention_case_fact', ['tombstone_id'])


def downgrade():
    op.drop_index(op.f('ix_retention_case_fact_tombstone_id'), table_name='retention_case_fact')
    op.drop_index(op.f('ix_retention_case_fact_school_id'), table_name='retention_case_fact')
    op.drop_table('retention_case_fact')
    op.drop_index(op.f('ix_retention_tombstone_school_id'), table_name='retention_tombstone')
    op.drop_table('retention_tombstone')
    op.drop_index('ix_legal_hold_student_ends', table_name='legal_hold')
    op.drop_index(op.f('ix_legal_hold_student_id'), table_name='legal_hold')
    op.drop_table('legal_hold')
    op.drop_index(op.f('ix_student_retention_until'), table_name='student_retention')
    op.drop_table('student_retention')
