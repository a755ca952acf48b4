"""Shipped orders and open parents: partial indexes for the nightly lifecycle jobs

invoice-shipped runs every night. It looked for shipped child orders by walking every child order
ever made, and for their occurrences by reading every occurrence: work that grew with each month of
history. ix_sales_orders_shipped holds only the orders whose status is 'shipped' (those shipped and
not yet invoiced), in ship-date order; the job then updates each order, its occurrences and its lines
by key. close-orders read every sales order (child orders included) to find open parents with no
open line; ix_sales_orders_open_parents holds only the open parent orders.

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
OPEN_PARENT = sa.text("status = 'open' AND is_continuity_parent")


def upgrade() -> None:
    op.create_index('ix_sales_orders_shipped', 'sales_orders', ['shipped_on', 'sales_id'], unique=False,
                    sqlite_where=SHIPPED, postgresql_where=SHIPPED)
    op.create_index('ix_sales_orders_open_parents', 'sales_orders', ['sales_id'], unique=False,
                    sqlite_where=OPEN_PARENT, postgresql_where=OPEN_PARENT)


def downgrade() -> None:
    op.drop_index('ix_sales_orders_open_parents', table_name='sales_orders')
    op.drop_index('ix_sales_orders_shipped', table_name='sales_orders')
