"""Job-run heartbeat: job_runs.heartbeat_at, refreshed while a run makes progress

A run whose worker was killed (SIGKILL, power loss) stayed 'running' forever. Its heartbeat now
stops moving, and the next run marks it 'abandoned'. Rows from before this revision have no
heartbeat; their started_at stands in for it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 06:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
