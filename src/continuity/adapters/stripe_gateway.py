"""The Stripe connector (official ``stripe`` SDK): cards are PaymentMethods saved on a Customer per account.

authorize = a PaymentIntent (capture_method=manual, off_session, confirmed at once); capture = capture of
that PaymentIntent, or an automatic-capture PaymentIntent (a sale) when there is no authorization left to
capture; void = cancel; refund = Refunds on the captured PaymentIntents. Every write sends our attempt's
idempotency key as ``Idempotency-Key`` and keeps it in the object's metadata, so ``lookup`` finds it again
(Stripe's search, or a scan of the list where search is missing, as on localstripe).

No answer (a connection error, a timeout, a 5xx) is looked up once under the key at once; still nothing
found → UNKNOWN (reconcile-payments asks again later and re-sends under the same key only once the
gateway shows nothing). A 429 did nothing: it is re-sent under the same key after a pause.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import partial
from typing import Any, Literal, TypeVar

import stripe
from stripe.params import CustomerCreateParams, PaymentIntentCreateParams, SetupIntentCreateParams

from continuity.adapters.stripe_answers import (
    AUTHENTICATION_REQUIRED,
    card_of,
    declined,
    intent_result,
    no_answer,
)
from continuity.domain.card import Card, Expiry
from continuity.domain.errors import ValidationFailed
from continuity.domain.money import Money
from continuity.services.ports import CardSetup, GatewayCustomer, GatewayOutcome, GatewayResult, never_received

log = logging.getLogger(__name__)
T = TypeVar("T")

KEY = "idempotency_key"  # metadata of every PaymentIntent and Refund we create
CAPTURE_KEY = "capture_key"  # metadata set on a PaymentIntent just before we capture it
BUSY_RETRIES, BUSY_PAUSE = 4, 0.2  # a 429 is sent again this many times, the pause doubled each time


class _CardIntentParams(PaymentIntentCreateParams):
    """The API's payment_method_types, which the SDK's typed parameters (stripe 16) no longer list but the
    API and localstripe take: a card PaymentIntent then needs no redirect and no return_url."""

    payment_method_types: list[str]


class _CardSetupParams(SetupIntentCreateParams):
    """The same for a SetupIntent."""

    payment_method_types: list[str]


class NoAnswer(Exception):
    """The request may or may not have reached Stripe: no response came back."""


class StripeGateway:
    takes_card_numbers = False

    def __init__(
        self,
        api_key: str,
        publishable_key: str,
        api_base: str,
        js_url: str,
        timeout: float = 30.0,
        key_prefix: str = "",
    ) -> None:
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
        self.publishable_key, self.js_url = publishable_key, js_url
        self.key_prefix = key_prefix  # our keys are unique per database only: one namespace per database
        self._customers: dict[str, str] = {}  # PaymentMethod id → its Customer (never changes once attached)
        self._accounts: dict[str, str] = {}  # our account → its Customer, once this process knows it

    # -- setup ---------------------------------------------------------------------------------------
    def check(self) -> None:
        """One cheap call (the balance) proves the key; a refusal or no answer is a one-line error."""
        try:
            self.client.v1.balance.retrieve()
        except stripe.AuthenticationError:
            raise ValidationFailed(
                "Stripe refused CONTINUITY_STRIPE_API_KEY (401): check the secret key", "gateway_key_invalid"
            ) from None
        except stripe.StripeError as exc:
            raise ValidationFailed(
                f"Stripe did not answer at CONTINUITY_STRIPE_API_BASE ({type(exc).__name__}): check the address",
                "gateway_unreachable",
            ) from None

    def tokenize(self, card_number: str, expiry: Expiry, holder: str, today: date) -> Card:
        raise ValidationFailed(
            "with CONTINUITY_GATEWAY=stripe the card number never reaches this server: the "
            "card is entered at Stripe (Stripe.js); send its payment_method (pm_…)",
            "card_number_not_accepted",
        )

    def card_setup(self, customer: GatewayCustomer) -> CardSetup:
        """A SetupIntent for an off-session card of this customer; the browser confirms it with Stripe.js."""
        params: _CardSetupParams = {
            "customer": self._customer_for(customer),
            "usage": "off_session",
            "payment_method_types": ["card"],
        }
        intent = self._send(lambda: self.client.v1.setup_intents.create(params))
        return CardSetup(intent.client_secret or "", self.publishable_key, self.js_url)

    def save_payment_method(self, payment_method: str, customer: GatewayCustomer, today: date) -> Card:
        if not payment_method.startswith("pm_"):
            raise ValidationFailed("payment_method must be a Stripe PaymentMethod id (pm_…)", "payment_method_invalid")
        pm = self._payment_method(payment_method)
        ours = self._customer_for(customer)
        owner = getattr(pm, "customer", None)
        if owner and owner != ours:
            raise ValidationFailed("that payment method belongs to another customer", "payment_method_invalid")
        if not owner:
            try:
                self._send(lambda: self.client.v1.payment_methods.attach(payment_method, {"customer": ours}))
            except stripe.CardError as exc:
                raise ValidationFailed(
                    f"the card was declined when saved ({declined(exc).reason})", "card_declined"
                ) from None
        self._customers[payment_method] = ours
        return card_of(pm, customer.name, today)

    # -- the payment operations ------------------------------------------------------------------------
    def authorize(self, token: str, amount: Money, idempotency_key: str) -> GatewayResult:
        if amount.minor == 0:  # a card check, no money held: the PaymentMethod is saved and ours
            return self._guard(self._key(idempotency_key), lambda: self._verify(token))
        return self._charge(token, amount, self._key(idempotency_key), "manual")

    def capture(self, token: str, amount: Money, idempotency_key: str, authorization: str = "") -> GatewayResult:
        key = self._key(idempotency_key)
        if not authorization.startswith("pi_"):
            return self._charge(token, amount, key, "automatic")
        return self._guard(key, lambda: self._capture(token, amount, key, authorization))

    def void(self, token: str, reference: str, idempotency_key: str) -> GatewayResult:
        if not reference.startswith("pi_"):
            return GatewayResult(GatewayOutcome.APPROVED, reference, "nothing held at Stripe")
        return self._guard("", lambda: self._void(reference, self._key(idempotency_key)))

    def refund(self, token: str, amount: Money, idempotency_key: str, captures: Sequence[str] = ()) -> GatewayResult:
        key = self._key(idempotency_key)
        return self._guard(key, lambda: self._refund(amount, key, captures))

    def lookup(self, idempotency_key: str) -> GatewayResult:
        return self._lookup(self._key(idempotency_key))

    def _key(self, idempotency_key: str) -> str:
        return self.key_prefix + idempotency_key

    def _lookup(self, key: str) -> GatewayResult:
        intents = self._intents_with(KEY, key) or self._intents_with(CAPTURE_KEY, key)
        if intents:
            return intent_result(_best(intents), "capture" if _captured_under(intents, key) else "")
        refunds = [r for r in self._all(self.client.v1.refunds.list, {"limit": 100}) if _meta(r, KEY) == key]
        if refunds:
            return GatewayResult(GatewayOutcome.APPROVED, ",".join(r.id for r in refunds))
        return never_received()

    # -- the calls ---------------------------------------------------------------------------------------
    def _charge(
        self, token: str, amount: Money, key: str, capture_method: Literal["automatic", "manual"]
    ) -> GatewayResult:
        def create() -> GatewayResult:
            params: _CardIntentParams = {
                "amount": amount.minor,
                "currency": amount.currency.lower(),
                "customer": self._customer_of(token),
                "payment_method": token,
                "payment_method_types": ["card"],  # cards only: no redirect, no return_url
                "confirm": True,
                "off_session": True,
                "capture_method": capture_method,
                "metadata": {KEY: key},
            }
            intent = self._send(lambda: self.client.v1.payment_intents.create(params, {"idempotency_key": key}))
            return intent_result(intent)

        return self._guard(key, create)

    def _verify(self, token: str) -> GatewayResult:
        self._customer_of(token)
        return GatewayResult(GatewayOutcome.APPROVED, token, "card checked (no amount held)")

    def _capture(self, token: str, amount: Money, key: str, reference: str) -> GatewayResult:
        intent = self._send(lambda: self.client.v1.payment_intents.retrieve(reference))
        if intent.status == "succeeded" and _meta(intent, CAPTURE_KEY) == key:
            return intent_result(intent, "capture")  # captured under this very key before: its answer again
        if intent.status != "requires_capture":  # captured for another charge, cancelled or lapsed: a sale
            return self._charge(token, amount, key, "automatic")
        self._send(
            lambda: self.client.v1.payment_intents.update(
                reference, {"metadata": {CAPTURE_KEY: key}}, {"idempotency_key": f"{key}:mark"}
            )
        )
        captured = self._send(
            lambda: self.client.v1.payment_intents.capture(
                reference, {"amount_to_capture": amount.minor}, {"idempotency_key": key}
            )
        )
        return intent_result(captured, "capture")

    def _void(self, reference: str, key: str) -> GatewayResult:
        try:
            intent = self._send(
                lambda: self.client.v1.payment_intents.cancel(reference, None, {"idempotency_key": key})
            )
        except stripe.InvalidRequestError:  # not cancelable: already captured (the rest was released) or cancelled
            intent = self._send(lambda: self.client.v1.payment_intents.retrieve(reference))
        if intent.status in ("canceled", "succeeded"):
            return GatewayResult(GatewayOutcome.APPROVED, reference, f"released ({intent.status})")
        return GatewayResult(GatewayOutcome.DECLINED, reference, f"the payment intent is {intent.status}")

    def _refund(self, amount: Money, key: str, captures: Sequence[str]) -> GatewayResult:
        left, made = amount.minor, []
        for reference in (c for c in captures if c.startswith("pi_")):
            if left <= 0:
                break
            mine = self._refunds_of(reference, key)
            left -= sum(r.amount for r in mine)
            made += [r.id for r in mine]
            take = min(left, self._refundable(reference))
            if take > 0:
                made.append(self._send(partial(self._refund_part, reference, take, key)).id)
                left -= take
        if left > 0 and not made:
            return GatewayResult(GatewayOutcome.DECLINED, "", "no capture to refund at Stripe")
        if left > 0:
            return GatewayResult(
                GatewayOutcome.APPROVED,
                ",".join(made),
                f"only {Money.from_minor(amount.minor - left, amount.currency)} was left to refund",
            )
        return GatewayResult(GatewayOutcome.APPROVED, ",".join(made))

    def _refund_part(self, reference: str, amount_minor: int, key: str) -> stripe.Refund:
        return self.client.v1.refunds.create(
            {"payment_intent": reference, "amount": amount_minor, "metadata": {KEY: key}},
            {"idempotency_key": f"{key}:{reference}"},
        )

    def _refundable(self, reference: str) -> int:
        """What the PaymentIntent took and has not given back (its charge's captured minus refunded)."""
        intent = self._send(lambda: self.client.v1.payment_intents.retrieve(reference, {"expand": ["latest_charge"]}))
        charge = getattr(intent, "latest_charge", None)
        if intent.status != "succeeded" or charge is None:
            return 0
        captured = getattr(charge, "amount_captured", None)
        return int(charge.amount if captured is None else captured) - int(getattr(charge, "amount_refunded", 0) or 0)

    def _refunds_of(self, reference: str, key: str) -> list[Any]:
        return [
            r
            for r in self._all(self.client.v1.refunds.list, {"payment_intent": reference, "limit": 100})
            if _meta(r, KEY) == key
        ]

    # -- customers and payment methods -------------------------------------------------------------------
    def _payment_method(self, payment_method: str) -> Any:
        try:
            return self._send(lambda: self.client.v1.payment_methods.retrieve(payment_method))
        except stripe.InvalidRequestError:
            raise ValidationFailed("Stripe knows no such payment method", "payment_method_invalid") from None

    def _customer_of(self, token: str) -> str:
        if token not in self._customers:
            owner = getattr(self._send(lambda: self.client.v1.payment_methods.retrieve(token)), "customer", None)
            if not owner:
                raise ValidationFailed("the card is not saved on a Stripe customer", "payment_method_invalid")
            self._customers[token] = owner
        return self._customers[token]

    def _customer_for(self, customer: GatewayCustomer) -> str:
        """The account's Stripe Customer: the one its saved cards are on, else found by its metadata, else new."""
        if customer.account not in self._accounts:
            self._accounts[customer.account] = self._find_or_create(customer)
        return self._accounts[customer.account]

    def _find_or_create(self, customer: GatewayCustomer) -> str:
        for token in (t for t in customer.cards if t.startswith("pm_")):
            try:
                return self._customer_of(token)
            except (ValidationFailed, stripe.InvalidRequestError):
                continue
        found = self._search_customer(customer.account)
        if found:
            return found
        params: CustomerCreateParams = {"name": customer.name, "metadata": {"account": customer.account}}
        if customer.email:
            params["email"] = customer.email
        return self._send(
            lambda: self.client.v1.customers.create(
                params, {"idempotency_key": self._key(f"customer:{customer.account}")}
            )
        ).id

    def _search_customer(self, account: str) -> str:
        try:
            found = self._send(
                lambda: self.client.v1.customers.search({"query": f"metadata['account']:'{_quoted(account)}'"})
            )
        except stripe.InvalidRequestError:  # no search (localstripe): the cards decide
            return ""
        return found.data[0].id if found.data else ""

    # -- lookups ------------------------------------------------------------------------------------------
    def _intents_with(self, field: str, key: str) -> list[Any]:
        try:
            found = self._send(
                lambda: self.client.v1.payment_intents.search(
                    {"query": f"metadata['{field}']:'{_quoted(key)}'", "limit": 10}
                )
            )
            return list(found.data)
        except stripe.InvalidRequestError:  # no search here (localstripe): scan the list
            return [i for i in self._all(self.client.v1.payment_intents.list, {"limit": 100}) if _meta(i, field) == key]

    def _all(self, lister: Callable[..., Any], params: dict[str, object]) -> Iterable[Any]:
        """Every object of a list, page by page (``lister``: a Stripe service's ``list``)."""
        page = self._send(partial(lister, params))
        while True:
            yield from page.data
            if not page.has_more or not page.data:
                return
            page = self._send(partial(lister, {**params, "starting_after": page.data[-1].id}))

    # -- transport ----------------------------------------------------------------------------------------
    def _send(self, request: Callable[[], T]) -> T:
        """One request; a 429 again after a pause (Stripe did nothing); no response → NoAnswer."""
        pause = BUSY_PAUSE
        for retry in range(BUSY_RETRIES + 1):
            try:
                return request()
            except stripe.RateLimitError:
                if retry == BUSY_RETRIES:
                    raise NoAnswer("Stripe still says too many requests") from None
                time.sleep(pause)
                pause *= 2
            except stripe.APIConnectionError as exc:
                raise NoAnswer(f"no response from Stripe ({type(exc).__name__})") from None
            except stripe.APIError as exc:
                if (exc.http_status or 500) >= 500:
                    raise NoAnswer(f"Stripe answered {exc.http_status}") from None
                raise
        raise AssertionError("unreachable")

    def _guard(self, key: str, call: Callable[[], GatewayResult]) -> GatewayResult:
        """``call``'s answer; a card error is a decline; no answer is looked up at once under ``key``."""
        try:
            return call()
        except stripe.CardError as exc:
            return declined(exc)
        except NoAnswer as exc:
            log.warning("stripe: %s (key %s)", exc, key)
        if not key:
            return no_answer()
        try:
            found = self._lookup(key)
        except (NoAnswer, stripe.StripeError):
            return no_answer()
        return no_answer() if not found.received else found


def _best(intents: list[Any]) -> Any:
    """Of the intents under one key (a server that does not replay keys may hold two), the one that took money."""
    rank = {"succeeded": 0, "requires_capture": 1, "processing": 2}
    return min(intents, key=lambda i: rank.get(i.status, 3))


def _captured_under(intents: list[Any], key: str) -> bool:
    return any(_meta(i, CAPTURE_KEY) == key for i in intents)


def _meta(obj: Any, field: str) -> str:
    """``obj``'s metadata ``field`` ('' when it has none)."""
    metadata = getattr(obj, "metadata", None)
    if metadata is None:
        return ""
    values = metadata.to_dict() if hasattr(metadata, "to_dict") else dict(metadata)
    return str(values.get(field, ""))


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


__all__ = ["AUTHENTICATION_REQUIRED", "StripeGateway"]
