"""Cards that will be expired when the next child order they pay for is made (create-child-orders would
skip it): the customer is told card_expiry_notice_days ahead, and the agents' worklist lists them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from continuity.domain.calendar import add_days
from continuity.domain.card import Expiry
from continuity.domain.program import ContinuityParameters
from continuity.services.jobs.ports import CardExpiryReads
from continuity.services.jobs.records import CardExpiryCandidate, CardExpiryNotice


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
        [CardExpiryNotice(line, card.expiry, card.next_shipment) for line, card in _expiring(reads, as_of, params)],
        as_of,
    )


def _expiring(
    reads: CardExpiryReads, as_of: date, params: ContinuityParameters
) -> list[tuple[CardExpiryCandidate, ExpiringCard]]:
    lead = params.delivery_lead_days
    made_by = add_days(as_of, params.card_expiry_notice_days)
    found = []
    for line in reads.candidates(made_by, add_days(made_by, lead)):
        made_on = add_days(line.next_ship, -lead)
        expiry = Expiry(line.expiry_month, line.expiry_year)
        if expiry.is_expired_on(max(made_on, as_of)):
            found.append(
                (
                    line,
                    ExpiringCard(
                        line.sales_id,
                        line.line_no,
                        line.account,
                        line.name,
                        f"{line.brand} ····{line.last4}",
                        str(expiry),
                        line.next_ship,
                        made_on,
                    ),
                )
            )
    return found
