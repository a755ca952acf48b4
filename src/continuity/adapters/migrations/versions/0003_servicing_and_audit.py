"""Servicing: audit trail, occurrence date reasons, pauses

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 03:50:00
"""
from alembic import op
import sqlalchemy as sa

from continuity.adapters.orm_servicing import (
    APPEND_ONLY_POSTGRES,
    APPEND_ONLY_SQLITE,
    DROP_APPEND_ONLY_POSTGRES,
    DROP_APPEND_ONLY_SQLITE,
)

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_entries',
    sa.Column('entry_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('actor_kind', sa.String(length=20), nullable=False),
    sa.Column('entity', sa.String(length=30), nullable=False),
    sa.Column('entity_key', sa.String(length=120), nullable=False),
    sa.Column('sales_id', sa.String(length=40), nullable=True),
    sa.Column('program_id', sa.String(length=40), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_program_id'), ['program_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_sales_id'), ['sales_id'], unique=False)
    op.create_table('schedule_adjustments',
    sa.Column('adjustment_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('sales_id', sa.String(length=40), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('ship_date', sa.Date(), nullable=True),
    sa.Column('item_id', sa.String(length=40), nullable=True),
    sa.Column('price_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('pause_from', sa.Date(), nullable=True),
    sa.Column('resume_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('adjustment_id', name=op.f('pk_schedule_adjustments'))
    )
    with op.batch_alter_table('schedule_adjustments', schema=None) as batch_op:
        batch_op.create_index('ix_schedule_adjustments_line', ['sales_id', 'line_no'], unique=False)
    with op.batch_alter_table('schedule_occurrences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('date_basis', sa.String(length=20), server_default='interval',
                                      nullable=False))
        batch_op.add_column(sa.Column('date_basis_args', sa.Text(), server_default='{}', nullable=False))
    dialect = op.get_bind().dialect.name
    for statement in APPEND_ONLY_POSTGRES if dialect == 'postgresql' else APPEND_ONLY_SQLITE:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in DROP_APPEND_ONLY_POSTGRES if dialect == 'postgresql' else DROP_APPEND_ONLY_SQLITE:
        op.execute(statement)
    with op.batch_alter_table('schedule_occurrences', schema=None) as batch_op:
        batch_op.drop_column('date_basis_args')
        batch_op.drop_column('date_basis')
    with op.batch_alter_table('schedule_adjustments', schema=None) as batch_op:
        batch_op.drop_index('ix_schedule_adjustments_line')
    op.drop_table('schedule_adjustments')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_sales_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_program_id'))
    op.drop_table('audit_entries')
