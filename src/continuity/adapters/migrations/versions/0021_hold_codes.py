"""Hold codes: every order hold names a code (issue 17)

hold_codes is set-up data: the codes an agent or a manager puts an order on hold with (fraud review,
address check, customer request, payment review, and what a manager adds), and the payment codes the
payment outcomes put on. sales_orders.hold_code names the code of a held order ('' when not held);
hold_reason stays as the hold's note. Existing holds were all payment holds: each gets its code from its
reason. The held orders' partial index now follows hold_code.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 13:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

CODES = [
    ('fraud_review', 'Fraud review', 'manual'),
    ('address_check', 'Address check', 'manual'),
    ('customer_request', 'Customer request', 'manual'),
    ('payment_review', 'Payment review', 'manual'),
    ('payment_declined', 'Card payment declined at submit', 'payment'),
    ('payment_unanswered', 'Card payment unanswered at submit', 'payment'),
    ('charge_declined', 'Charge of this shipment declined or unresolved', 'payment'),
    ('parent_payment', 'Installment of the parent order declined or unresolved', 'payment'),
]
# the reasons the payment holds were written with before this migration
PARENT = 'an installment of the parent order is declined or unresolved'
OWN = 'the charge for this shipment was declined or is unresolved'
UNANSWERED = 'the card authorization got no answer%'
HELD = sa.text("hold_code <> ''")
OLD_HELD = sa.text("hold_reason <> ''")


def upgrade() -> None:
    table = op.create_table(
        'hold_codes',
        sa.Column('code', sa.String(40), primary_key=True),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
    )
    op.bulk_insert(table, [{'code': c, 'description': d, 'kind': k} for c, d, k in CODES])
    op.add_column('sales_orders', sa.Column('hold_code', sa.String(40), nullable=False, server_default=''))
    op.execute(
        sa.text(
            "UPDATE sales_orders SET hold_code = CASE WHEN hold_reason = :parent THEN 'parent_payment' "
            "WHEN hold_reason = :own THEN 'charge_declined' WHEN hold_reason LIKE :unanswered "
            "THEN 'payment_unanswered' ELSE 'payment_declined' END WHERE status = 'on_hold'"
        ).bindparams(parent=PARENT, own=OWN, unanswered=UNANSWERED)
    )
    op.drop_index('ix_sales_orders_held', table_name='sales_orders')
    op.create_index('ix_sales_orders_held', 'sales_orders', ['sales_id'], unique=False,
                    sqlite_where=HELD, postgresql_where=HELD)


def downgrade() -> None:
    op.drop_index('ix_sales_orders_held', table_name='sales_orders')
    op.create_index('ix_sales_orders_held', 'sales_orders', ['sales_id'], unique=False,
                    sqlite_where=OLD_HELD, postgresql_where=OLD_HELD)
    with op.batch_alter_table('sales_orders') as batch:
        batch.drop_column('hold_code')
    op.drop_table('hold_codes')
