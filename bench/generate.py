"""The bench's data (also the job tests'): N parent continuity orders with due occurrences, written
set-based. Not part of the continuity package: it writes the tables directly, past the services.

Each parent gets its own customer and card, one sales line and one continuity line of a demo
program (``continuity.services.demo``; loaded when the database has no items yet), its schedule
occurrences (``due_occurrences`` shipped on or before ``as_of``, then ``future_occurrences`` later
ones) and, when the program has a payment schedule, that schedule's installments. Everything is a
handful of ``INSERT … SELECT`` statements over a numbers table (generate_series on PostgreSQL, a
recursive CTE on SQLite) in one transaction, so 100k parents take seconds.

Card tokens are ``tok_test_<behaviour>_<n>``: the test gateway approves, declines or times out by
the third part (``decline_every`` / ``timeout_every`` pick every k-th parent); ``expired_every``
gives every k-th parent an expired card (its children are skipped by create-child-orders).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from math import gcd

from sqlalchemy import Connection, Date, Engine, bindparam, text

from continuity.adapters.batch.sql import is_postgres, sql_text
from continuity.domain.calendar import Interval, add_days, add_months
from continuity.domain.name_match import name_keys

WIDTH = 8  # digits of the generated numbers: ids sort like the numbers
_TABLES = (
    "customers",
    "cards",
    "sales_orders",
    "sales_lines",
    "continuity_lines",
    "schedule_occurrences",
    "installments",
)


@dataclass(frozen=True)
class GeneratedParents:
    """What was generated: parents ``sales_id(first)`` … ``sales_id(last)`` and their counts."""

    first: int
    last: int
    prefix: str
    program_id: str
    parents: int
    occurrences: int
    due_occurrences: int  # occurrences with ship_date <= as_of (all parents, expired cards included)
    installments: int
    due_installments: int  # installments with due_date <= as_of
    declining: int  # parents whose card declines
    timing_out: int  # parents whose card times out
    expired: int  # parents whose card is expired

    def sales_id(self, n: int) -> str:
        return sales_id(self.prefix, n)


def sales_id(prefix: str, n: int) -> str:
    """The parent sales order id of generated number ``n``."""
    return f"SO-{prefix}{n:0{WIDTH}d}"


def generate_due_parents(
    engine: Engine,
    n: int,
    as_of: date,
    *,
    program_id: str = "TRILOGY",
    due_occurrences: int = 1,
    future_occurrences: int = 0,
    first: int = 1,
    prefix: str = "G",
    decline_every: int = 0,
    timeout_every: int = 0,
    expired_every: int = 0,
    interval_days: int = 30,
    now: datetime | None = None,
) -> GeneratedParents:
    """Insert ``n`` open parent orders (numbers ``first`` … ``first + n - 1``) of ``program_id``.

    Occurrence ``seq`` 1 … ``due_occurrences`` ship ``interval_days`` apart, the last one on
    ``as_of``; the ``future_occurrences`` after it are not due yet. Items and prices follow the
    program's events (each repeated ``times_to_repeat``, cycled; start event 1); the program's own
    intervals are not used. The demo data is loaded first when the database has no items. Numbers
    already generated with the same prefix must not be generated again (primary keys).
    """
    if n <= 0:
        raise ValueError("n must be positive")
    if due_occurrences < 0 or future_occurrences < 0 or due_occurrences + future_occurrences < 1:
        raise ValueError("a parent needs at least one occurrence")
    if not 1 <= len(prefix) <= 20 or not prefix.isalnum():
        raise ValueError("prefix: 1-20 letters or digits")
    _ensure_demo(engine, as_of)
    now = now or datetime.now(UTC)
    last = first + n - 1
    with engine.begin() as conn:
        program = _program(conn, program_id)
        occ = _occurrence_plan(program, as_of, due_occurrences, future_occurrences, interval_days)
        order_date = add_days(occ[0]["ship_date"], -program["days_after_order"])
        total = sum(o["price_minor"] * o["quantity"] for o in occ)
        inst = _installment_plan(program, order_date, total)
        sqlite = not is_postgres(conn)
        if sqlite:  # index pages of 100k+ rows stay in memory instead of spilling
            cache_size = int(conn.exec_driver_sql("PRAGMA cache_size").scalar())
            conn.exec_driver_sql("PRAGMA cache_size = -262144")
        try:
            _numbers(conn, first, last)
            _small_table(
                conn,
                "tmp_gen_occ",
                "seq INTEGER, event_id INTEGER, item_id VARCHAR(40), "
                "quantity INTEGER, price_minor BIGINT, ship_date DATE",
                occ,
            )
            _small_table(conn, "tmp_gen_inst", "seq INTEGER, due_date DATE, amount_minor BIGINT", inst)
            _insert_all(
                conn,
                program,
                prefix,
                as_of,
                order_date,
                total,
                len(occ),
                now,
                decline_every,
                timeout_every,
                expired_every,
            )
            for name in ("tmp_gen_numbers", "tmp_gen_occ", "tmp_gen_inst"):
                conn.execute(text(f"DROP TABLE {name}"))
        finally:
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA cache_size = {cache_size}")
    if engine.dialect.name == "postgresql":  # fresh statistics, or the planner guesses from empty tables
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE " + ", ".join(_TABLES)))
    return GeneratedParents(
        first=first,
        last=last,
        prefix=prefix,
        program_id=program_id,
        parents=n,
        occurrences=n * len(occ),
        due_occurrences=n * due_occurrences,
        installments=n * len(inst),
        due_installments=n * sum(1 for i in inst if i["due_date"] <= as_of),
        declining=_multiples(first, last, decline_every),
        timing_out=_multiples(first, last, timeout_every, excluding=decline_every),
        expired=_multiples(first, last, expired_every),
    )


def _ensure_demo(engine: Engine, today: date) -> None:
    with engine.connect() as conn:
        has_items = conn.execute(text("SELECT COUNT(*) FROM items")).scalar_one() > 0
    if not has_items:
        from continuity.adapters.clock import SystemClock
        from continuity.adapters.unit_of_work import SqlUnitOfWork
        from continuity.services.demo import load_demo

        load_demo(partial(SqlUnitOfWork, engine, SystemClock()), today)


def _program(conn: Connection, program_id: str) -> dict:
    row = conn.execute(
        text(
            "SELECT p.program_id, p.bill_up_front, p.payment_schedule_id, p.days_after_order, i.item_id, i.currency "
            "FROM programs p JOIN items i ON i.continuity_program_id = p.program_id WHERE p.program_id = :p "
            "ORDER BY i.item_id"
        ),
        {"p": program_id},
    ).first()
    if row is None:
        raise ValueError(f"no program {program_id!r} with a continuity item")
    events = conn.execute(
        text(
            "SELECT e.event_id, e.item_id, e.quantity, COALESCE(e.price_minor, i.price_minor), e.times_to_repeat "
            "FROM program_events e JOIN items i ON i.item_id = e.item_id WHERE e.program_id = :p ORDER BY e.event_id"
        ),
        {"p": program_id},
    ).all()
    schedule = None
    if row.payment_schedule_id:
        schedule = conn.execute(
            text("SELECT number_of_payments, interval FROM payment_schedules WHERE payment_schedule_id = :s"),
            {"s": row.payment_schedule_id},
        ).one()
    return {
        "program_id": row.program_id,
        "bill_up_front": bool(row.bill_up_front),
        "payment_schedule_id": row.payment_schedule_id,
        "days_after_order": row.days_after_order,
        "parent_item_id": row.item_id,
        "currency": row.currency,
        "schedule": schedule,
        "events": [e for e in events for _ in range(e[4])],
    }


def _occurrence_plan(program: dict, as_of: date, due: int, future: int, interval_days: int) -> list[dict]:
    events = program["events"]
    plan = []
    for seq in range(1, due + future + 1):
        event_id, item_id, quantity, price_minor, _ = events[(seq - 1) % len(events)]
        plan.append(
            {
                "seq": seq,
                "event_id": event_id,
                "item_id": item_id,
                "quantity": quantity,
                "price_minor": price_minor,
                "ship_date": add_days(as_of, interval_days * (seq - due)),
            }
        )
    return plan


def _installment_plan(program: dict, order_date: date, total: int) -> list[dict]:
    """The payment schedule's installments (one interval apart from the order date; remainder on the last)."""
    schedule = program["schedule"]
    if schedule is None:
        return []
    count = schedule.number_of_payments
    step = Interval.parse(schedule.interval)
    shift = add_months if step.unit == "months" else add_days
    share = total // count
    return [
        {
            "seq": k,
            "due_date": shift(order_date, (k - 1) * step.count),
            "amount_minor": share + (total - share * count if k == count else 0),
        }
        for k in range(1, count + 1)
    ]


def _numbers(conn: Connection, first: int, last: int) -> None:
    """tmp_gen_numbers(n, pad): the numbers and their zero-padded text, computed once."""
    conn.execute(text("DROP TABLE IF EXISTS tmp_gen_numbers"))
    conn.execute(text("CREATE TEMPORARY TABLE tmp_gen_numbers (n BIGINT PRIMARY KEY, pad VARCHAR(20) NOT NULL)"))
    if is_postgres(conn):
        conn.execute(
            text(
                f"INSERT INTO tmp_gen_numbers (n, pad) SELECT s, lpad(CAST(s AS TEXT), {WIDTH}, '0') "
                "FROM generate_series(CAST(:first AS BIGINT), CAST(:last AS BIGINT)) AS s"
            ),
            {"first": first, "last": last},
        )
        conn.execute(text("ANALYZE tmp_gen_numbers"))
    else:
        conn.execute(
            text(
                "INSERT INTO tmp_gen_numbers (n, pad) WITH RECURSIVE nums(n) AS "
                f"(SELECT :first UNION ALL SELECT n + 1 FROM nums WHERE n < :last) SELECT n, printf('%0{WIDTH}d', n) "
                "FROM nums"
            ),
            {"first": first, "last": last},
        )


def _small_table(conn: Connection, name: str, columns: str, rows: list[dict]) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    conn.execute(text(f"CREATE TEMPORARY TABLE {name} ({columns})"))
    if rows:
        cols = list(rows[0])
        stmt = text(f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})")
        dates = [bindparam(c, type_=Date()) for c in cols if c.endswith("_date")]
        conn.execute(stmt.bindparams(*dates), rows)


def _insert_all(
    conn: Connection,
    program: dict,
    prefix: str,
    as_of: date,
    order_date: date,
    total: int,
    planned: int,
    now: datetime,
    decline_every: int,
    timeout_every: int,
    expired_every: int,
) -> None:
    pad = "g.pad"
    account = f"'{prefix}' || {pad}"
    sales = f"'SO-{prefix}' || {pad}"
    behaviour = (
        f"CASE WHEN {int(decline_every)} > 0 AND g.n % {int(max(decline_every, 1))} = 0 THEN 'decline' "
        f"WHEN {int(timeout_every)} > 0 AND g.n % {int(max(timeout_every, 1))} = 0 THEN 'timeout' "
        "ELSE 'approve' END"
    )
    token = f"'tok_test_' || {behaviour} || '_' || '{prefix.lower()}' || {pad}"
    expired = f"{int(expired_every)} > 0 AND g.n % {int(max(expired_every, 1))} = 0"
    params = {
        "as_of": as_of,
        "order_date": order_date,
        "now": now,
        "total": total,
        "planned": planned,
        "program_id": program["program_id"],
        "item_id": program["parent_item_id"],
        "currency": program["currency"],
        "schedule_id": program["payment_schedule_id"],
        "up_front": program["bill_up_front"],
        "valid_year": as_of.year + 4,
        "expired_year": as_of.year - 1,
    }
    statements = [
        "INSERT INTO customers (account, name, name_search, phone, phone_digits, email, language) "
        f"SELECT {account}, 'Generated Customer ' || {pad}, 'generated customer ' || {pad}, '+47 ' || {pad}, "
        f"'47' || {pad}, lower({account}) || '@example.com', 'en' FROM tmp_gen_numbers g",
        *(  # the keys of "Generated Customer" (name_match.name_keys) that the agent's search looks up
            f"INSERT INTO customer_name_keys (key, account) SELECT '{key}', {account} FROM tmp_gen_numbers g"
            for key in sorted(name_keys("Generated Customer"))
        ),
        "INSERT INTO cards (token, account, brand, last4, expiry_month, expiry_year, holder) "
        f"SELECT {token}, {account}, 'visa', '1111', 12, CASE WHEN {expired} THEN :expired_year "
        f"ELSE :valid_year END, 'Generated Customer ' || {pad} FROM tmp_gen_numbers g",
        "INSERT INTO sales_orders (sales_id, account, order_date, currency, status, hold_reason, "
        "is_continuity_parent, parent_sales_id, created_at) "
        f"SELECT {sales}, {account}, :order_date, :currency, 'open', '', TRUE, NULL, :now FROM tmp_gen_numbers g",
        "INSERT INTO sales_lines (sales_id, line_no, item_id, quantity, unit_price_minor, currency, status) "
        f"SELECT {sales}, 1, :item_id, 1, :total, :currency, 'open' FROM tmp_gen_numbers g",
        "INSERT INTO continuity_lines (sales_id, line_no, program_id, item_id, quantity, planned_count, start_date, "
        "start_event, bill_up_front, payment_schedule_id, card_token, status) "
        f"SELECT {sales}, 1, :program_id, :item_id, 1, :planned, :order_date, 1, :up_front, :schedule_id, {token}, "
        "'open' FROM tmp_gen_numbers g",
        "INSERT INTO schedule_occurrences (sales_id, line_no, seq, event_id, item_id, quantity, price_minor, "
        "currency, ship_date, status, child_sales_id) "
        f"SELECT {sales}, 1, o.seq, o.event_id, o.item_id, o.quantity, o.price_minor, :currency, o.ship_date, "
        "'pending', NULL FROM tmp_gen_numbers g CROSS JOIN tmp_gen_occ o",
        "INSERT INTO installments (sales_id, line_no, seq, due_date, amount_minor, currency, status, "
        "parent_sales_id, parent_line_no, item_id) "
        f"SELECT {sales}, 1, i.seq, i.due_date, i.amount_minor, :currency, 'not_submitted', {sales}, 1, :item_id "
        "FROM tmp_gen_numbers g CROSS JOIN tmp_gen_inst i",
    ]
    for statement in statements:
        clause = sql_text(statement)
        if ":order_date" in statement:
            clause = clause.bindparams(bindparam("order_date", type_=Date()))
        conn.execute(clause, {k: v for k, v in params.items() if f":{k}" in statement})


def _multiples(first: int, last: int, every: int, excluding: int = 0) -> int:
    if every <= 0:
        return 0
    count = last // every - (first - 1) // every
    if excluding > 0:  # numbers that are multiples of both go to the first behaviour
        both = every * excluding // gcd(every, excluding)
        count -= last // both - (first - 1) // both
    return count
