"""Helpers shared by the tests/integration/test_jobs_*.py files (not a test module itself).

Orders are entered through the order-entry services; the batch jobs run through run_job / run_all.
Where a test needs a different card on an open parent (there is no change-card service yet), it
tokenizes the new card through the gateway and points continuity_lines.card_token at it with SQL
(`use_card`) — each test that does so says so.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from continuity.adapters.test_gateway_ledger import arrivals as ledger_arrivals
from continuity.bootstrap import App
from continuity.domain.calendar import add_months
from continuity.services import order_entry, payment_entry
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_all, run_job

KAREN = "004007"
APPROVE = "4111111111111111"
DECLINE = "4000000000000002"
TIMEOUT = "4000000000000119"
START = date(2026, 11, 23)

#: The tables whose rows a second run of a job must leave exactly as they are.
WORK_TABLES = (
    "sales_orders",
    "sales_lines",
    "installments",
    "payment_attempts",
    "notifications",
    "schedule_occurrences",
    "test_gateway_ledger",
)

#: Ledger rows charged under a key no payment attempt has (a charge under a new key): must be 0.
LEDGER_KEYS_WITHOUT_ATTEMPT = (
    "SELECT COUNT(*) FROM test_gateway_ledger g WHERE NOT EXISTS "
    "(SELECT 1 FROM payment_attempts a WHERE a.idempotency_key = g.idempotency_key)"
)
#: Ledger rows whose amount or card differ from their attempt's (``extra``: more OR-ed columns): must be 0.
LEDGER_DIFFERS_FROM_ATTEMPT = (
    "SELECT COUNT(*) FROM test_gateway_ledger g JOIN payment_attempts a ON a.idempotency_key = g.idempotency_key "
    "WHERE g.amount_minor <> a.amount_minor OR g.card_token <> a.card_token"
)


def enter_order(
    app: App, item_id: str, card: str = APPROVE, expiry: str = "12/30", account: str = KAREN, **kwargs
) -> str:
    """Order entry as an agent does it: new order with the item, a card payment, submit."""
    sales_id = order_entry.create_order_with_line(app.uow, app.clock, account, item_id, **kwargs)
    payment_entry.add_card_payment(app.uow, app.gateway, app.clock, sales_id, card, expiry)
    result = payment_entry.submit(app.uow, app.gateway, app.clock, sales_id)
    assert result.status == "open", result
    return sales_id


def use_card(app: App, sales_id: str, card: str, expiry: str = "12/30") -> str:
    """Point the order's lines at another card, the submit authorization having lapsed (as one does after
    about a week): installments it held are then charged afresh, on this card, like every later one."""
    token = payment_entry.tokenize_card(app.uow, app.gateway, app.clock, account_of(app, sales_id), card, expiry).token
    execute(app, "UPDATE continuity_lines SET card_token = :t WHERE sales_id = :s", t=token, s=sales_id)
    execute(app, "UPDATE installments SET authorization_key = NULL WHERE sales_id = :s", s=sales_id)
    return token


def job(app: App, name: str, as_of: date, deps=None, **filters) -> dict:  # type: ignore[no-untyped-def]
    return run_job(deps or app.job_deps(), name, JobRequest(as_of, **filters))


def nightly(app: App, as_of: date, deps=None, fulfil: bool = True) -> list[dict]:  # type: ignore[no-untyped-def]
    return run_all(deps or app.job_deps(), JobRequest(as_of), fulfil=fulfil)


def months(start: date, count: int) -> list[date]:
    return [add_months(start, k) for k in range(count)]


def rows(app: App, statement: str, **params) -> list[tuple]:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(statement), params)]


def scalar(app: App, statement: str, **params):  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return conn.execute(text(statement), params).scalar_one()


def execute(app: App, statement: str, **params) -> int:  # type: ignore[no-untyped-def]
    with app.engine.begin() as conn:
        return conn.execute(text(statement), params).rowcount


def account_of(app: App, sales_id: str) -> str:
    return scalar(app, "SELECT account FROM sales_orders WHERE sales_id = :s", s=sales_id)


def counts(app: App) -> dict[str, int]:
    return {t: scalar(app, f"SELECT COUNT(*) FROM {t}") for t in WORK_TABLES}


def captures(app: App) -> int:
    """Charges the gateway really made (one ledger row per idempotency key)."""
    return scalar(app, "SELECT COUNT(*) FROM test_gateway_ledger WHERE operation = 'capture'")


def children(app: App, parent: str) -> list[tuple]:
    """(child sales_id, status, item, parent_seq) of a parent's child orders, in parent_seq order."""
    return rows(
        app,
        "SELECT so.sales_id, so.status, sl.item_id, sl.parent_seq FROM sales_orders so "
        "JOIN sales_lines sl ON sl.sales_id = so.sales_id "
        "WHERE so.parent_sales_id = :p ORDER BY sl.parent_seq",
        p=parent,
    )


def occurrences(app: App, parent: str) -> list[tuple]:
    """(seq, event_id, item_id, status, child_sales_id) of a parent's schedule, in seq order."""
    return rows(
        app,
        "SELECT seq, event_id, item_id, status, child_sales_id FROM schedule_occurrences "
        "WHERE sales_id = :p ORDER BY line_no, seq",
        p=parent,
    )


def installments(app: App, sales_id: str) -> list[tuple]:
    """(seq, amount_minor, status) of an order's own installments, in seq order."""
    return rows(
        app, "SELECT seq, amount_minor, status FROM installments WHERE sales_id = :s ORDER BY line_no, seq", s=sales_id
    )


def attempts(app: App, sales_id: str) -> list[tuple]:
    """(attempt_no, operation, status, as_of) of the installment attempts of one order."""
    return [
        (n, op, st, d if isinstance(d, date) else date.fromisoformat(str(d)))
        for n, op, st, d in rows(
            app,
            "SELECT attempt_no, operation, status, as_of FROM payment_attempts "
            "WHERE subject = 'installment' AND sales_id = :s ORDER BY attempt_no",
            s=sales_id,
        )
    ]


def status_of(app: App, sales_id: str) -> tuple[str, str]:
    return tuple(rows(app, "SELECT status, hold_reason FROM sales_orders WHERE sales_id = :s", s=sales_id)[0])


def snapshot(app: App, tables: tuple[str, ...] = WORK_TABLES) -> dict[str, list[tuple]]:
    """Every row of the tables (as text, sorted): equal snapshots mean nothing was written."""
    return {t: sorted(tuple(str(v) for v in r) for r in rows(app, f"SELECT * FROM {t}")) for t in tables}


def set_up(app: App, document: dict, as_of: date = START) -> None:
    """Import a setup document (parameters, products, programs) as a merchandiser does."""
    from continuity.services.setup import import_setup
    from continuity.services.setup_documents import parse_setup

    import_setup(app.uow, parse_setup(document), as_of)


def demo_programs(as_of: date = START) -> dict[str, dict]:
    from continuity.services.demo import demo_document

    return {p["program_id"]: p for p in demo_document(as_of)["programs"]}


def with_threshold_two_and_tea(app: App) -> None:
    """repeat_threshold 2 and a TEA club (parent item 0030, not billed up front, paid per shipment):
    event 1 ships item 0022 five times every 14 days, then event 2 ships book 0013 once and ends."""
    from continuity.services.demo import demo_document

    set_up(
        app,
        {
            "parameters": demo_document(START)["parameters"] | {"repeat_threshold": 2},
            "programs": [
                {
                    "program_id": "TEA",
                    "description": "Tea club",
                    "order_start": "first_event",
                    "days_after_order": 0,
                    "events": [
                        {"event_id": 1, "item_id": "0022", "times_to_repeat": 5, "days_from_last_event": 14},
                        {"event_id": 2, "item_id": "0013", "days_from_last_event": 30, "action": "end"},
                    ],
                }
            ],
            "products": [{"item_id": "0030", "name": "Tea club", "price": "0.00", "continuity_program_id": "TEA"}],
        },
    )


#: Per order (the order the authorization was made for), from the gateway's own ledger: every approved
#: authorization minus what was captured or released against it. Never below 0; 0 once the order is closed.
_OPEN_AUTHORIZATIONS = (
    "SELECT a.sales_id, g.amount_minor - COALESCE((SELECT SUM(x.amount_minor) FROM test_gateway_ledger x "
    " WHERE x.authorization_reference = g.reference AND x.outcome = 'approved'), 0) "
    "FROM test_gateway_ledger g JOIN payment_attempts a ON a.idempotency_key = g.idempotency_key "
    "WHERE g.operation = 'authorize' AND g.outcome = 'approved'"
)
#: Captures or voids sent against an authorization made on another card: must be 0.
CAPTURES_ON_ANOTHER_CARD = (
    "SELECT COUNT(*) FROM test_gateway_ledger x JOIN test_gateway_ledger g ON g.reference = x.authorization_reference "
    "WHERE x.card_token <> g.card_token"
)


def open_authorizations(app: App) -> dict[str, int]:
    """Order → minor units still held on cards by its authorizations (orders with none left are absent)."""
    held: dict[str, int] = {}
    for sales_id, left in rows(app, _OPEN_AUTHORIZATIONS):
        assert left >= 0, f"{sales_id}: an authorization was captured or released beyond its amount"
        if left:
            held[sales_id] = held.get(sales_id, 0) + left
    return held


def arrivals(app: App, operation: str = "capture") -> list[float]:
    """When each call of ``operation`` reached the connector (seconds), in order."""
    return ledger_arrivals(app.engine, operation)


def most_in_flight(arrivals: list[float], latency: float) -> int:
    """The most calls in flight at once: a call is in flight for ``latency`` after it arrives (the connector
    answers no sooner), so calls arriving less than ``latency`` apart overlap."""
    return max(sum(1 for a in arrivals if 0 <= t - a < latency) for t in arrivals)
