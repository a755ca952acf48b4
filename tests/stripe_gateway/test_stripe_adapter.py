"""The Stripe adapter on its own against localstripe: key namespaces, void after capture, refund bounds."""

from __future__ import annotations

import uuid

from localstripe_support import PUBLISHABLE_KEY, SECRET_KEY, TODAY, VISA

from continuity.adapters.stripe_gateway import StripeGateway
from continuity.domain.money import Money
from continuity.services.ports import GatewayCustomer, GatewayOutcome


def _gateway(server, prefix: str | None = None) -> StripeGateway:  # type: ignore[no-untyped-def]
    return StripeGateway(
        SECRET_KEY,
        PUBLISHABLE_KEY,
        server.url,
        f"{server.url}/js.stripe.com/v3/",
        key_prefix=prefix if prefix is not None else f"{uuid.uuid4().hex[:8]}:",
    )


def _card(gateway: StripeGateway, server) -> str:  # type: ignore[no-untyped-def]
    pm = server.payment_method(VISA)
    return gateway.save_payment_method(pm, GatewayCustomer(f"A{uuid.uuid4().hex[:6]}", "Ada Test"), TODAY).token


def test_another_databases_key_is_not_taken_for_ours(localstripe):
    ours, theirs = _gateway(localstripe, "db-one:"), _gateway(localstripe, "db-two:")
    key = f"installment:SO-1:1:1:capture:{uuid.uuid4().hex[:6]}"
    made = ours.capture(_card(ours, localstripe), Money.from_minor(1000, "EUR"), key)
    assert made.outcome == GatewayOutcome.APPROVED
    assert ours.lookup(key).reference == made.reference
    found = theirs.lookup(key)  # the same key under another namespace: never received
    assert (found.outcome, found.reason) == (GatewayOutcome.DECLINED, "no such transaction at the gateway")


def test_a_partial_capture_then_void_releases_the_rest_and_a_refund_never_exceeds_the_capture(localstripe):
    gateway = _gateway(localstripe)
    token = _card(gateway, localstripe)
    held = gateway.authorize(token, Money.from_minor(3000, "EUR"), "auth-1")
    assert held.outcome == GatewayOutcome.APPROVED and held.reference.startswith("pi_")
    taken = gateway.capture(token, Money.from_minor(1000, "EUR"), "cap-1", held.reference)
    assert (taken.outcome, taken.reference) == (GatewayOutcome.APPROVED, held.reference)
    again = gateway.capture(token, Money.from_minor(1000, "EUR"), "cap-1", held.reference)
    assert again.reference == held.reference  # the same key: its answer again, no second charge
    released = gateway.void(token, held.reference, "void-1")
    assert released.outcome == GatewayOutcome.APPROVED
    intent = localstripe.client().v1.payment_intents.retrieve(held.reference)
    assert localstripe.captured(intent) == 1000
    refund = gateway.refund(token, Money.from_minor(2500, "EUR"), "ref-1", (held.reference,))
    assert (refund.outcome, refund.reason) == (GatewayOutcome.APPROVED, "only 10.00 EUR was left to refund")
    assert [r.amount for r in localstripe.refunds(held.reference)] == [1000]
    nothing = gateway.refund(token, Money.from_minor(500, "EUR"), "ref-2", ())
    assert (nothing.outcome, nothing.reason) == (GatewayOutcome.DECLINED, "no capture to refund at Stripe")
