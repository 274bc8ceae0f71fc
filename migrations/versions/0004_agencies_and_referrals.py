"""Agency directory (HSDS-like services and service areas) and closed-loop referrals with
service records.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 13:07:08.718430

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agency_service',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('domains', sa.JSON(), nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=True),
    sa.Column('max_age', sa.Integer(), nullable=True),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('capacity_status', sa.String(length=12), nullable=False),
    sa.Column('schedule', sa.String(length=200), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('contact_email', sa.String(length=120), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('last_confirmed_on', sa.Date(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_agency_service_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_service')),
    sa.UniqueConstraint('uid', name=op.f('uq_agency_service_uid'))
    )
    with op.batch_alter_table('agency_service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_service_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('agency_service_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('gu_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['gu_id'], ['gu.id'], name=op.f('fk_agency_service_area_gu_id_gu')),
    sa.ForeignKeyConstraint(['service_id'], ['agency_service.id'], name=op.f('fk_agency_service_area_service_id_agency_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_service_area')),
    sa.UniqueConstraint('service_id', 'gu_id', name=op.f('uq_agency_service_area_service_id'))
    )
    with op.batch_alter_table('agency_service_area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_service_area_gu_id'), ['gu_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agency_service_area_service_id'), ['service_id'], unique=False)

    op.create_table('referral',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('shared_items', sa.JSON(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('respond_by', sa.Date(), nullable=True),
    sa.Column('responded_at', sa.DateTime(), nullable=True),
    sa.Column('responded_by_id', sa.Integer(), nullable=True),
    sa.Column('decline_reason', sa.String(length=24), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('consent_withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('override_by_id', sa.Integer(), nullable=True),
    sa.Column('reason_enc', sa.Text(), nullable=True),
    sa.Column('shared_enc', sa.Text(), nullable=True),
    sa.Column('decline_comment_enc', sa.Text(), nullable=True),
    sa.Column('override_reason_enc', sa.Text(), nullable=True),
    sa.Column('outcome_note_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['organisation.id'], name=op.f('fk_referral_agency_id_organisation')),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_referral_case_id_support_case')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_referral_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['override_by_id'], ['user_account.id'], name=op.f('fk_referral_override_by_id_user_account')),
    sa.ForeignKeyConstraint(['responded_by_id'], ['user_account.id'], name=op.f('fk_referral_responded_by_id_user_account')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['user_account.id'], name=op.f('fk_referral_sent_by_id_user_account')),
    sa.ForeignKeyConstraint(['service_id'], ['agency_service.id'], name=op.f('fk_referral_service_id_agency_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral')),
    sa.UniqueConstraint('uid', name=op.f('uq_referral_uid'))
    )
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index('ix_referral_agency_status', ['agency_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_referral_status_respond_by', ['status', 'respond_by'], unique=False)

    op.create_table('referral_service_record',
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('note_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_referral_service_record_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_referral_service_record_referral_id_referral')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_service_record')),
    sa.UniqueConstraint('uid', name=op.f('uq_referral_service_record_uid'))
    )
    with op.batch_alter_table('referral_service_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_service_record_referral_id'), ['referral_id'], unique=False)



def downgrade():
    with op.batch_alter_table('referral_service_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_service_record_referral_id'))

    op.drop_table('referral_service_record')
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_status_respond_by')
        batch_op.drop_index(batch_op.f('ix_referral_case_id'))
        batch_op.drop_index('ix_referral_agency_status')

    op.drop_table('referral')
    with op.batch_alter_table('agency_service_area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_service_area_service_id'))
        batch_op.drop_index(batch_op.f('ix_agency_service_area_gu_id'))

    op.drop_table('agency_service_area')
    with op.batch_alter_table('agency_service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_service_organisation_id'))

    op.drop_table('agency_service')
