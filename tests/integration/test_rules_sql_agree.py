"""The SQL form of a rule (adapters/sql_rules.py) picks the same rows as its Python form (the domain), on
generated rows, on SQLite and PostgreSQL: an occurrence due, a charge in flight, an installment a charge
claims, a card expired (issue 12 item 2)."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Date, bindparam

from continuity.adapters import sql_rules as R
from continuity.adapters.batch.sql import sql_text
from continuity.domain.card import is_expired, month_index
from continuity.domain.payments import CLAIMABLE, AttemptOperation, PaymentStatus, is_claimable, is_in_flight
from continuity.domain.schedule import OccurrenceStatus, is_due

DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))
RULES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

occurrences = st.lists(st.tuples(st.sampled_from(list(OccurrenceStatus)), DAYS), max_size=12)
installments = st.lists(st.tuples(st.sampled_from(list(PaymentStatus)), DAYS), max_size=12)
cards = st.lists(st.tuples(st.integers(2024, 2029), st.integers(1, 12)), max_size=12)


def _scratch(conn: Connection) -> None:
    """Scratch tables on this connection, with the columns the fragments read."""
    for name, columns in (
        ("rule_occurrences", "id INTEGER PRIMARY KEY, status VARCHAR(20), ship_date DATE"),
        ("rule_installments", "id INTEGER PRIMARY KEY, status VARCHAR(20), due_date DATE"),
        ("rule_cards", "id INTEGER PRIMARY KEY, expiry_year INTEGER, expiry_month INTEGER"),
    ):
        conn.execute(sql_text(f"CREATE TEMPORARY TABLE {name} ({columns})"))


def _fill(conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    conn.execute(sql_text(f"DELETE FROM {table}"))
    if rows:
        named = ", ".join(":" + c for c in columns)
        clause = sql_text(f"INSERT INTO {table} (id, {', '.join(columns)}) VALUES (:id, {named})")
        dates = [bindparam(c, type_=Date()) for c in columns if c.endswith("_date")]
        conn.execute(
            clause.bindparams(*dates) if dates else clause,
            [{"id": n, **dict(zip(columns, _plain(row)))} for n, row in enumerate(rows)],
        )


def _plain(row: tuple[object, ...]) -> tuple[object, ...]:
    return tuple(v.value if isinstance(v, OccurrenceStatus | PaymentStatus) else v for v in row)


def _ids(conn: Connection, statement: str, params: dict[str, object]) -> set[int]:
    return {r[0] for r in conn.execute(sql_text(statement), params)}


def test_due_in_flight_claimable_and_expired_agree_in_sql_and_python(app):
    with app.engine.connect() as conn:
        _scratch(conn)

        @RULES
        @given(rows=occurrences, until=DAYS)
        def due(rows: list[tuple[OccurrenceStatus, date]], until: date) -> None:
            _fill(conn, "rule_occurrences", ("status", "ship_date"), rows)
            found = _ids(conn, f"SELECT id FROM rule_occurrences o WHERE {R.occurrence_due('o')}", {"due_until": until})
            assert found == {n for n, (status, ship) in enumerate(rows) if is_due(status, ship, until)}

        @RULES
        @given(rows=installments, as_of=DAYS, operation=st.sampled_from(list(CLAIMABLE)))
        def in_flight_and_claimable(
            rows: list[tuple[PaymentStatus, date]], as_of: date, operation: AttemptOperation
        ) -> None:
            _fill(conn, "rule_installments", ("status", "due_date"), rows)
            flying = _ids(conn, f"SELECT id FROM rule_installments i WHERE {R.installment_in_flight('i')}", {})
            assert flying == {n for n, (status, _) in enumerate(rows) if is_in_flight(status)}
            claimed = _ids(
                conn,
                f"SELECT id FROM rule_installments i WHERE {R.installment_claimable('i', operation=operation)}",
                {"as_of": as_of},
            )
            assert claimed == {n for n, (s, due_date) in enumerate(rows) if is_claimable(s, due_date, as_of, operation)}

        @RULES
        @given(rows=cards, day=DAYS)
        def expired(rows: list[tuple[int, int]], day: date) -> None:
            _fill(conn, "rule_cards", ("expiry_year", "expiry_month"), rows)
            found = _ids(
                conn,
                f"SELECT id FROM rule_cards c WHERE {R.card_expired('c')}",
                {"month_index": month_index(day.year, day.month)},
            )
            assert found == {n for n, (year, month) in enumerate(rows) if is_expired(year, month, day)}

        due()
        in_flight_and_claimable()
        expired()
