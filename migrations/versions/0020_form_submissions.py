"""form_submission: a digest (user, path, one-time token, fields) of each form submission that changed something, so that a
double click or a resent POST is acted on once (issue 19).  Rows are kept a day.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 16:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'form_submission',
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('location', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_form_submission_user_id_user_account')),
        sa.PrimaryKeyConstraint('digest', name=op.f('pk_form_submission')),
    )
    with op.batch_alter_table('form_submission') as batch_op:
        batch_op.create_index(batch_op.f('ix_form_submission_created_at'), ['created_at'], unique=False)


def downgrade():
    # nothing here outlives a day: dropping it loses only the protection of today's forms
    with op.batch_alter_table('form_submission') as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_submission_created_at'))
    op.drop_table('form_submission')
