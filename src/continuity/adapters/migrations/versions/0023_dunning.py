"""Dunning that follows the decline (issue 17 part 2)

payment_attempts.decline_code (domain.dunning.DeclineCode; '' for a decline recorded before: generic,
soft) and retry_no (0: the first try of an installment on its card; k: its k-th retry), with an index on
(card_token, as_of) for a card's hard declines and its retry budget. The parameters get the retry
schedule, its window and the card's retry budget; a program may set its own upcoming-charge notice days.
The retry_no of the attempts made before: the declined attempts of the same installment, operation and
card before them.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 13:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('payment_attempts', sa.Column('decline_code', sa.String(30), nullable=False, server_default=''))
    op.add_column('payment_attempts', sa.Column('retry_no', sa.Integer(), nullable=False, server_default='0'))
    op.create_index('ix_payment_attempts_card', 'payment_attempts', ['card_token', 'as_of'])
    op.execute(
        "UPDATE payment_attempts SET retry_no = (SELECT COUNT(*) FROM payment_attempts b "
        "WHERE b.subject = payment_attempts.subject AND b.sales_id = payment_attempts.sales_id "
        "AND b.line_no = payment_attempts.line_no AND b.seq = payment_attempts.seq "
        "AND b.operation = payment_attempts.operation AND b.card_token = payment_attempts.card_token "
        "AND b.status = 'declined' AND b.attempt_no < payment_attempts.attempt_no) "
        "WHERE subject = 'installment'"
    )
    op.add_column(
        'continuity_parameters', sa.Column('retry_days', sa.String(40), nullable=False, server_default='1,3,5,7')
    )
    op.add_column(
        'continuity_parameters', sa.Column('retry_window_days', sa.Integer(), nullable=False, server_default='14')
    )
    op.add_column(
        'continuity_parameters', sa.Column('card_retry_budget', sa.Integer(), nullable=False, server_default='15')
    )
    op.add_column(
        'continuity_parameters',
        sa.Column('card_retry_budget_days', sa.Integer(), nullable=False, server_default='30'),
    )
    op.add_column('programs', sa.Column('upcoming_charge_notice_days', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('programs') as batch:
        batch.drop_column('upcoming_charge_notice_days')
    with op.batch_alter_table('continuity_parameters') as batch:
        for column in ('card_retry_budget_days', 'card_retry_budget', 'retry_window_days', 'retry_days'):
            batch.drop_column(column)
    op.drop_index('ix_payment_attempts_card', table_name='payment_attempts')
    with op.batch_alter_table('payment_attempts') as batch:
        batch.drop_column('retry_no')
        batch.drop_column('decline_code')
