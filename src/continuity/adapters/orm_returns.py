"""Tables of returns (issue 16), on the shared metadata of continuity.adapters.orm.

``return_reasons`` are set-up data. A return of a shipped child order is a ``credit_notes`` row (its
number ``CN-000001`` from ``number_sequences``) with its ``credit_note_lines``; its refund is a payment
attempt (subject ``return``, seq = the credit note's serial number) under the order whose captures it
returns, named by ``refund_key``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Integer, String, Table, Text

from continuity.adapters.orm import metadata

return_reasons = Table(
    "return_reasons",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("description", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
)

credit_notes = Table(
    "credit_notes",
    metadata,
    Column("credit_note_id", String(20), primary_key=True),
    Column("serial", Integer, nullable=False, unique=True),
    Column("sales_id", ForeignKey("sales_orders.sales_id"), nullable=False, index=True),  # the returned child
    Column("parent_sales_id", String(40), nullable=False, index=True),
    Column("reason_code", ForeignKey("return_reasons.code"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("refund_sales_id", String(40), nullable=False),  # the order whose captures the refund returns
    Column("refund_key", String(120), nullable=False),  # the refund attempt's idempotency key
    Column("schedule_action", String(20), nullable=False),  # continue, replace, cancel_remaining
    Column("replacement_sales_id", String(40), nullable=True),
    Column("note", Text, nullable=False),
    Column("returned_on", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

credit_note_lines = Table(
    "credit_note_lines",
    metadata,
    Column("credit_note_id", ForeignKey("credit_notes.credit_note_id", ondelete="CASCADE"), primary_key=True),
    Column("line_no", Integer, primary_key=True),  # the returned line of the child order
    Column("item_id", String(40), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
)
