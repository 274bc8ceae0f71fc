"""Education guardians (roster, record checks, assignments, activity logs) and notifications;
guardian needs and preference on support cases.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:47:49.224264

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('guardian',
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('office_code', sa.String(length=32), nullable=False),
    sa.Column('gu_id', sa.Integer(), nullable=True),
    sa.Column('dong', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('gender', sa.String(length=8), nullable=True),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('experience', sa.JSON(), nullable=False),
    sa.Column('availability', sa.JSON(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('training_hours', sa.Integer(), nullable=False),
    sa.Column('status_note', sa.String(length=200), nullable=True),
    sa.Column('name_enc', sa.Text(), nullable=True),
    sa.Column('phone_enc', sa.Text(), nullable=True),
    sa.Column('address_enc', sa.Text(), nullable=True),
    sa.Column('birth_date_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['gu_id'], ['gu.id'], name=op.f('fk_guardian_gu_id_gu')),
    sa.ForeignKeyConstraint(['office_code'], ['district_office.code'], name=op.f('fk_guardian_office_code_district_office')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_guardian_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guardian')),
    sa.UniqueConstraint('uid', name=op.f('uq_guardian_uid')),
    sa.UniqueConstraint('user_id', name=op.f('uq_guardian_user_id'))
    )
    with op.batch_alter_table('guardian', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guardian_gu_id'), ['gu_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_guardian_office_code'), ['office_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_guardian_status'), ['status'], unique=False)

    op.create_table('guardian_assignment',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('score_parts', sa.JSON(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('declined_reason', sa.String(length=300), nullable=True),
    sa.Column('suspended_reason', sa.String(length=20), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('close_reason', sa.String(length=20), nullable=True),
    sa.Column('rematchable', sa.Boolean(), nullable=False),
    sa.Column('next_meeting_on', sa.Date(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_guardian_assignment_case_id_support_case')),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardian.id'], name=op.f('fk_guardian_assignment_guardian_id_guardian')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user_account.id'], name=op.f('fk_guardian_assignment_proposed_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guardian_assignment')),
    sa.UniqueConstraint('uid', name=op.f('uq_guardian_assignment_uid'))
    )
    with op.batch_alter_table('guardian_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guardian_assignment_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_guardian_assignment_guardian_id'), ['guardian_id'], unique=False)
        batch_op.create_index('ix_guardian_assignment_guardian_status', ['guardian_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_guardian_assignment_status'), ['status'], unique=False)

    op.create_table('guardian_conflict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardian.id'], name=op.f('fk_guardian_conflict_guardian_id_guardian')),
    sa.ForeignKeyConstraint(['school_id'], ['organisation.id'], name=op.f('fk_guardian_conflict_school_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guardian_conflict')),
    sa.UniqueConstraint('guardian_id', 'school_id', name=op.f('uq_guardian_conflict_guardian_id'))
    )
    with op.batch_alter_table('guardian_conflict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guardian_conflict_guardian_id'), ['guardian_id'], unique=False)

    op.create_table('notification',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('guardian_id', sa.Integer(), nullable=True),
    sa.Column('link', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=120), nullable=True),
    sa.Column('text_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_notification_case_id_support_case')),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardian.id'], name=op.f('fk_notification_guardian_id_guardian')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_dedupe_key')),
    sa.UniqueConstraint('uid', name=op.f('uq_notification_uid'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_unread', ['user_id', 'read_at'], unique=False)

    op.create_table('record_check',
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('consent_on', sa.Date(), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('result', sa.String(length=12), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('reference_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardian.id'], name=op.f('fk_record_check_guardian_id_guardian')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['user_account.id'], name=op.f('fk_record_check_verified_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_check')),
    sa.UniqueConstraint('uid', name=op.f('uq_record_check_uid'))
    )
    with op.batch_alter_table('record_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_check_guardian_id'), ['guardian_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_check_valid_until'), ['valid_until'], unique=False)

    op.create_table('guardian_activity',
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('concern', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('notes_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['guardian_assignment.id'], name=op.f('fk_guardian_activity_assignment_id_guardian_assignment')),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_guardian_activity_case_id_support_case')),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardian.id'], name=op.f('fk_guardian_activity_guardian_id_guardian')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guardian_activity')),
    sa.UniqueConstraint('uid', name=op.f('uq_guardian_activity_uid'))
    )
    with op.batch_alter_table('guardian_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guardian_activity_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_guardian_activity_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_guardian_activity_guardian_day', ['guardian_id', 'occurred_on'], unique=False)

    with op.batch_alter_table('support_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guardians_needed', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('guardian_gender_preference', sa.String(length=8), nullable=True))



def downgrade():
    with op.batch_alter_table('support_case', schema=None) as batch_op:
        batch_op.drop_column('guardian_gender_preference')
        batch_op.drop_column('guardians_needed')

    with op.batch_alter_table('guardian_activity', schema=None) as batch_op:
        batch_op.drop_index('ix_guardian_activity_guardian_day')
        batch_op.drop_index(batch_op.f('ix_guardian_activity_case_id'))
        batch_op.drop_index(batch_op.f('ix_guardian_activity_assignment_id'))

    op.drop_table('guardian_activity')
    with op.batch_alter_table('record_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_check_valid_until'))
        batch_op.drop_index(batch_op.f('ix_record_check_guardian_id'))

    op.drop_table('record_check')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_unread')

    op.drop_table('notification')
    with op.batch_alter_table('guardian_conflict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guardian_conflict_guardian_id'))

    op.drop_table('guardian_conflict')
    with op.batch_alter_table('guardian_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guardian_assignment_status'))
        batch_op.drop_index('ix_guardian_assignment_guardian_status')
        batch_op.drop_index(batch_op.f('ix_guardian_assignment_guardian_id'))
        batch_op.drop_index(batch_op.f('ix_guardian_assignment_case_id'))

    op.drop_table('guardian_assignment')
    with op.batch_alter_table('guardian', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guardian_status'))
        batch_op.drop_index(batch_op.f('ix_guardian_office_code'))
        batch_op.drop_index(batch_op.f('ix_guardian_gu_id'))

    op.drop_table('guardian')
