"""Customer name keys (search as the agent types) and call notes

Issue 18 items 9 and 11. customer_name_keys holds, per customer, each word of the name and, from three
letters on, the word with one letter deleted (domain.name_match): the search finds a name typed in any
order and with one typo per word by exact and prefix look-ups of this table's primary key (key first),
never by reading every name. PostgreSQL compares the keys bytewise (COLLATE "C") so a prefix is a key
range. Existing customers get their keys here. call_notes holds the agent's notes of a call on a
customer (free text, masked like a reason), each one also in the audit trail.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 13:40:00
"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

KEY = sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql')


def _keys(name: str) -> set[str]:
    """domain.name_match.name_keys as of this revision (a migration does not change with the code)."""
    decomposed = unicodedata.normalize('NFKD', name)
    plain = ''.join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    found: set[str] = set()
    for word in (w[:40] for w in re.findall(r'[^\W\d_]+', plain)):
        found.add(word)
        if len(word) >= 3:
            found |= {word[:i] + word[i + 1:] for i in range(len(word))}
    return found


def upgrade() -> None:
    keys = op.create_table(
        'customer_name_keys',
        sa.Column('key', KEY, nullable=False),
        sa.Column('account', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['account'], ['customers.account'], name=op.f('fk_customer_name_keys_account_customers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('key', 'account', name=op.f('pk_customer_name_keys')),
    )
    with op.batch_alter_table('customer_name_keys') as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_name_keys_account'), ['account'], unique=False)
    op.create_table(
        'call_notes',
        sa.Column('note_id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('account', sa.String(length=40), nullable=False),
        sa.Column('author', sa.String(length=100), nullable=False),
        sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['account'], ['customers.account'], name=op.f('fk_call_notes_account_customers')),
        sa.PrimaryKeyConstraint('note_id', name=op.f('pk_call_notes')),
    )
    with op.batch_alter_table('call_notes') as batch_op:
        batch_op.create_index(batch_op.f('ix_call_notes_account'), ['account'], unique=False)
    conn = op.get_bind()
    rows = conn.execute(sa.text('SELECT account, name FROM customers')).fetchall()
    values = [{'key': k, 'account': account} for account, name in rows for k in sorted(_keys(name))]
    for start in range(0, len(values), 5000):
        op.bulk_insert(keys, values[start:start + 5000])


def downgrade() -> None:
    op.drop_table('call_notes')
    op.drop_table('customer_name_keys')
