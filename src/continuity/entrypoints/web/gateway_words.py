"""The catalogs' words for what the payments leave on an order: a payment hold's note, worded from its hold
code (domain.holds; the stored note is the English one of the CLI and the API, which also names their steps),
and a gateway's decline, worded from its decline code (domain.dunning.DeclineCode). Each is a ``Text``
(a msgid and its parameters), worded by the template's ``shown`` filter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from continuity.domain import holds
from continuity.domain.dunning import DeclineCode
from continuity.entrypoints.web.templating import Text


def N_(text: str) -> str:
    """Marks a msgid; translated when shown."""
    return text


#: the note of a payment hold, by its code: what the agent does about it
PAYMENT_HOLDS: dict[str, str] = {
    holds.PAYMENT_DECLINED: N_(
        "the card was declined (%(decline)s): ask the caller for another card and submit the order again"
    ),
    holds.PAYMENT_UNANSWERED: N_(
        "the card authorization got no answer yet; the reconcile-payments job resolves it — do not take the "
        "payment again"
    ),
    holds.PARENT_PAYMENT: N_("an installment of the parent order is declined or unresolved"),
    holds.CHARGE_DECLINED: N_("the charge for this shipment was declined or is unresolved"),
}

DECLINES: dict[str, str] = {
    DeclineCode.GENERIC: N_("the bank refused the charge"),
    DeclineCode.INSUFFICIENT_FUNDS: N_("not enough funds on the card"),
    DeclineCode.ISSUER_UNAVAILABLE: N_("the bank could not process the card; try again later"),
    DeclineCode.LOST_CARD: N_("the card is reported lost"),
    DeclineCode.STOLEN_CARD: N_("the card is reported stolen"),
    DeclineCode.INVALID_ACCOUNT: N_("the card number is wrong"),
    DeclineCode.FRAUD: N_("the bank refused the card"),
    DeclineCode.EXPIRED_CARD: N_("the card has expired"),
    "authentication_required": N_("the customer must confirm this card with the bank"),
    "no_reason": N_("no reason given"),
}
#: the gateways' reasons in words (the test gateway's; Stripe's carry their code: 'card_declined (code): …')
WORDED = {
    "do not honour": DeclineCode.GENERIC,
    "insufficient funds": DeclineCode.INSUFFICIENT_FUNDS,
    "lost card": DeclineCode.LOST_CARD,
    "stolen card": DeclineCode.STOLEN_CARD,
    "expired card": DeclineCode.EXPIRED_CARD,
    "": "no_reason",
}
#: Stripe's codes that are not ours by name
STRIPE = {
    "do_not_honor": DeclineCode.GENERIC,
    "card_declined": DeclineCode.GENERIC,
    "incorrect_number": DeclineCode.INVALID_ACCOUNT,
}


def decline_of(reason: str) -> str:
    """The decline code a gateway's reason names (one we do not know: generic)."""
    words = reason.strip().lower()
    if words in WORDED:
        return WORDED[words]
    head = words.split(":", 1)[0]
    code = (head.partition("(")[2].rstrip(") ") or head).strip()
    if code in DECLINES:
        return code
    return STRIPE.get(code, DeclineCode.GENERIC)


def decline(reason: str) -> Text:
    """A gateway's reason for a decline in the catalogs' words."""
    return Text(DECLINES[decline_of(reason)])


def hold_note(order: Mapping[str, Any]) -> Text | str:
    """What the page says about an order's hold: a payment hold worded from its code (a declined card's
    decline from its last declined payment), a hold put on by hand with the note typed."""
    code = str(order.get("hold_code") or "")
    if code not in PAYMENT_HOLDS:
        return str(order.get("hold_reason") or "")
    if code == holds.PAYMENT_DECLINED:
        declined = [p for p in order.get("payments", []) if p.get("status") == "declined"]
        return Text(PAYMENT_HOLDS[code], {"decline": decline(declined[-1]["reason"] if declined else "")})
    return Text(PAYMENT_HOLDS[code])


def payment_reason(status: str, reason: str) -> Text | str:
    """A payment's or an attempt's reason as the order page shows it: a decline in the catalogs' words."""
    return decline(reason) if status == "declined" else reason
