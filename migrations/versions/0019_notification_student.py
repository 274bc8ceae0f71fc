"""notification.student_id: the student an alert is about, so the retention run finds every alert
whose text may name a removed student, also those with no case (issue 16).

Existing alerts keep NULL: the run still finds them by case, object key or link as before.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 07:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification') as batch_op:
        batch_op.add_column(sa.Column('student_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_student_id'), ['student_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notification_student_id_student'), 'student', ['student_id'], ['id'])


def downgrade():
    with op.batch_alter_table('notification') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notification_student_id_student'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notification_student_id'))
        batch_op.drop_column('student_id')
