"""E-mail alerts: each user's address and choices, and the outbox the worker sends from (issue 17).

mail_settings holds a user's address (encrypted, used only once verified by a link), a pending
new address and the digest hour; mail_preference a user's mode per alert kind (no row: the
kind's default); mail_outbox one message to send, written in the transaction that creates the
alert, claimed by a worker with a lease (ix_mail_outbox_due is the worker's only scan).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 02:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('address_enc', sa.Text(), nullable=True),
    sa.Column('verified_at', sa.DateTime(), nullable=True),
    sa.Column('pending_enc', sa.Text(), nullable=True),
    sa.Column('pending_requested_at', sa.DateTime(), nullable=True),
    sa.Column('digest_hour', sa.Integer(), server_default='8', nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_mail_settings_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_settings')),
    sa.UniqueConstraint('uid', name=op.f('uq_mail_settings_uid')),
    sa.UniqueConstraint('user_id', name=op.f('uq_mail_settings_user_id'))
    )
    op.create_table('mail_preference',
    sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_mail_preference_user_id_user_account')),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_mail_preference'))
    )
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('sender_org_id', sa.Integer(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('link', sa.String(length=400), nullable=True),
    sa.Column('digest', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('message_id', sa.String(length=200), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notification.id'],
                            name=op.f('fk_mail_outbox_notification_id_notification'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sender_org_id'], ['organisation.id'], name=op.f('fk_mail_outbox_sender_org_id_organisation')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_mail_outbox_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox'))
    )
    op.create_index('ix_mail_outbox_due', 'mail_outbox', ['status', 'due_at'])
    op.create_index(op.f('ix_mail_outbox_user_id'), 'mail_outbox', ['user_id'])


def downgrade():
    op.drop_index(op.f('ix_mail_outbox_user_id'), table_name='mail_outbox')
    op.drop_index('ix_mail_outbox_due', table_name='mail_outbox')
    op.drop_table('mail_outbox')
    op.drop_table('mail_preference')
    op.drop_table('mail_settings')
