"""Installments: 'in_flight', a recorded status (issue 12 item 3)

A charge's installment moves to in_flight in the transaction that commits its attempt, before the gateway
call, and the recorded answer moves it on. Before, "in flight" was worked out by every reader from the
attempts. Installments whose charge attempt is pending (a worker at it, or one that died) take the
status now; the others keep theirs. No schema change: the status column is a VARCHAR(20).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 10:40:00
"""
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# the values of the day (domain.payments), written out: a migration does not change with the code
_PENDING_CHARGE = (
    "EXISTS (SELECT 1 FROM payment_attempts a WHERE a.subject = 'installment' AND a.sales_id = installments.sales_id "
    "AND a.line_no = installments.line_no AND a.seq = installments.seq AND a.operation IN ('capture', 'authorize') "
    "AND a.status = 'pending')"
)


def upgrade() -> None:
    op.execute(
        "UPDATE installments SET status = 'in_flight' "
        f"WHERE status IN ('not_submitted', 'authorized', 'declined') AND {_PENDING_CHARGE}"
    )


def downgrade() -> None:
    # best effort: an installment held by an authorization goes back to authorized, any other to not_submitted
    op.execute(
        "UPDATE installments SET status = CASE WHEN authorization_key IS NOT NULL THEN 'authorized' "
        "ELSE 'not_submitted' END WHERE status = 'in_flight'"
    )
