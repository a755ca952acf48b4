"""Cards: is_default and removed_at

The agent sets a customer's default card and removes a card (issue 18 item 4). A removed card is never
offered again, but its row stays: orders that paid with it keep their history. Existing cards are neither.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('cards', sa.Column('is_default', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('cards', sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cards') as batch:
        batch.drop_column('removed_at')
        batch.drop_column('is_default')
