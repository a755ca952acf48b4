"""Cards that will be expired when the next child order they pay for is made (create-child-orders would
skip it): the customer is told card_expiry_notice_days ahead, and the agents' worklist lists them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from continuity.domain.calendar import add_days
from continuity.domain.card import Expiry
from continuity.domain.program import ContinuityParameters


class CardExpiryReads(Protocol):
    def candidates(self, expired_by: date, ships_until: date) -> list[dict]: ...

    def write_notices(self, lines: list[dict], as_of: date) -> int: ...


@dataclass(frozen=True)
class ExpiringCard:
    sales_id: str
    line_no: int
    account: str
    name: str
    card: str  # brand and last 4 digits
    expiry: str  # MM/YY
    next_shipment: date
    child_order_on: date  # when create-child-orders makes that shipment's child order, and would skip it


def expiring_cards(reads: CardExpiryReads, as_of: date, params: ContinuityParameters) -> list[ExpiringCard]:
    """Open continuity lines whose card is expired on the day their next child order is made, when that
    day is at most card_expiry_notice_days after ``as_of`` (or already past: the order is waiting)."""
    return [card for _, card in _expiring(reads, as_of, params)]


def write_card_expiry_notices(reads: CardExpiryReads, as_of: date, params: ContinuityParameters) -> int:
    """One notice per order line and card, card_expiry_notice_days ahead of the child order it would miss."""
    return reads.write_notices(
        [
            {**row, "expiry": card.expiry, "ship_date": card.next_shipment.isoformat()}
            for row, card in _expiring(reads, as_of, params)
        ],
        as_of,
    )


def _expiring(reads: CardExpiryReads, as_of: date, params: ContinuityParameters) -> list[tuple[dict, ExpiringCard]]:
    lead = params.delivery_lead_days
    made_by = add_days(as_of, params.card_expiry_notice_days)
    found = []
    for row in reads.candidates(made_by, add_days(made_by, lead)):
        ship = _day(row["next_ship"])
        made_on = add_days(ship, -lead)
        expiry = Expiry(int(row["expiry_month"]), int(row["expiry_year"]))
        if expiry.is_expired_on(max(made_on, as_of)):
            found.append(
                (
                    row,
                    ExpiringCard(
                        row["sales_id"],
                        int(row["line_no"]),
                        row["account"],
                        row["name"],
                        f"{row['brand']} ····{row['last4']}",
                        str(expiry),
                        ship,
                        made_on,
                    ),
                )
            )
    return found


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
