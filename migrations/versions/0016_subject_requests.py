"""열람·정정 requests (개인정보 보호법 제35·36조): subject_request (issue 16, part 2).

One row per request about one student; the deadline (영 제41조④, 10 days) is a plain date so
ix_subject_request_school_status_due serves the lead's list and home (open requests by deadline).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 06:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('subject_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('requested_by', sa.String(length=10), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('identity_method', sa.String(length=20), nullable=False),
    sa.Column('identity_note_enc', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('correction_asked_enc', sa.Text(), nullable=True),
    sa.Column('decision_reason_enc', sa.Text(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['organisation.id'], name=op.f('fk_subject_request_school_id_organisation')),
    sa.ForeignKeyConstraint(['student_id'], ['student.id'], name=op.f('fk_subject_request_student_id_student')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'],
                            name=op.f('fk_subject_request_recorded_by_id_user_account')),
    sa.ForeignKeyConstraint(['completed_by_id'], ['user_account.id'],
                            name=op.f('fk_subject_request_completed_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_request')),
    sa.UniqueConstraint('uid', name=op.f('uq_subject_request_uid'))
    )
    op.create_index('ix_subject_request_school_status_due', 'subject_request', ['school_id', 'status', 'due_on'])
    op.create_index(op.f('ix_subject_request_student_id'), 'subject_request', ['student_id'])


def downgrade():
    op.drop_index(op.f('ix_subject_request_student_id'), table_name='subject_request')
    op.drop_index('ix_subject_request_school_status_due', table_name='subject_request')
    op.drop_table('subject_request')
