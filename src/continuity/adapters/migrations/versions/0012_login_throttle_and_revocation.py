"""Login throttle instead of a lock; users can be disabled

Failed logins are counted per client address and per tried name in login_throttles (SHA-256 of
each, never the value), so a login is slowed down, never locked; the lock columns of web_logins go.
users.disabled_at: a disabled user has no web login and no API token. A revoked token's hash is
replaced by a value no token hashes to (users is not rebuilt: on SQLite that would cascade).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 20:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_throttles',
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key_hash', name=op.f('pk_login_throttles'))
    )
    op.create_index(op.f('ix_login_throttles_last_failure_at'), 'login_throttles', ['last_failure_at'], unique=False)
    op.add_column('users', sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('web_logins') as batch:
        batch.drop_column('locked_until')
        batch.drop_column('failed_attempts')


def downgrade() -> None:
    with op.batch_alter_table('web_logins') as batch:
        batch.add_column(sa.Column('failed_attempts', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('users') as batch:
        batch.drop_column('disabled_at')
    op.drop_index(op.f('ix_login_throttles_last_failure_at'), table_name='login_throttles')
    op.drop_table('login_throttles')
