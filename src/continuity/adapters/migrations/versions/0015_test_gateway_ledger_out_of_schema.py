"""The test connector's ledger leaves the application's schema

test_gateway_ledger was the built-in test connector's record of every call it received; it belongs to
that connector, not to the application. From this revision the connector creates and owns the table
itself, on first use (continuity.adapters.test_gateway_ledger.create_ledger), in whatever database it is
given; a deployment on a real gateway never has it.

Data: the rows of an existing test ledger are DROPPED with the table. Only the test connector reads
them (a lookup of an earlier call's key, a capture or void against an earlier authorization): after
this upgrade, a payment attempt whose outcome was unknown before it is looked up as "no such
transaction" and settles as declined. No real payment is concerned.

Downgrade puts an empty ledger back (of the shape revision 0014 had) unless the connector has already
made its own, which has that very shape.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 11:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table('test_gateway_ledger')  # its indexes with it


def downgrade() -> None:
    if sa.inspect(op.get_bind()).has_table('test_gateway_ledger'):
        return
    op.create_table('test_gateway_ledger',
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('operation', sa.String(length=20), nullable=False),
    sa.Column('card_token', sa.String(length=80), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('authorization_reference', sa.String(length=80), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('idempotency_key', name=op.f('pk_test_gateway_ledger'))
    )
    op.create_index('ix_test_gateway_ledger_reference', 'test_gateway_ledger', ['reference'], unique=False)
    op.create_index('ix_test_gateway_ledger_authorization_reference', 'test_gateway_ledger',
                    ['authorization_reference'], unique=False)
