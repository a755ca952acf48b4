"""Cards that expire before the next shipment they pay for: the candidates, set-based, and their notices.

One query for the nightly notice and the agents' worklist; the services decide (domain.card.Expiry) which
candidates are really expired on the day their next child order is made.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Engine

from continuity.adapters import sql_rules as R
from continuity.adapters.batch.sql import sql_text, transaction
from continuity.domain.card import month_index
from continuity.domain.sales_order import LineStatus, OrderStatus
from continuity.domain.schedule import OccurrenceStatus
from continuity.services.jobs.records import CardExpiryCandidate, CardExpiryNotice

_CANDIDATES = (
    "SELECT cl.sales_id, cl.line_no, so.account, cu.name, cu.language, cu.email, c.token, c.brand, c.last4, "
    "c.expiry_month, c.expiry_year, (SELECT MIN(o.ship_date) FROM schedule_occurrences o "
    f" WHERE o.sales_id = cl.sales_id AND o.line_no = cl.line_no AND {R.equals('o.status', OccurrenceStatus.PENDING)})"
    " AS next_ship FROM continuity_lines cl JOIN sales_orders so ON so.sales_id = cl.sales_id "
    "JOIN cards c ON c.token = cl.card_token JOIN customers cu ON cu.account = so.account "
    f"WHERE {R.equals('cl.status', LineStatus.OPEN)} AND {R.among('so.status', (OrderStatus.OPEN, OrderStatus.ON_HOLD))} "
    f"AND {R.card_expired('c')}"
)


class CardExpiryQueries:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def candidates(self, expired_by: date, ships_until: date) -> list[CardExpiryCandidate]:
        """Open continuity lines whose card is expired by ``expired_by`` and whose next pending shipment is
        on or before ``ships_until``, by order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sql_text(
                    f"SELECT * FROM ({_CANDIDATES}) AS x WHERE next_ship <= :until ORDER BY next_ship, sales_id, line_no"
                ),
                {"month_index": month_index(expired_by.year, expired_by.month), "until": ships_until},
            ).mappings()
            return [
                CardExpiryCandidate(
                    r["sales_id"],
                    int(r["line_no"]),
                    r["account"],
                    r["name"],
                    r["language"],
                    r["email"],
                    r["token"],
                    r["brand"],
                    r["last4"],
                    int(r["expiry_month"]),
                    int(r["expiry_year"]),
                    _day(r["next_ship"]),
                )
                for r in rows
            ]

    def write_notices(self, notices: list[CardExpiryNotice], as_of: date) -> int:
        """One notice per line and card (a re-run, or the next night, sends nothing more)."""
        if not notices:
            return 0
        with transaction(self.engine) as conn:  # one statement for all of them
            written: int = conn.execute(
                sql_text(
                    "INSERT INTO notifications (dedupe_key, kind, account, sales_id, language, email, payload, as_of, "
                    "attempts, last_error) VALUES (:key, 'card_expiring', :account, :sales_id, :language, :email, "
                    ":payload, :as_of, 0, '') ON CONFLICT DO NOTHING"
                ),
                [
                    {
                        "key": f"card_expiring:{n.line.sales_id}:{n.line.line_no}:{n.line.token}",
                        "account": n.line.account,
                        "sales_id": n.line.sales_id,
                        "language": n.line.language,
                        "email": n.line.email,
                        "as_of": as_of,
                        "payload": json.dumps(
                            {"last4": n.line.last4, "expiry": n.expiry, "ship_date": n.ship_date.isoformat()}
                        ),
                    }
                    for n in notices
                ],
            ).rowcount
            return written


def _day(value: object) -> date:
    """SQLite gives the MIN() of a date column back as its ISO text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))
