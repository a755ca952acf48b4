"""Servicing: audit trail, occurrence date reasons, pauses

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 03:50:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the change that owns this revision


def downgrade() -> None:
    pass
