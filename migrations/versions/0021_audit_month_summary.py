"""audit_month_summary, audit_month_user: a settled month's access-review figures per user, stored by
the hourly `flask audit summarise` and read back by every later review (issue 13: the review of an ended
month no longer aggregates its ~375,000 events each time).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 22:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_month_summary',
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('computed_at', sa.DateTime(), nullable=False),
        sa.Column('users', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month', name=op.f('pk_audit_month_summary')),
    )
    op.create_table(
        'audit_month_user',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_login', sa.String(length=64), nullable=True),
        sa.Column('role', sa.String(length=32), nullable=True),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('subjects', sa.Integer(), nullable=False),
        sa.Column('exports', sa.Integer(), nullable=False),
        sa.Column('denials', sa.Integer(), nullable=False),
        sa.Column('after_hours', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['month'], ['audit_month_summary.month'],
                                name=op.f('fk_audit_month_user_month_audit_month_summary'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_month_user')),
    )
    with op.batch_alter_table('audit_month_user') as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_month_user_month'), ['month'], unique=False)


def downgrade():
    # derived figures only: the next review of each month aggregates its events again
    with op.batch_alter_table('audit_month_user') as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_month_user_month'))
    op.drop_table('audit_month_user')
    op.drop_table('audit_month_summary')
