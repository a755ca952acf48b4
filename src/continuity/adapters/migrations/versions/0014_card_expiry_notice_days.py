"""Continuity parameters: card_expiry_notice_days

How many days before a child order would be made on an expired card the customer is told to update it
(issue 11 item 11). Existing parameters get the default, 14.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 21:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('continuity_parameters', sa.Column('card_expiry_notice_days', sa.Integer(), nullable=False,
                                                     server_default='14'))


def downgrade() -> None:
    with op.batch_alter_table('continuity_parameters') as batch:
        batch.drop_column('card_expiry_notice_days')
