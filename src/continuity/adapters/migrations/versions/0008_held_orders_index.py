"""Held orders index: the orders with a hold reason, for the jobs that release holds

process-payments and reconcile-payments release child orders held for a payment problem once it is
solved. They looked for held orders by reading every sales order; this partial index holds only the
orders with a hold reason (a handful), so that look-up no longer grows with the number of orders.
Only a hold or its release changes hold_reason: releasing, shipping and invoicing (status only) do
not touch the index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 18:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

HELD = sa.text("hold_reason <> ''")


def upgrade() -> None:
    op.create_index('ix_sales_orders_held', 'sales_orders', ['sales_id'], unique=False,
                    sqlite_where=HELD, postgresql_where=HELD)


def downgrade() -> None:
    op.drop_index('ix_sales_orders_held', table_name='sales_orders')
