"""Students and support cases: needs, consent, selection, plan, notes, escalation, chronology.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 11:52:47.060910

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('student',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('grade', sa.Integer(), nullable=True),
    sa.Column('class_no', sa.Integer(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('migrant_background', sa.Boolean(), nullable=False),
    sa.Column('home_language', sa.String(length=40), nullable=True),
    sa.Column('special_education', sa.Boolean(), nullable=False),
    sa.Column('name_enc', sa.Text(), nullable=True),
    sa.Column('name_bidx', sa.String(length=80), nullable=True),
    sa.Column('birth_date_enc', sa.Text(), nullable=True),
    sa.Column('name_birth_bidx', sa.String(length=80), nullable=True),
    sa.Column('phone_enc', sa.Text(), nullable=True),
    sa.Column('address_enc', sa.Text(), nullable=True),
    sa.Column('parent_name_enc', sa.Text(), nullable=True),
    sa.Column('parent_relation_enc', sa.Text(), nullable=True),
    sa.Column('parent_phone_enc', sa.Text(), nullable=True),
    sa.Column('neis_number_enc', sa.Text(), nullable=True),
    sa.Column('neis_number_bidx', sa.String(length=80), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['organisation.id'], name=op.f('fk_student_school_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_student')),
    sa.UniqueConstraint('uid', name=op.f('uq_student_uid'))
    )
    with op.batch_alter_table('student', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_student_name_bidx'), ['name_bidx'], unique=False)
        batch_op.create_index(batch_op.f('ix_student_name_birth_bidx'), ['name_birth_bidx'], unique=False)
        batch_op.create_index(batch_op.f('ix_student_neis_number_bidx'), ['neis_number_bidx'], unique=False)
        batch_op.create_index('ix_student_school_class', ['school_id', 'grade', 'class_no', 'number'], unique=False)
        batch_op.create_index(batch_op.f('ix_student_school_id'), ['school_id'], unique=False)

    op.create_table('support_case',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('risk_level', sa.String(length=20), nullable=False),
    sa.Column('urgency', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.String(length=10), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('summary_enc', sa.Text(), nullable=True),
    sa.Column('escalation_open', sa.Boolean(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('close_reason', sa.String(length=20), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_support_case_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_support_case_owner_id_user_account')),
    sa.ForeignKeyConstraint(['school_id'], ['organisation.id'], name=op.f('fk_support_case_school_id_organisation')),
    sa.ForeignKeyConstraint(['student_id'], ['student.id'], name=op.f('fk_support_case_student_id_student')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_case')),
    sa.UniqueConstraint('uid', name=op.f('uq_support_case_uid'))
    )
    with op.batch_alter_table('support_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_case_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_case_school_id'), ['school_id'], unique=False)
        batch_op.create_index('ix_support_case_school_status', ['school_id', 'status', 'urgency'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_case_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_case_student_id'), ['student_id'], unique=False)

    op.create_table('case_escalation',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('office_code', sa.String(length=32), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('reason_enc', sa.Text(), nullable=True),
    sa.Column('replied_at', sa.DateTime(), nullable=True),
    sa.Column('replied_by_id', sa.Integer(), nullable=True),
    sa.Column('reply_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_case_escalation_case_id_support_case')),
    sa.ForeignKeyConstraint(['office_code'], ['district_office.code'], name=op.f('fk_case_escalation_office_code_district_office')),
    sa.ForeignKeyConstraint(['replied_by_id'], ['user_account.id'], name=op.f('fk_case_escalation_replied_by_id_user_account')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_case_escalation_requested_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_escalation')),
    sa.UniqueConstraint('uid', name=op.f('uq_case_escalation_uid'))
    )
    with op.batch_alter_table('case_escalation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_escalation_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_escalation_office_code'), ['office_code'], unique=False)

    op.create_table('case_event',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('text_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_case_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_case_event_case_id_support_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_event')),
    sa.UniqueConstraint('uid', name=op.f('uq_case_event_uid'))
    )
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index('ix_case_event_case_time', ['case_id', 'occurred_at'], unique=False)

    op.create_table('case_need',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=30), nullable=False),
    sa.Column('description_enc', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('outcome_note_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_case_need_case_id_support_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_need')),
    sa.UniqueConstraint('uid', name=op.f('uq_case_need_uid'))
    )
    with op.batch_alter_table('case_need', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_need_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_need_domain'), ['domain'], unique=False)

    op.create_table('case_note',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_case_note_author_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_case_note_case_id_support_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_note')),
    sa.UniqueConstraint('uid', name=op.f('uq_case_note_uid'))
    )
    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_note_case_id'), ['case_id'], unique=False)

    op.create_table('case_selection',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('selected', sa.Boolean(), nullable=False),
    sa.Column('meeting_on', sa.Date(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('basic_academic_result_enc', sa.Text(), nullable=True),
    sa.Column('teacher_opinions_enc', sa.Text(), nullable=True),
    sa.Column('parent_counselling_enc', sa.Text(), nullable=True),
    sa.Column('members_enc', sa.Text(), nullable=True),
    sa.Column('reason_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_case_selection_case_id_support_case')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_case_selection_decided_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_selection')),
    sa.UniqueConstraint('uid', name=op.f('uq_case_selection_uid'))
    )
    with op.batch_alter_table('case_selection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_selection_case_id'), ['case_id'], unique=False)

    op.create_table('consent',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.String(length=10), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_consent_case_id_support_case')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_consent_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent')),
    sa.UniqueConstraint('uid', name=op.f('uq_consent_uid'))
    )
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_case_id'), ['case_id'], unique=False)

    op.create_table('consent_purpose',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consent_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=30), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('agency_kind', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['organisation.id'], name=op.f('fk_consent_purpose_agency_id_organisation')),
    sa.ForeignKeyConstraint(['consent_id'], ['consent.id'], name=op.f('fk_consent_purpose_consent_id_consent')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_purpose'))
    )
    with op.batch_alter_table('consent_purpose', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_purpose_consent_id'), ['consent_id'], unique=False)

    op.create_table('plan_action',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=True),
    sa.Column('goal_enc', sa.Text(), nullable=True),
    sa.Column('action_enc', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('owner_label', sa.String(length=100), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('shared_with_guardian', sa.Boolean(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], name=op.f('fk_plan_action_case_id_support_case')),
    sa.ForeignKeyConstraint(['need_id'], ['case_need.id'], name=op.f('fk_plan_action_need_id_case_need')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_plan_action_owner_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_action')),
    sa.UniqueConstraint('uid', name=op.f('uq_plan_action_uid'))
    )
    with op.batch_alter_table('plan_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_action_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_action_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_action_owner_id'), ['owner_id'], unique=False)



def downgrade():
    with op.batch_alter_table('plan_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_action_owner_id'))
        batch_op.drop_index(batch_op.f('ix_plan_action_due_on'))
        batch_op.drop_index(batch_op.f('ix_plan_action_case_id'))

    op.drop_table('plan_action')
    with op.batch_alter_table('consent_purpose', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_purpose_consent_id'))

    op.drop_table('consent_purpose')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_case_id'))

    op.drop_table('consent')
    with op.batch_alter_table('case_selection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_selection_case_id'))

    op.drop_table('case_selection')
    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_note_case_id'))

    op.drop_table('case_note')
    with op.batch_alter_table('case_need', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_need_domain'))
        batch_op.drop_index(batch_op.f('ix_case_need_case_id'))

    op.drop_table('case_need')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index('ix_case_event_case_time')

    op.drop_table('case_event')
    with op.batch_alter_table('case_escalation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_escalation_office_code'))
        batch_op.drop_index(batch_op.f('ix_case_escalation_case_id'))

    op.drop_table('case_escalation')
    with op.batch_alter_table('support_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_case_student_id'))
        batch_op.drop_index(batch_op.f('ix_support_case_status'))
        batch_op.drop_index('ix_support_case_school_status')
        batch_op.drop_index(batch_op.f('ix_support_case_school_id'))
        batch_op.drop_index(batch_op.f('ix_support_case_owner_id'))

    op.drop_table('support_case')
    with op.batch_alter_table('student', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_student_school_id'))
        batch_op.drop_index('ix_student_school_class')
        batch_op.drop_index(batch_op.f('ix_student_neis_number_bidx'))
        batch_op.drop_index(batch_op.f('ix_student_name_birth_bidx'))
        batch_op.drop_index(batch_op.f('ix_student_name_bidx'))

    op.drop_table('student')
