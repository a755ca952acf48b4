"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 02:05:12.071099
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('continuity_parameters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('repeat_threshold', sa.Integer(), nullable=False),
    sa.Column('delivery_lead_days', sa.Integer(), nullable=False),
    sa.Column('max_child_orders_per_run', sa.Integer(), nullable=False),
    sa.Column('authorize_child_orders', sa.Boolean(), nullable=False),
    sa.Column('reauthorization_limit', sa.Integer(), nullable=False),
    sa.Column('upcoming_charge_notice_days', sa.Integer(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_continuity_parameters_singleton')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_continuity_parameters'))
    )
    op.create_table('customers',
    sa.Column('account', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_search', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('phone_digits', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('account', name=op.f('pk_customers'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_name_search'), ['name_search'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_phone_digits'), ['phone_digits'], unique=False)

    op.create_table('installments',
    sa.Column('sales_id', sa.String(length=40), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('parent_sales_id', sa.String(length=40), nullable=False),
    sa.Column('parent_line_no', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('sales_id', 'line_no', 'seq', name=op.f('pk_installments'))
    )
    with op.batch_alter_table('installments', schema=None) as batch_op:
        batch_op.create_index('ix_installments_due', ['status', 'due_date'], unique=False)
        batch_op.create_index('ix_installments_parent', ['parent_sales_id', 'parent_line_no'], unique=False)

    op.create_table('job_runs',
    sa.Column('run_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('filters', sa.Text(), nullable=False),
    sa.Column('counts', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_runs_name'), ['name'], unique=False)

    op.create_table('notifications',
    sa.Column('notification_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('account', sa.String(length=40), nullable=False),
    sa.Column('sales_id', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('notification_id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_undelivered', ['delivered_at', 'notification_id'], unique=False)

    op.create_table('number_sequences',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('next_value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_number_sequences'))
    )
    op.create_table('payment_attempts',
    sa.Column('attempt_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('subject', sa.String(length=20), nullable=False),
    sa.Column('sales_id', sa.String(length=40), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('operation', sa.String(length=20), nullable=False),
    sa.Column('attempt_no', sa.Integer(), nullable=False),
    sa.Column('card_token', sa.String(length=80), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('gateway_reference', sa.String(length=80), nullable=True),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('attempt_id', name=op.f('pk_payment_attempts')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_payment_attempts_idempotency_key')),
    sa.UniqueConstraint('subject', 'sales_id', 'line_no', 'seq', 'operation', 'attempt_no', name='uq_payment_attempts_natural')
    )
    with op.batch_alter_table('payment_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_attempts_sales_id'), ['sales_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_attempts_status'), ['status'], unique=False)

    op.create_table('payment_schedules',
    sa.Column('payment_schedule_id', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('number_of_payments', sa.Integer(), nullable=False),
    sa.Column('interval', sa.String(length=20), nullable=False),
    sa.Column('allocation', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('payment_schedule_id', name=op.f('pk_payment_schedules'))
    )
    op.create_table('test_gateway_ledger',
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('operation', sa.String(length=20), nullable=False),
    sa.Column('card_token', sa.String(length=80), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('idempotency_key', name=op.f('pk_test_gateway_ledger'))
    )
    op.create_table('addresses',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('account', sa.String(length=40), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('postal_code', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.ForeignKeyConstraint(['account'], ['customers.account'], name=op.f('fk_addresses_account_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addresses'))
    )
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_addresses_account'), ['account'], unique=False)

    op.create_table('cards',
    sa.Column('token', sa.String(length=80), nullable=False),
    sa.Column('account', sa.String(length=40), nullable=False),
    sa.Column('brand', sa.String(length=20), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('expiry_month', sa.Integer(), nullable=False),
    sa.Column('expiry_year', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['account'], ['customers.account'], name=op.f('fk_cards_account_customers')),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_cards'))
    )
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cards_account'), ['account'], unique=False)

    op.create_table('programs',
    sa.Column('program_id', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('order_start', sa.String(length=20), nullable=False),
    sa.Column('bill_up_front', sa.Boolean(), nullable=False),
    sa.Column('payment_schedule_id', sa.String(length=40), nullable=True),
    sa.Column('prompt_for_start_date', sa.Boolean(), nullable=False),
    sa.Column('prompt_for_payment_schedule', sa.Boolean(), nullable=False),
    sa.Column('days_after_order', sa.Integer(), nullable=False),
    sa.Column('consolidate_past_orders', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('current_event', sa.Integer(), nullable=True),
    sa.Column('last_checked', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['payment_schedule_id'], ['payment_schedules.payment_schedule_id'], name=op.f('fk_programs_payment_schedule_id_payment_schedules')),
    sa.PrimaryKeyConstraint('program_id', name=op.f('pk_programs'))
    )
    op.create_table('sales_orders',
    sa.Column('sales_id', sa.String(length=40), nullable=False),
    sa.Column('account', sa.String(length=40), nullable=False),
    sa.Column('order_date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('hold_reason', sa.Text(), nullable=False),
    sa.Column('is_continuity_parent', sa.Boolean(), nullable=False),
    sa.Column('parent_sales_id', sa.String(length=40), nullable=True),
    sa.Column('tracking_number', sa.String(length=80), nullable=True),
    sa.Column('released_on', sa.Date(), nullable=True),
    sa.Column('shipped_on', sa.Date(), nullable=True),
    sa.Column('invoiced_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account'], ['customers.account'], name=op.f('fk_sales_orders_account_customers')),
    sa.ForeignKeyConstraint(['parent_sales_id'], ['sales_orders.sales_id'], name=op.f('fk_sales_orders_parent_sales_id_sales_orders')),
    sa.PrimaryKeyConstraint('sales_id', name=op.f('pk_sales_orders'))
    )
    with op.batch_alter_table('sales_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_orders_account'), ['account'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_orders_parent_sales_id'), ['parent_sales_id'], unique=False)

    op.create_table('continuity_lines',
    sa.Column('sales_id', sa.String(length=40), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.String(length=40), nullable=False),
    sa.Column('item_id', sa.String(length=40), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('planned_count', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('start_event', sa.Integer(), nullable=False),
    sa.Column('bill_up_front', sa.Boolean(), nullable=False),
    sa.Column('payment_schedule_id', sa.String(length=40), nullable=True),
    sa.Column('card_token', sa.String(length=80), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['card_token'], ['cards.token'], name=op.f('fk_continuity_lines_card_token_cards')),
    sa.ForeignKeyConstraint(['payment_schedule_id'], ['payment_schedules.payment_schedule_id'], name=op.f('fk_continuity_lines_payment_schedule_id_payment_schedules')),
    sa.ForeignKeyConstraint(['program_id'], ['programs.program_id'], name=op.f('fk_continuity_lines_program_id_programs')),
    sa.PrimaryKeyConstraint('sales_id', 'line_no', name=op.f('pk_continuity_lines'))
    )
    with op.batch_alter_table('continuity_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_continuity_lines_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_continuity_lines_program_id'), ['program_id'], unique=False)

    op.create_table('items',
    sa.Column('item_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('continuity_program_id', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['continuity_program_id'], ['programs.program_id'], name=op.f('fk_items_continuity_program_id_programs')),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_items'))
    )
    op.create_table('payments',
    sa.Column('payment_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('sales_id', sa.String(length=40), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('card_token', sa.String(length=80), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['card_token'], ['cards.token'], name=op.f('fk_payments_card_token_cards')),
    sa.ForeignKeyConstraint(['sales_id'], ['sales_orders.sales_id'], name=op.f('fk_payments_sales_id_sales_orders')),
    sa.PrimaryKeyConstraint('payment_id', name=op.f('pk_payments'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_sales_id'), ['sales_id'], unique=False)

    op.create_table('program_events',
    sa.Column('program_id', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=40), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('times_to_repeat', sa.Integer(), nullable=False),
    sa.Column('interval', sa.String(length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_program_events_quantity_positive')),
    sa.CheckConstraint('times_to_repeat >= 1', name=op.f('ck_program_events_repeats_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['items.item_id'], name=op.f('fk_program_events_item_id_items')),
    sa.ForeignKeyConstraint(['program_id'], ['programs.program_id'], name=op.f('fk_program_events_program_id_programs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('program_id', 'event_id', name=op.f('pk_program_events'))
    )
    op.create_table('sales_lines',
    sa.Column('sales_id', sa.String(length=40), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=40), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('parent_sales_id', sa.String(length=40), nullable=True),
    sa.Column('parent_line_no', sa.Integer(), nullable=True),
    sa.Column('parent_seq', sa.Integer(), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_sales_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['items.item_id'], name=op.f('fk_sales_lines_item_id_items')),
    sa.ForeignKeyConstraint(['sales_id'], ['sales_orders.sales_id'], name=op.f('fk_sales_lines_sales_id_sales_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sales_id', 'line_no', name=op.f('pk_sales_lines')),
    sa.UniqueConstraint('parent_sales_id', 'parent_line_no', 'parent_seq', name='uq_sales_lines_parent_occurrence')
    )
    op.create_table('schedule_occurrences',
    sa.Column('sales_id', sa.String(length=40), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=40), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('ship_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('child_sales_id', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.item_id'], name=op.f('fk_schedule_occurrences_item_id_items')),
    sa.PrimaryKeyConstraint('sales_id', 'line_no', 'seq', name=op.f('pk_schedule_occurrences'))
    )
    with op.batch_alter_table('schedule_occurrences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_occurrences_child_sales_id'), ['child_sales_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('schedule_occurrences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_occurrences_child_sales_id'))

    op.drop_table('schedule_occurrences')
    op.drop_table('sales_lines')
    op.drop_table('program_events')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_sales_id'))

    op.drop_table('payments')
    op.drop_table('items')
    with op.batch_alter_table('continuity_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_continuity_lines_program_id'))
        batch_op.drop_index(batch_op.f('ix_continuity_lines_item_id'))

    op.drop_table('continuity_lines')
    with op.batch_alter_table('sales_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_orders_parent_sales_id'))
        batch_op.drop_index(batch_op.f('ix_sales_orders_account'))

    op.drop_table('sales_orders')
    op.drop_table('programs')
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cards_account'))

    op.drop_table('cards')
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_addresses_account'))

    op.drop_table('addresses')
    op.drop_table('test_gateway_ledger')
    op.drop_table('payment_schedules')
    with op.batch_alter_table('payment_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_attempts_status'))
        batch_op.drop_index(batch_op.f('ix_payment_attempts_sales_id'))

    op.drop_table('payment_attempts')
    op.drop_table('number_sequences')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_undelivered')

    op.drop_table('notifications')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_runs_name'))

    op.drop_table('job_runs')
    with op.batch_alter_table('installments', schema=None) as batch_op:
        batch_op.drop_index('ix_installments_parent')
        batch_op.drop_index('ix_installments_due')

    op.drop_table('installments')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_phone_digits'))
        batch_op.drop_index(batch_op.f('ix_customers_name_search'))
        batch_op.drop_index(batch_op.f('ix_customers_email'))

    op.drop_table('customers')
    op.drop_table('continuity_parameters')
