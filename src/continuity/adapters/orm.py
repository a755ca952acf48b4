"""The database schema (SQLAlchemy Core). Money is stored exactly as BIGINT minor units
plus a currency code; business dates are DATE; instants are timezone-aware UTC."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from continuity.adapters.sql_rules import claimable_status, equals
from continuity.domain.payments import PaymentStatus
from continuity.domain.sales_order import OrderStatus

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _money(name: str, nullable: bool = False) -> Column[int]:
    return Column(f"{name}_minor", BigInteger, nullable=nullable)


def _currency() -> Column[str]:
    return Column("currency", String(3), nullable=False)


def _shipping_charge() -> tuple[Column[str], Column[int]]:
    """A program's or a parent product's shipping charge: none, per_order or per_unit, and its amount."""
    return (
        Column("shipping_kind", String(20), nullable=False, server_default="none"),
        Column("shipping_minor", BigInteger, nullable=False, server_default="0"),
    )


def _partial_index(name: str, *columns: str, where: str) -> Index:
    """An index of the rows ``where`` holds only, on SQLite and PostgreSQL alike."""
    return Index(name, *columns, sqlite_where=text(where), postgresql_where=text(where))


continuity_parameters = Table(
    "continuity_parameters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("repeat_threshold", Integer, nullable=False),
    Column("delivery_lead_days", Integer, nullable=False),
    Column("max_child_orders_per_run", Integer, nullable=False),
    Column("authorize_child_orders", Boolean, nullable=False),
    Column("reauthorization_limit", Integer, nullable=False),
    Column("upcoming_charge_notice_days", Integer, nullable=False),
    Column("card_expiry_notice_days", Integer, nullable=False, server_default="14"),
    # prices include tax (gross) or not (net): each order keeps what it was entered under (0020)
    Column("prices_include_tax", Boolean, nullable=False, server_default=false()),
    Column("retry_days", String(40), nullable=False, server_default="1,3,5,7"),
    Column("retry_window_days", Integer, nullable=False, server_default="14"),
    Column("card_retry_budget", Integer, nullable=False, server_default="15"),
    Column("card_retry_budget_days", Integer, nullable=False, server_default="30"),
    CheckConstraint("id = 1", name="singleton"),
)

number_sequences = Table(
    "number_sequences",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("next_value", BigInteger, nullable=False),
)

payment_schedules = Table(
    "payment_schedules",
    metadata,
    Column("payment_schedule_id", String(40), primary_key=True),
    Column("description", String(200), nullable=False),
    Column("number_of_payments", Integer, nullable=False),
    Column("interval", String(20), nullable=False),
    Column("allocation", String(20), nullable=False),
)

programs = Table(
    "programs",
    metadata,
    Column("program_id", String(40), primary_key=True),
    Column("description", String(200), nullable=False),
    Column("order_start", String(20), nullable=False),
    Column("bill_up_front", Boolean, nullable=False),
    Column("payment_schedule_id", ForeignKey("payment_schedules.payment_schedule_id"), nullable=True),
    Column("prompt_for_start_date", Boolean, nullable=False),
    Column("prompt_for_payment_schedule", Boolean, nullable=False),
    Column("days_after_order", Integer, nullable=False),
    Column("consolidate_past_orders", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("current_event", Integer, nullable=True),
    Column("last_checked", Date, nullable=True),
    # what a return of a child order does to the schedule: continue, replace, cancel_remaining (0018)
    Column("return_action", String(20), nullable=False, server_default="continue"),
    *_shipping_charge(),
    Column("upcoming_charge_notice_days", Integer, nullable=True),  # None: the parameters' days
)

items = Table(
    "items",
    metadata,
    Column("item_id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    _money("price"),
    _currency(),
    Column("continuity_program_id", ForeignKey("programs.program_id"), nullable=True),
    # its tax group in the rate table, and a parent product's shipping charge (0020)
    Column("tax_group", String(40), nullable=False, server_default=""),
    *_shipping_charge(),
)

#: a tax group's rate in a region (an address's country code) from a day on, in millionths (0020)
tax_rates = Table(
    "tax_rates",
    metadata,
    Column("tax_group", String(40), primary_key=True),
    Column("region", String(10), primary_key=True),
    Column("valid_from", Date, primary_key=True),
    Column("rate_ppm", Integer, nullable=False),
    CheckConstraint("rate_ppm >= 0 AND rate_ppm <= 1000000", name="rate_range"),
)

program_events = Table(
    "program_events",
    metadata,
    Column("program_id", ForeignKey("programs.program_id", ondelete="CASCADE"), primary_key=True),
    Column("event_id", Integer, primary_key=True),
    Column("item_id", ForeignKey("items.item_id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    _money("price", nullable=True),
    Column("currency", String(3), nullable=True),
    Column("times_to_repeat", Integer, nullable=False),
    Column("interval", String(20), nullable=False),
    Column("start_date", Date, nullable=True),
    Column("action", String(10), nullable=False),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("times_to_repeat >= 1", name="repeats_positive"),
)

customers = Table(
    "customers",
    metadata,
    Column("account", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_search", String(200), nullable=False, index=True),
    Column("phone", String(40), nullable=False),
    Column("phone_digits", String(40), nullable=False, index=True),
    Column("email", String(200), nullable=False, index=True),
    Column("language", String(10), nullable=False),
)

#: the keys of each customer's name that the agent's search looks up (domain.name_match.name_keys);
#: bytewise on PostgreSQL so that a typed prefix is a key range of the primary key
customer_name_keys = Table(
    "customer_name_keys",
    metadata,
    Column("key", String(40).with_variant(String(40, collation="C"), "postgresql"), primary_key=True),
    Column("account", ForeignKey("customers.account", ondelete="CASCADE"), primary_key=True, index=True),
)

#: what the agent noted during a call with the customer (free text, masked like a reason; audited)
call_notes = Table(
    "call_notes",
    metadata,
    Column("note_id", Integer, primary_key=True, autoincrement=True),
    Column("account", ForeignKey("customers.account"), nullable=False, index=True),
    Column("author", String(100), nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
    Column("body", Text, nullable=False),
)

addresses = Table(
    "addresses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", ForeignKey("customers.account", ondelete="CASCADE"), nullable=False, index=True),
    Column("purpose", String(20), nullable=False),
    Column("street", String(200), nullable=False),
    Column("city", String(100), nullable=False),
    Column("postal_code", String(20), nullable=False),
    Column("country", String(2), nullable=False),
)

cards = Table(
    "cards",
    metadata,
    Column("token", String(80), primary_key=True),
    Column("account", ForeignKey("customers.account"), nullable=False, index=True),
    Column("brand", String(20), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("expiry_month", Integer, nullable=False),
    Column("expiry_year", Integer, nullable=False),
    Column("holder", String(200), nullable=False),
    # the customer's default card, and a card the agent removed: never offered again, its row kept (0017)
    Column("is_default", Boolean, nullable=False, server_default=false()),
    Column("removed_at", DateTime(timezone=True), nullable=True),
)

sales_orders = Table(
    "sales_orders",
    metadata,
    Column("sales_id", String(40), primary_key=True),
    Column("account", ForeignKey("customers.account"), nullable=False, index=True),
    Column("order_date", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("hold_reason", Text, nullable=False),  # the hold's note
    Column("hold_code", String(40), nullable=False, server_default=""),  # while on hold (0021), else ''
    Column("is_continuity_parent", Boolean, nullable=False),
    Column("parent_sales_id", ForeignKey("sales_orders.sales_id"), nullable=True, index=True),
    Column("tracking_number", String(80), nullable=True),
    Column("released_on", Date, nullable=True),
    Column("shipped_on", Date, nullable=True),
    Column("invoiced_on", Date, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("prices_include_tax", Boolean, nullable=False, server_default=false()),  # 0020
    # the few held orders, for the jobs that release holds (migration 0008; by hold code from 0021)
    _partial_index("ix_sales_orders_held", "sales_id", where="hold_code <> ''"),
    # where the order ships: a copy of the address chosen at order entry (0022)
    Column("ship_street", String(200), nullable=True),
    Column("ship_city", String(100), nullable=True),
    Column("ship_postal_code", String(20), nullable=True),
    Column("ship_country", String(2), nullable=True),
    # the child orders shipped and not yet invoiced, for invoice-shipped (migration 0009)
    _partial_index("ix_sales_orders_shipped", "shipped_on", "sales_id", where=equals("status", OrderStatus.SHIPPED)),
    # the open parent orders, for close-orders (migration 0009)
    _partial_index(
        "ix_sales_orders_open_parents",
        "sales_id",
        where=equals("status", OrderStatus.OPEN) + " AND is_continuity_parent",
    ),
)

#: the hold codes (set-up data, 0021): domain/holds.py has the built-in ones
hold_codes = Table(
    "hold_codes",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("description", Text, nullable=False),
    Column("kind", String(20), nullable=False),
)

sales_lines = Table(
    "sales_lines",
    metadata,
    Column("sales_id", ForeignKey("sales_orders.sales_id", ondelete="CASCADE"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("item_id", ForeignKey("items.item_id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    _money("unit_price"),
    _currency(),
    Column("status", String(20), nullable=False),
    Column("parent_sales_id", String(40), nullable=True),
    Column("parent_line_no", Integer, nullable=True),
    Column("parent_seq", Integer, nullable=True),
    # the line's shipping charge (priced as the order's prices are) and its tax, items and charge (0020)
    Column("charge_minor", BigInteger, nullable=False, server_default="0"),
    Column("tax_minor", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    # one child line per parent occurrence, ever: the natural key of child orders
    UniqueConstraint("parent_sales_id", "parent_line_no", "parent_seq", name="uq_sales_lines_parent_occurrence"),
)

continuity_lines = Table(
    "continuity_lines",
    metadata,
    Column("sales_id", String(40), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("program_id", ForeignKey("programs.program_id"), nullable=False, index=True),
    Column("item_id", String(40), nullable=False, index=True),
    Column("quantity", Integer, nullable=False),
    Column("planned_count", Integer, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("start_event", Integer, nullable=False),
    Column("bill_up_front", Boolean, nullable=False),
    Column("payment_schedule_id", ForeignKey("payment_schedules.payment_schedule_id"), nullable=True),
    Column("card_token", ForeignKey("cards.token"), nullable=True),
    # no index on status: jobs walk lines in key order (keyset chunks), a status index only misleads
    Column("status", String(20), nullable=False),
)

schedule_occurrences = Table(
    "schedule_occurrences",
    metadata,
    Column("sales_id", String(40), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("event_id", Integer, nullable=False),
    Column("item_id", ForeignKey("items.item_id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    _money("price"),
    _currency(),
    Column("ship_date", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("child_sales_id", String(40), nullable=True, index=True),
    # why the ship date is what it is: a code (start, interval, month_end, rescheduled, shifted, paused,
    # pause_open) and its parameters as JSON, so `explain` can say it in one sentence (migration 0003)
    Column("date_basis", String(20), nullable=False, server_default="interval"),
    Column("date_basis_args", Text, nullable=False, server_default="{}"),
)

payments = Table(
    "payments",
    metadata,
    Column("payment_id", Integer, primary_key=True, autoincrement=True),
    Column("sales_id", ForeignKey("sales_orders.sales_id"), nullable=False, index=True),
    Column("method", String(20), nullable=False),
    Column("card_token", ForeignKey("cards.token"), nullable=False),
    _money("amount"),
    _currency(),
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    # the few submit authorizations not yet settled (migration 0010)
    _partial_index("ix_payments_authorized", "payment_id", where=equals("status", PaymentStatus.AUTHORIZED)),
)

_CLAIMABLE = claimable_status(None)  # status IN ('not_submitted', 'authorized', 'declined'): migration 0005

installments = Table(
    "installments",
    metadata,
    Column("sales_id", String(40), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("due_date", Date, nullable=False),
    _money("amount"),
    _currency(),
    Column("status", String(20), nullable=False),
    Column("parent_sales_id", String(40), nullable=False),
    Column("parent_line_no", Integer, nullable=False),
    Column("item_id", String(40), nullable=False),
    # the idempotency key of the authorization holding this installment's money (migration 0010)
    Column("authorization_key", String(120), nullable=True),
    Index("ix_installments_due", "status", "due_date"),
    Index("ix_installments_parent", "parent_sales_id", "parent_line_no"),
    # what process-payments can still claim, in its claim order (migration 0005)
    _partial_index("ix_installments_claimable", "due_date", "sales_id", "line_no", "seq", where=_CLAIMABLE),
    _partial_index("ix_installments_authorization", "authorization_key", where="authorization_key IS NOT NULL"),
)

payment_attempts = Table(
    "payment_attempts",
    metadata,
    Column("attempt_id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(120), nullable=False, unique=True),
    Column("subject", String(20), nullable=False),  # "payment" (line_no 0, seq = payment_id) or "installment"
    Column("sales_id", String(40), nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("operation", String(20), nullable=False),
    Column("attempt_no", Integer, nullable=False),
    Column("card_token", String(80), nullable=False),
    _money("amount"),
    _currency(),
    Column("status", String(20), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("gateway_reference", String(80), nullable=True),
    Column("authorization_reference", String(80), nullable=True),  # a capture: the authorization it settles
    Column("as_of", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decline_code", String(30), nullable=False, server_default=""),  # domain.dunning.DeclineCode
    Column("retry_no", Integer, nullable=False, server_default="0"),  # 0: the first try on its card; k: k-th retry
    Index("ix_payment_attempts_card", "card_token", "as_of"),  # a card's hard declines and retry budget
    _partial_index(
        "ix_payment_attempts_authorization", "authorization_reference", where="authorization_reference IS NOT NULL"
    ),
    UniqueConstraint(
        "subject", "sales_id", "line_no", "seq", "operation", "attempt_no", name="uq_payment_attempts_natural"
    ),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(40), nullable=False, index=True),
    Column("as_of", Date, nullable=False),
    Column("filters", Text, nullable=False),  # JSON
    Column("counts", Text, nullable=False),  # JSON
    Column("status", String(20), nullable=False),
    Column("error", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),  # refreshed while the run makes progress
)

notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(160), nullable=False, unique=True),
    Column("kind", String(30), nullable=False),
    Column("account", String(40), nullable=False),
    Column("sales_id", String(40), nullable=False),
    Column("language", String(10), nullable=False),
    Column("email", String(200), nullable=False),
    Column("payload", Text, nullable=False),  # JSON: amount, currency, due_date, reason
    Column("as_of", Date, nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=False),
    Index("ix_notifications_undelivered", "delivered_at", "notification_id"),
)

# -- the JSON API (migration 0002) ---------------------------------------------------------------

users = Table(
    "users",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    # SHA-256 of the bearer token (base64url); the token itself is shown once and never stored
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),  # set: no login, no token (0012)
    CheckConstraint("role IN ('agent', 'warehouse', 'manager', 'admin')", name="role_known"),
)

idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True),
    Column("idempotency_key", String(255), primary_key=True),
    # HMAC of method, path and body keyed by the caller's token: a body holding a card number
    # leaves no guessable hash behind
    Column("request_hash", String(64), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(300), nullable=False),
    Column("status", String(20), nullable=False),  # running, completed, unstored
    Column("response_status", Integer, nullable=True),
    Column("response_content_type", String(100), nullable=True),
    Column("response_body", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

# -- tables of later changes live in their own modules, on this same metadata -------------------
from continuity.adapters import orm_returns, orm_servicing, orm_web  # noqa: E402,F401  (registers their tables)
