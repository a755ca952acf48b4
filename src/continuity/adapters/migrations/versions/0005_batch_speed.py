"""Batch speed: the index process-payments claims its chunks by

process-payments walks the unpaid installments due on or before as_of in (due_date, sales_id,
line_no, seq) order, chunk after chunk from a keyset cursor. This partial index holds exactly the
installments a charge can still claim, in that order: each chunk is one range read, and paid or
cancelled installments (nearly all of them after a while) leave the index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 03:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

CLAIMABLE = sa.text("status IN ('not_submitted', 'authorized', 'declined')")


def upgrade() -> None:
    op.create_index('ix_installments_claimable', 'installments', ['due_date', 'sales_id', 'line_no', 'seq'],
                    unique=False, sqlite_where=CLAIMABLE, postgresql_where=CLAIMABLE)


def downgrade() -> None:
    op.drop_index('ix_installments_claimable', table_name='installments')
