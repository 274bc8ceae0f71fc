"""A check value per encryption key id, so the app refuses a key ring that is not this database's (issue 19).

The rows are written by the app at start-up for every key it has not seen (app/key_check.py),
not here: a migration runs before some installations have their final ring in place.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 03:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('key_check',
    sa.Column('kid', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('check_value', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_key_check'))
    )


def downgrade():
    op.drop_table('key_check')
