"""Servicing follow-ups: a pause holds occurrences (status 'paused'), not the whole line

Before this revision a pause set continuity_lines.status = 'paused' and left the held occurrences
pending (date_basis 'pause_open'). Now the line stays open (the occurrences before the pause's first
day still ship) and the held occurrences have status 'paused'. Data only: no column changes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 05:00:00
"""
from alembic import op
import sqlalchemy as sa  # noqa: F401


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE schedule_occurrences SET status = 'paused' "
               "WHERE status = 'pending' AND date_basis = 'pause_open'")
    op.execute("UPDATE continuity_lines SET status = 'open' WHERE status = 'paused'")


def downgrade() -> None:
    op.execute("UPDATE continuity_lines SET status = 'paused' WHERE status = 'open' AND EXISTS ("
               "SELECT 1 FROM schedule_occurrences o WHERE o.sales_id = continuity_lines.sales_id "
               "AND o.line_no = continuity_lines.line_no AND o.status = 'paused')")
    op.execute("UPDATE schedule_occurrences SET status = 'pending' WHERE status = 'paused'")
