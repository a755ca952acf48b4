"""Taxes and shipping charges (issue 16 part 2)

The rate table (tax_rates: a tax group's rate in a region from a day on, in millionths), the tax group
of an item, the shipping charge of a program or a parent product (none, per_order or per_unit, an
amount in minor units), whether prices include tax (a parameter, and each order keeps what it was
entered under), and each sales line's shipping charge and tax. Everything defaults to no charge and
no tax: existing orders cost what they did.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 13:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def _charge_columns(table: str) -> None:
    op.add_column(table, sa.Column('shipping_kind', sa.String(20), nullable=False, server_default='none'))
    op.add_column(table, sa.Column('shipping_minor', sa.BigInteger(), nullable=False, server_default='0'))


def upgrade() -> None:
    op.create_table(
        'tax_rates',
        sa.Column('tax_group', sa.String(40), primary_key=True),
        sa.Column('region', sa.String(10), primary_key=True),
        sa.Column('valid_from', sa.Date(), primary_key=True),
        sa.Column('rate_ppm', sa.Integer(), nullable=False),
        sa.CheckConstraint('rate_ppm >= 0 AND rate_ppm <= 1000000', name='ck_tax_rates_rate_range'),
    )
    op.add_column('items', sa.Column('tax_group', sa.String(40), nullable=False, server_default=''))
    _charge_columns('items')
    _charge_columns('programs')
    op.add_column(
        'continuity_parameters',
        sa.Column('prices_include_tax', sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column('sales_orders', sa.Column('prices_include_tax', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('sales_lines', sa.Column('charge_minor', sa.BigInteger(), nullable=False, server_default='0'))
    op.add_column('sales_lines', sa.Column('tax_minor', sa.BigInteger(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('sales_lines') as batch:
        batch.drop_column('tax_minor')
        batch.drop_column('charge_minor')
    with op.batch_alter_table('sales_orders') as batch:
        batch.drop_column('prices_include_tax')
    with op.batch_alter_table('continuity_parameters') as batch:
        batch.drop_column('prices_include_tax')
    for table in ('programs', 'items'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('shipping_minor')
            batch.drop_column('shipping_kind')
    with op.batch_alter_table('items') as batch:
        batch.drop_column('tax_group')
    op.drop_table('tax_rates')
