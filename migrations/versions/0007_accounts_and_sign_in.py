"""Accounts, sessions and strong sign-in.

- user_account.login_key: the login as compared (NFKC, case-folded, trimmed), unique.  Existing
  logins are keyed here; if two existing accounts collide (DEMO-ADMIN next to demo-admin) the
  migration stops and names them, so an operator renames one before upgrading again.
- session_version, password_temporary / password_changed_at, the TOTP columns (secret encrypted),
  handling approval and the yearly training date
- recovery_code (hashed one-time codes) and grant_change (every grant change, kept 3 years)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 14:00:00

"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_SPACE = re.compile(r"\s+")


def login_key(login: str) -> str:
    """The same form as app.auth.services.login_key (kept here so the migration stands alone)."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", login).casefold())
    return _SPACE.sub(" ", text).strip()


def upgrade():
    # report clashes before changing anything: SQLite has no transactional DDL to undo a half-run
    connection = op.get_bind()
    users = connection.execute(sa.text("SELECT id, login FROM user_account ORDER BY id")).all()
    seen: dict[str, str] = {}
    clashes = []
    for _user_id, login in users:
        key = login_key(login)
        if key in seen:
            clashes.append(f"{seen[key]!r} / {login!r}")
        seen.setdefault(key, login)
    if clashes:
        raise RuntimeError("these accounts have logins that differ only in case, width or spaces; rename one of "
                           "each pair, then upgrade again: " + ", ".join(clashes))

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('password_temporary', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('password_changed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_secret_enc', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('handling_approved_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('handling_approved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('training_on', sa.Date(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_account_handling_approved_by_id_user_account'),
                                    'user_account', ['handling_approved_by_id'], ['id'])

    for user_id, login in users:
        connection.execute(sa.text("UPDATE user_account SET login_key = :key WHERE id = :id"),
                           {"key": login_key(login), "id": user_id})
    # accounts that exist today were approved by whoever created them: keep them working
    connection.execute(sa.text("UPDATE user_account SET handling_approved_at = created_at"))

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('login_key', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_user_account_login_key'), ['login_key'])

    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_recovery_code_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)

    op.create_table('grant_change',
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('reason_enc', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_grant_change_actor_id_user_account')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_grant_change_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_change')),
    sa.UniqueConstraint('uid', name=op.f('uq_grant_change_uid'))
    )
    with op.batch_alter_table('grant_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_change_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_grant_change_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('grant_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_change_user_id'))
        batch_op.drop_index(batch_op.f('ix_grant_change_occurred_at'))
    op.drop_table('grant_change')
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))
    op.drop_table('recovery_code')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_account_login_key'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_user_account_handling_approved_by_id_user_account'), type_='foreignkey')
        for column in ('training_on', 'handling_approved_by_id', 'handling_approved_at', 'totp_last_step',
                       'totp_enabled_at', 'totp_secret_enc', 'password_changed_at', 'password_temporary',
                       'session_version', 'login_key'):
            batch_op.drop_column(column)
