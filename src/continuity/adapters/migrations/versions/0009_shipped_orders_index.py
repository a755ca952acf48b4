"""Shipped orders index: the child orders waiting to be invoiced

invoice-shipped runs every night. It looked for shipped child orders by walking every child order
ever made, and for their occurrences by reading every occurrence: work that grew with each month of
history. This partial index holds only the orders whose status is 'shipped' (those shipped and not
yet invoiced), in ship-date order; the job then updates each order, its occurrences and its lines by
key.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 19:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SHIPPED = sa.text("status = 'shipped'")


def upgrade() -> None:
    op.create_index('ix_sales_orders_shipped', 'sales_orders', ['shipped_on', 'sales_id'], unique=False,
                    sqlite_where=SHIPPED, postgresql_where=SHIPPED)


def downgrade() -> None:
    op.drop_index('ix_sales_orders_shipped', table_name='sales_orders')
