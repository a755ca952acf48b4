"""Every capture names the authorization it settles

An installment authorized at submit (or a child charge authorized when its order was made) keeps the
idempotency key of the authorization holding its money (installments.authorization_key); its capture
goes to the card of that authorization and names its gateway reference
(payment_attempts.authorization_reference), so a later change of card never sends it elsewhere. The
test connector's ledger records which authorization a capture or void belongs to.

Existing authorized installments are linked to their own approved authorization, else to the order's
approved submit authorization (the rule the servicing void used until now).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 15:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

LINKED = sa.text("authorization_key IS NOT NULL")
AUTHORIZED = sa.text("status = 'authorized'")
SETTLES = sa.text("authorization_reference IS NOT NULL")

_OWN = ("SELECT a.idempotency_key FROM payment_attempts a WHERE a.subject = 'installment' "
        "AND a.sales_id = installments.sales_id AND a.line_no = installments.line_no AND a.seq = installments.seq "
        "AND a.operation = 'authorize' AND a.status = 'approved' ORDER BY a.attempt_id DESC LIMIT 1")
_SUBMIT = ("SELECT a.idempotency_key FROM payment_attempts a WHERE a.subject = 'payment' "
           "AND a.sales_id = installments.sales_id AND a.operation = 'authorize' AND a.status = 'approved' "
           "ORDER BY a.attempt_id DESC LIMIT 1")


def upgrade() -> None:
    with op.batch_alter_table('installments') as batch:
        batch.add_column(sa.Column('authorization_key', sa.String(120), nullable=True))
    with op.batch_alter_table('payment_attempts') as batch:
        batch.add_column(sa.Column('authorization_reference', sa.String(80), nullable=True))
    with op.batch_alter_table('test_gateway_ledger') as batch:
        batch.add_column(sa.Column('authorization_reference', sa.String(80), nullable=True))
    op.create_index('ix_installments_authorization', 'installments', ['authorization_key'], unique=False,
                    sqlite_where=LINKED, postgresql_where=LINKED)
    op.create_index('ix_test_gateway_ledger_authorization_reference', 'test_gateway_ledger', ['authorization_reference'],
                    unique=False)
    op.create_index('ix_payments_authorized', 'payments', ['payment_id'], unique=False,
                    sqlite_where=AUTHORIZED, postgresql_where=AUTHORIZED)
    op.create_index('ix_payment_attempts_authorization', 'payment_attempts', ['authorization_reference'],
                    unique=False, sqlite_where=SETTLES, postgresql_where=SETTLES)
    op.create_index('ix_test_gateway_ledger_reference', 'test_gateway_ledger', ['reference'], unique=False)
    op.execute(f"UPDATE installments SET authorization_key = COALESCE(({_OWN}), ({_SUBMIT})) "
               "WHERE status = 'authorized'")


def downgrade() -> None:
    op.drop_index('ix_test_gateway_ledger_reference', table_name='test_gateway_ledger')
    op.drop_index('ix_payment_attempts_authorization', table_name='payment_attempts')
    op.drop_index('ix_payments_authorized', table_name='payments')
    op.drop_index('ix_test_gateway_ledger_authorization_reference', table_name='test_gateway_ledger')
    op.drop_index('ix_installments_authorization', table_name='installments')
    with op.batch_alter_table('test_gateway_ledger') as batch:
        batch.drop_column('authorization_reference')
    with op.batch_alter_table('payment_attempts') as batch:
        batch.drop_column('authorization_reference')
    with op.batch_alter_table('installments') as batch:
        batch.drop_column('authorization_key')
