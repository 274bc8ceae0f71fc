"""Case conferences (통합사례협의회): cases discussed with decisions, participants, action items.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 13:19:45.831653

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('conference',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('office_code', sa.String(length=32), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('online_link', sa.String(length=300), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('held_at', sa.DateTime(), nullable=True),
    sa.Column('minutes_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_conference_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['office_code'], ['district_office.code'], name=op.f('fk_conference_office_code_district_office')),
    sa.ForeignKeyConstraint(['organiser_id'], ['organisation.id'], name=op.f('fk_conference_organiser_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conference')),
    sa.UniqueConstraint('uid', name=op.f('uq_conference_uid'))
    )
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conference_office_code'), ['office_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_conference_organiser_id'), ['organiser_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conference_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_conference_status'), ['status'], unique=False)

    op.create_table('conference_case',
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=12), nullable=True),
    sa.Column('next_review_on', sa.Date(), nullable=True),
    sa.Column('decision_note_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_conference_case_case_id_support_case')),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_conference_case_conference_id_conference')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conference_case')),
    sa.UniqueConstraint('conference_id', 'case_id', name=op.f('uq_conference_case_conference_id')),
    sa.UniqueConstraint('uid', name=op.f('uq_conference_case_uid'))
    )
    with op.batch_alter_table('conference_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conference_case_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conference_case_conference_id'), ['conference_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conference_case_next_review_on'), ['next_review_on'], unique=False)

    op.create_table('conference_participant',
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('attended', sa.Boolean(), nullable=True),
    sa.Column('external_name_enc', sa.Text(), nullable=True),
    sa.Column('external_organisation_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_conference_participant_conference_id_conference')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_conference_participant_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conference_participant')),
    sa.UniqueConstraint('uid', name=op.f('uq_conference_participant_uid'))
    )
    with op.batch_alter_table('conference_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conference_participant_conference_id'), ['conference_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conference_participant_user_id'), ['user_id'], unique=False)

    op.create_table('conference_action_item',
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('owner_kind', sa.String(length=12), nullable=False),
    sa.Column('owner_user_id', sa.Integer(), nullable=True),
    sa.Column('owner_agency_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('plan_action_id', sa.Integer(), nullable=True),
    sa.Column('description_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_conference_action_item_case_id_support_case')),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_conference_action_item_conference_id_conference')),
    sa.ForeignKeyConstraint(['owner_agency_id'], ['organisation.id'], name=op.f('fk_conference_action_item_owner_agency_id_organisation')),
    sa.ForeignKeyConstraint(['owner_user_id'], ['user_account.id'], name=op.f('fk_conference_action_item_owner_user_id_user_account')),
    sa.ForeignKeyConstraint(['plan_action_id'], ['plan_action.id'], name=op.f('fk_conference_action_item_plan_action_id_plan_action')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conference_action_item')),
    sa.UniqueConstraint('uid', name=op.f('uq_conference_action_item_uid'))
    )
    with op.batch_alter_table('conference_action_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conference_action_item_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conference_action_item_conference_id'), ['conference_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conference_action_item_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_conference_action_item_owner_user_id'), ['owner_user_id'], unique=False)
        batch_op.create_index('ix_conference_action_item_status_due', ['status', 'due_on'], unique=False)



def downgrade():
    with op.batch_alter_table('conference_action_item', schema=None) as batch_op:
        batch_op.drop_index('ix_conference_action_item_status_due')
        batch_op.drop_index(batch_op.f('ix_conference_action_item_owner_user_id'))
        batch_op.drop_index(batch_op.f('ix_conference_action_item_due_on'))
        batch_op.drop_index(batch_op.f('ix_conference_action_item_conference_id'))
        batch_op.drop_index(batch_op.f('ix_conference_action_item_case_id'))

    op.drop_table('conference_action_item')
    with op.batch_alter_table('conference_participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conference_participant_user_id'))
        batch_op.drop_index(batch_op.f('ix_conference_participant_conference_id'))

    op.drop_table('conference_participant')
    with op.batch_alter_table('conference_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conference_case_next_review_on'))
        batch_op.drop_index(batch_op.f('ix_conference_case_conference_id'))
        batch_op.drop_index(batch_op.f('ix_conference_case_case_id'))

    op.drop_table('conference_case')
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conference_status'))
        batch_op.drop_index(batch_op.f('ix_conference_starts_at'))
        batch_op.drop_index(batch_op.f('ix_conference_organiser_id'))
        batch_op.drop_index(batch_op.f('ix_conference_office_code'))

    op.drop_table('conference')
