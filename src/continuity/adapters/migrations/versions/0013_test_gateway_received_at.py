"""The test connector records when each call arrived

test_gateway_ledger.received_at: the connector's own wall-clock time of the first call under each key,
so a test or the bench can check the client's concurrency and rate limit from the gateway's side.
Rows written before have none.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 20:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('test_gateway_ledger') as batch:
        batch.add_column(sa.Column('received_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('test_gateway_ledger') as batch:
        batch.drop_column('received_at')
