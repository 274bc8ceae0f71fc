"""Case transfers (전학, issue 16 part 3): case_transfer, one row per sending of a case to
another school, with its answer (accepted or returned) and the encrypted note, contact and
return reason.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 06:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('from_school_id', sa.Integer(), nullable=False),
    sa.Column('to_school_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('with_data', sa.Boolean(), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('overdue_alerted_on', sa.Date(), nullable=True),
    sa.Column('return_reason_enc', sa.Text(), nullable=True),
    sa.Column('note_enc', sa.Text(), nullable=True),
    sa.Column('contact_enc', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_case_transfer_case_id_support_case')),
    sa.ForeignKeyConstraint(['student_id'], ['student.id'], name=op.f('fk_case_transfer_student_id_student')),
    sa.ForeignKeyConstraint(['from_school_id'], ['organisation.id'],
                            name=op.f('fk_case_transfer_from_school_id_organisation')),
    sa.ForeignKeyConstraint(['to_school_id'], ['organisation.id'],
                            name=op.f('fk_case_transfer_to_school_id_organisation')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['user_account.id'], name=op.f('fk_case_transfer_sent_by_id_user_account')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user_account.id'],
                            name=op.f('fk_case_transfer_answered_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_transfer')),
    sa.UniqueConstraint('uid', name=op.f('uq_case_transfer_uid'))
    )
    op.create_index(op.f('ix_case_transfer_case_id'), 'case_transfer', ['case_id'])
    op.create_index(op.f('ix_case_transfer_student_id'), 'case_transfer', ['student_id'])
    op.create_index('ix_case_transfer_to_status', 'case_transfer', ['to_school_id', 'status', 'due_on'])
    op.create_index('ix_case_transfer_from_status', 'case_transfer', ['from_school_id', 'status', 'due_on'])
    op.create_index('ix_case_transfer_status_due', 'case_transfer', ['status', 'due_on'])


def downgrade():
    op.drop_index('ix_case_transfer_status_due', table_name='case_transfer')
    op.drop_index('ix_case_transfer_from_status', table_name='case_transfer')
    op.drop_index('ix_case_transfer_to_status', table_name='case_transfer')
    op.drop_index(op.f('ix_case_transfer_student_id'), table_name='case_transfer')
    op.drop_index(op.f('ix_case_transfer_case_id'), table_name='case_transfer')
    op.drop_table('case_transfer')
