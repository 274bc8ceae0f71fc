"""The safeguarding loop: concerns, alert resolution, amendments, no plaintext plan owners.

- guardian_concern: a guardian's concern until it is acknowledged (description, response encrypted)
- notification.object_key / resolved_at: alerts point to their object and resolve when it is handled
- plan_action.owner_label (plain names) is replaced by owner_agency_id; labels are derived at
  render time.  Existing rows get their owner from the conference action item they came from,
  then the plaintext column is dropped (so no name survives in it).
- case_event.link (a chronology line opens its object, e.g. a concern), support_case.withdraw_reason_enc, case_need.resolved_on / added_on, consent.lapse_handled_on,
  guardian_assignment.end_requested_at / end_request_note_enc, conference.cancelled_at /
  cancel_reason_enc, conference_amendment (earlier versions of a recorded meeting)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 13:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('guardian_concern',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.Column('escalated_at', sa.DateTime(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('description_enc', sa.Text(), nullable=True),
    sa.Column('response_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['user_account.id'], name=op.f('fk_guardian_concern_acknowledged_by_id_user_account')),
    sa.ForeignKeyConstraint(['activity_id'], ['guardian_activity.id'], name=op.f('fk_guardian_concern_activity_id_guardian_activity')),
    sa.ForeignKeyConstraint(['assignment_id'], ['guardian_assignment.id'], name=op.f('fk_guardian_concern_assignment_id_guardian_assignment')),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_guardian_concern_case_id_support_case')),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardian.id'], name=op.f('fk_guardian_concern_guardian_id_guardian')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guardian_concern')),
    sa.UniqueConstraint('activity_id', name=op.f('uq_guardian_concern_activity_id')),
    sa.UniqueConstraint('uid', name=op.f('uq_guardian_concern_uid'))
    )
    with op.batch_alter_table('guardian_concern', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guardian_concern_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_guardian_concern_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_guardian_concern_guardian_id'), ['guardian_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_guardian_concern_status'), ['status'], unique=False)

    op.create_table('conference_amendment',
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('amended_at', sa.DateTime(), nullable=False),
    sa.Column('amended_by_id', sa.Integer(), nullable=False),
    sa.Column('reason_enc', sa.Text(), nullable=True),
    sa.Column('previous_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['amended_by_id'], ['user_account.id'], name=op.f('fk_conference_amendment_amended_by_id_user_account')),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_conference_amendment_conference_id_conference')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conference_amendment')),
    sa.UniqueConstraint('uid', name=op.f('uq_conference_amendment_uid'))
    )
    with op.batch_alter_table('conference_amendment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conference_amendment_conference_id'), ['conference_id'], unique=False)

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('object_key', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_object_key'), ['object_key'], unique=False)
        batch_op.create_index('ix_notification_case', ['case_id'], unique=False)

    with op.batch_alter_table('support_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdraw_reason_enc', sa.Text(), nullable=True))
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link', sa.String(length=200), nullable=True))
    with op.batch_alter_table('case_need', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('added_on', sa.Date(), nullable=True))
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lapse_handled_on', sa.Date(), nullable=True))
    with op.batch_alter_table('guardian_assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_requested_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('end_request_note_enc', sa.Text(), nullable=True))
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason_enc', sa.Text(), nullable=True))

    with op.batch_alter_table('plan_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_agency_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_plan_action_owner_agency_id_organisation'), 'organisation',
                                    ['owner_agency_id'], ['id'])
    # owners that were only a plain label came from conference action items: take the owner from there
    op.execute("""UPDATE plan_action SET
        owner_id = COALESCE(owner_id, (SELECT i.owner_user_id FROM conference_action_item i
                                       WHERE i.plan_action_id = plan_action.id)),
        owner_agency_id = (SELECT i.owner_agency_id FROM conference_action_item i
                           WHERE i.plan_action_id = plan_action.id)
        WHERE owner_label IS NOT NULL""")
    with op.batch_alter_table('plan_action', schema=None) as batch_op:
        batch_op.drop_column('owner_label')


def downgrade():
    with op.batch_alter_table('plan_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_label', sa.String(length=100), nullable=True))
        batch_op.drop_constraint(batch_op.f('fk_plan_action_owner_agency_id_organisation'), type_='foreignkey')
        batch_op.drop_column('owner_agency_id')
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason_enc')
        batch_op.drop_column('cancelled_at')
    with op.batch_alter_table('guardian_assignment', schema=None) as batch_op:
        batch_op.drop_column('end_request_note_enc')
        batch_op.drop_column('end_requested_at')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_column('lapse_handled_on')
    with op.batch_alter_table('case_need', schema=None) as batch_op:
        batch_op.drop_column('added_on')
        batch_op.drop_column('resolved_on')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_column('link')
    with op.batch_alter_table('support_case', schema=None) as batch_op:
        batch_op.drop_column('withdraw_reason_enc')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_case')
        batch_op.drop_index(batch_op.f('ix_notification_object_key'))
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('object_key')
    with op.batch_alter_table('conference_amendment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conference_amendment_conference_id'))
    op.drop_table('conference_amendment')
    with op.batch_alter_table('guardian_concern', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guardian_concern_status'))
        batch_op.drop_index(batch_op.f('ix_guardian_concern_guardian_id'))
        batch_op.drop_index(batch_op.f('ix_guardian_concern_case_id'))
        batch_op.drop_index(batch_op.f('ix_guardian_concern_assignment_id'))
    op.drop_table('guardian_concern')
