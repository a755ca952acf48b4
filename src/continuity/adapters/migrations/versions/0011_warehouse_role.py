"""The warehouse role: users.role may be 'warehouse' (release, ship and invoice child orders)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:15:00
"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _roles(condition: str) -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(op.f('ck_users_role_known'), type_='check')
        batch.create_check_constraint(op.f('ck_users_role_known'), condition)


def upgrade() -> None:
    _roles("role IN ('agent', 'warehouse', 'manager', 'admin')")


def downgrade() -> None:
    op.execute("UPDATE users SET role = 'manager' WHERE role = 'warehouse'")
    _roles("role IN ('agent', 'manager', 'admin')")
