"""Returns and credit notes (issue 16 part 1)

Return reason codes (set-up data), credit notes with their lines (a return of a shipped child order and
what it refunds), and programs.return_action: what a return does to the rest of the schedule (continue,
replace or cancel_remaining; existing programs continue).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 13:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'programs', sa.Column('return_action', sa.String(length=20), nullable=False, server_default='continue')
    )
    op.create_table(
        'return_reasons',
        sa.Column('code', sa.String(length=20), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_return_reasons')),
    )
    op.create_table(
        'credit_notes',
        sa.Column('credit_note_id', sa.String(length=20), nullable=False),
        sa.Column('serial', sa.Integer(), nullable=False),
        sa.Column('sales_id', sa.String(length=40), nullable=False),
        sa.Column('parent_sales_id', sa.String(length=40), nullable=False),
        sa.Column('reason_code', sa.String(length=20), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('refund_sales_id', sa.String(length=40), nullable=False),
        sa.Column('refund_key', sa.String(length=120), nullable=False),
        sa.Column('schedule_action', sa.String(length=20), nullable=False),
        sa.Column('replacement_sales_id', sa.String(length=40), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('returned_on', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['sales_id'], ['sales_orders.sales_id'], name=op.f('fk_credit_notes_sales_id_sales_orders')
        ),
        sa.ForeignKeyConstraint(
            ['reason_code'], ['return_reasons.code'], name=op.f('fk_credit_notes_reason_code_return_reasons')
        ),
        sa.PrimaryKeyConstraint('credit_note_id', name=op.f('pk_credit_notes')),
        sa.UniqueConstraint('serial', name=op.f('uq_credit_notes_serial')),
    )
    op.create_index(op.f('ix_credit_notes_sales_id'), 'credit_notes', ['sales_id'])
    op.create_index(op.f('ix_credit_notes_parent_sales_id'), 'credit_notes', ['parent_sales_id'])
    op.create_table(
        'credit_note_lines',
        sa.Column('credit_note_id', sa.String(length=20), nullable=False),
        sa.Column('line_no', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.String(length=40), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('unit_price_minor', sa.BigInteger(), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ['credit_note_id'],
            ['credit_notes.credit_note_id'],
            name=op.f('fk_credit_note_lines_credit_note_id_credit_notes'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('credit_note_id', 'line_no', name=op.f('pk_credit_note_lines')),
    )


def downgrade() -> None:
    op.drop_table('credit_note_lines')
    op.drop_index(op.f('ix_credit_notes_parent_sales_id'), table_name='credit_notes')
    op.drop_index(op.f('ix_credit_notes_sales_id'), table_name='credit_notes')
    op.drop_table('credit_notes')
    op.drop_table('return_reasons')
    with op.batch_alter_table('programs') as batch:
        batch.drop_column('return_action')
