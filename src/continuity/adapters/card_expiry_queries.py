"""Cards that expire before the next shipment they pay for: the candidates, set-based, and their notices.

One query for the nightly notice and the agents' worklist; the services decide (domain.card.Expiry) which
candidates are really expired on the day their next child order is made.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Engine

from continuity.adapters.batch.sql import sql_text, transaction

_CANDIDATES = (
    "SELECT cl.sales_id, cl.line_no, so.account, cu.name, cu.language, cu.email, c.token, c.brand, c.last4, "
    "c.expiry_month, c.expiry_year, (SELECT MIN(o.ship_date) FROM schedule_occurrences o "
    " WHERE o.sales_id = cl.sales_id AND o.line_no = cl.line_no AND o.status = 'pending') AS next_ship "
    "FROM continuity_lines cl JOIN sales_orders so ON so.sales_id = cl.sales_id "
    "JOIN cards c ON c.token = cl.card_token JOIN customers cu ON cu.account = so.account "
    "WHERE cl.status = 'open' AND so.status IN ('open', 'on_hold') "
    "AND c.expiry_year * 12 + c.expiry_month < :month_index"
)


class CardExpiryQueries:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def candidates(self, expired_by: date, ships_until: date) -> list[dict]:
        """Open continuity lines whose card is expired by ``expired_by`` and whose next pending shipment is
        on or before ``ships_until``, by order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sql_text(
                    f"SELECT * FROM ({_CANDIDATES}) AS x WHERE next_ship <= :until ORDER BY next_ship, sales_id, line_no"
                ),
                {"month_index": expired_by.year * 12 + expired_by.month, "until": ships_until},
            ).mappings()
            return [dict(r) for r in rows]

    def write_notices(self, lines: list[dict], as_of: date) -> int:
        """One notice per line and card (a re-run, or the next night, sends nothing more)."""
        if not lines:
            return 0
        with transaction(self.engine) as conn:  # one statement for all of them
            return conn.execute(
                sql_text(
                    "INSERT INTO notifications (dedupe_key, kind, account, sales_id, language, email, payload, as_of, "
                    "attempts, last_error) VALUES (:key, 'card_expiring', :account, :sales_id, :language, :email, "
                    ":payload, :as_of, 0, '') ON CONFLICT DO NOTHING"
                ),
                [
                    {
                        "key": f"card_expiring:{n['sales_id']}:{n['line_no']}:{n['token']}",
                        "account": n["account"],
                        "sales_id": n["sales_id"],
                        "language": n["language"],
                        "email": n["email"],
                        "as_of": as_of,
                        "payload": json.dumps(
                            {"last4": n["last4"], "expiry": n["expiry"], "ship_date": n["ship_date"]}
                        ),
                    }
                    for n in lines
                ],
            ).rowcount
