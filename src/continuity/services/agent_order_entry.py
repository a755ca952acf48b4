"""The payment step of the agent's order entry (web UI): the card the caller gives becomes the one
payment of what is due now; submit then authorizes exactly that card."""

from __future__ import annotations

from continuity.domain.errors import ValidationFailed
from continuity.domain.payments import PaymentStatus
from continuity.services import payment_entry
from continuity.services.ports import Clock, PaymentGateway, UowFactory


def use_card(
    uow_factory: UowFactory,
    gateway: PaymentGateway,
    clock: Clock,
    sales_id: str,
    card_number: str = "",
    expiry: str = "",
    saved_token: str = "",
    payment_method: str = "",
) -> None:
    """A new card (tokenized at the gateway, or entered at Stripe: its ``payment_method``; only the token is
    kept) or a saved one replaces any payment not yet submitted. Without any, a payment not yet submitted
    is kept; with none, nothing to pay by."""
    with uow_factory() as uow:
        order = uow.orders.get(sales_id)
        pending = [p for p in uow.orders.payments(sales_id) if p.status == PaymentStatus.NOT_SUBMITTED]
    if not card_number and not saved_token and not payment_method:
        if not pending:
            raise ValidationFailed("enter a card number and expiry, or pick a saved card", "card_required")
        return
    token = saved_token
    if payment_method:
        token = payment_entry.save_payment_method(uow_factory, gateway, clock, order.account, payment_method).token
    elif card_number:
        token = payment_entry.tokenize_card(uow_factory, gateway, clock, order.account, card_number, expiry).token
    payment_entry.add_token_payment(uow_factory, clock, sales_id, token)
