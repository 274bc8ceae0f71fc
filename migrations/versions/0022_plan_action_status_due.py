"""plan_action (status, due_on): a district coordinator's home walks the city's open overdue plan
actions in due order to find the district's oldest ten (issue 13: probing each of a district's
~9,000 cases for overdue actions cost 4.5 ms of every district home at Seoul scale; 0.5-1.5 ms).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 15:50:00

"""
from alembic import op


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('plan_action') as batch_op:
        batch_op.create_index('ix_plan_action_status_due', ['status', 'due_on'], unique=False)


def downgrade():
    with op.batch_alter_table('plan_action') as batch_op:
        batch_op.drop_index('ix_plan_action_status_due')
