"""Sales orders: the ship-to address

Each order keeps a copy of the address it ships to, chosen at order entry among the customer's addresses
or typed for it (issue 18 item 2). Orders entered before have none (their customer's address is shown).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sales_orders', sa.Column('ship_street', sa.String(200), nullable=True))
    op.add_column('sales_orders', sa.Column('ship_city', sa.String(100), nullable=True))
    op.add_column('sales_orders', sa.Column('ship_postal_code', sa.String(20), nullable=True))
    op.add_column('sales_orders', sa.Column('ship_country', sa.String(2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sales_orders') as batch:
        for name in ('ship_country', 'ship_postal_code', 'ship_city', 'ship_street'):
            batch.drop_column(name)
