"""The built-in test connector: deterministic test cards, a ledger of every call.

4111111111111111 approves, 4000000000000002 declines (generic: soft), 4000000000000119 times out (the
charge is made but no answer comes back: UNKNOWN until looked up), 4000000000000424 answers "too
many requests" (GatewayBusy, nothing done) to the first request under each key, then approves.
The decline classes of dunning (domain/dunning.py), Stripe's test numbers: 4000000000009995 declines
for insufficient funds (soft), 4000000000009987 as a lost card, 4000000000009979 as a stolen card and
4000000000000069 as an expired card (hard: never retried; the customer gives another card).
Any other valid number approves. Tokens carry the test behaviour, never the number; the ledger keeps
one row per idempotency key, so a repeated key returns the first result and never charges again.

Latency (CONTINUITY_TEST_GATEWAY_LATENCY_MS ± CONTINUITY_TEST_GATEWAY_JITTER_MS): the connector takes
a request when it arrives (its ledger row, with ``received_at``, the connector's own wall clock, is in
the ledger within GATHER seconds) and answers after the latency, the worst case for a caller that dies
waiting. It is safe to call from many threads: a key has one row (the primary key; a second concurrent
call replays the first), and the calls against one authorization (a capture of it, a void) are checked
and written one at a time, after every queued row. The rows of the other calls are written in groups
(adapters/test_gateway_ledger.LedgerBatch): lean, since the connector runs inside the worker and
competes with it for the CPU.

The ledger is the connector's own table, not part of the application's schema (migration 0015 took it
out): the connector creates it on first use (``create_ledger``), in whatever database it is given.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine

from continuity.adapters.test_gateway_ledger import (
    AGAINST,
    AUTHORIZATION,
    BY_KEY,
    GATHER,
    INSERT,
    LedgerBatch,
    LedgerSql,
    create_ledger,
)
from continuity.domain.card import Card, Expiry, brand_of, validate_card_number
from continuity.domain.dunning import DeclineCode
from continuity.domain.errors import CardExpired, ValidationFailed
from continuity.domain.money import Money
from continuity.services.ports import (
    CardSetup,
    GatewayBusy,
    GatewayCustomer,
    GatewayOutcome,
    GatewayResult,
    never_received,
)

BEHAVIOUR = {
    "4111111111111111": "approve",
    "4000000000000002": "decline",
    "4000000000000119": "timeout",
    "4000000000000424": "busy",
    "4000000000009995": "nofunds",
    "4000000000009987": "lost",
    "4000000000009979": "stolen",
    "4000000000000069": "expired",
}

#: The declining behaviours: the decline's reason and its stable code (domain.dunning.DeclineCode).
DECLINES = {
    "decline": ("do not honour", DeclineCode.GENERIC),
    "nofunds": ("insufficient funds", DeclineCode.INSUFFICIENT_FUNDS),
    "lost": ("lost card", DeclineCode.LOST_CARD),
    "stolen": ("stolen card", DeclineCode.STOLEN_CARD),
    "expired": ("expired card", DeclineCode.EXPIRED_CARD),
}


class TestConnector:
    __test__ = False  # not a pytest class
    takes_card_numbers = True

    def __init__(self, engine: Engine, latency_ms: int = 0, jitter_ms: int = 0) -> None:
        self.engine = engine
        self.latency_ms, self.jitter_ms = latency_ms, jitter_ms
        # one ledger statement (or check-and-write) at a time in this process: SQLite has one writer, and
        # the connector needs one connection only
        self._writes = threading.Lock()
        self._turned_away: set[str] = set()  # keys the busy card has answered "too many requests" once
        self._batch = LedgerBatch(self._writes)  # the rows of calls that check nothing, written in groups
        self._ledger_made = threading.Lock()
        self._sql: LedgerSql | None = None  # once the ledger is there

    def save_payment_method(self, payment_method: str, customer: GatewayCustomer, today: date) -> Card:
        raise ValidationFailed(
            "the test gateway takes the card number itself: send card_number and expiry, not payment_method",
            "payment_method_not_accepted",
        )

    def card_setup(self, customer: GatewayCustomer) -> CardSetup:
        raise ValidationFailed("the test gateway takes the card number itself", "payment_method_not_accepted")

    def tokenize(self, card_number: str, expiry: Expiry, holder: str, today: date) -> Card:
        self._wait(self._delay())
        digits = validate_card_number(card_number)
        if expiry.is_expired_on(today):
            raise CardExpired(f"the card ending {digits[-4:]} expired {expiry}")
        behaviour = BEHAVIOUR.get(digits, "approve")
        token = f"tok_test_{behaviour}_{secrets.token_hex(8)}"
        return Card(token, brand_of(digits), digits[-4:], expiry, holder)

    def authorize(self, token: str, amount: Money, idempotency_key: str) -> GatewayResult:
        return self._call("authorize", token, amount, idempotency_key)

    def capture(self, token: str, amount: Money, idempotency_key: str, authorization: str = "") -> GatewayResult:
        return self._call("capture", token, amount, idempotency_key, authorization)

    def void(self, token: str, reference: str, idempotency_key: str) -> GatewayResult:
        """Release what is left of the authorization ``reference``."""
        return self._call("void", token, Money.zero("EUR"), idempotency_key, reference)

    def refund(self, token: str, amount: Money, idempotency_key: str, captures: Sequence[str] = ()) -> GatewayResult:
        return self._call("refund", token, amount, idempotency_key)

    def lookup(self, idempotency_key: str) -> GatewayResult:
        recorded = self._recorded(idempotency_key)
        self._wait(self._delay())
        if recorded is None:
            return never_received()
        return recorded

    def _call(self, operation: str, token: str, amount: Money, key: str, authorization: str = "") -> GatewayResult:
        received = datetime.now(UTC)
        delay = self._delay()
        if _behaviour(token) == "busy" and key not in self._turned_away:
            self._turned_away.add(key)
            self._wait(delay)
            raise GatewayBusy("too many requests (the test card 4000000000000424)", retry_after=None)
        if authorization or operation == "void":  # checked against the ledger, in turn
            result = self._record(operation, token, amount, key, authorization, received)  # repeated key: the first
            self._wait(delay)
        else:
            result = self._queue(operation, token, amount, key, received, delay)
        if _behaviour(token) == "timeout" and operation in ("authorize", "capture"):
            return GatewayResult(GatewayOutcome.UNKNOWN, "", "the gateway did not answer in time")
        return result

    def _delay(self) -> float:
        """The seconds the gateway takes to answer a call: the latency, give or take the jitter."""
        if not (self.latency_ms or self.jitter_ms):
            return 0.0
        return max(0.0, self.latency_ms + random.uniform(-self.jitter_ms, self.jitter_ms)) / 1000

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def ledger(self) -> LedgerSql:
        """Where the ledger is, its table there (created by the first call of this connector that needs it)."""
        with self._ledger_made:
            if self._sql is None:
                create_ledger(self.engine)
                self._sql = LedgerSql(self.engine)
            return self._sql

    def _recorded(self, key: str) -> GatewayResult | None:
        """The answer recorded under ``key`` (None: no call under it reached the gateway)."""
        sql = self.ledger()
        with self._writes:
            self._batch.write_queued(sql)
            return self._read(sql, key)

    def _read(self, sql: LedgerSql, key: str) -> GatewayResult | None:
        rows = sql.run(BY_KEY, {"key": key})
        if not rows:
            return None
        row = rows[0]
        code = _decline_code(row["reason"]) if row["outcome"] == GatewayOutcome.DECLINED.value else ""
        return GatewayResult(GatewayOutcome(row["outcome"]), row["reference"], row["reason"], decline_code=code)

    def _queue(
        self, operation: str, token: str, amount: Money, key: str, received: datetime, delay: float
    ) -> GatewayResult:
        """A call that checks nothing against other rows: its row queued on arrival and written with the
        rows queued by then at most GATHER seconds later (or when the answer is due, if sooner); the answer
        after the delay."""
        sql = self.ledger()
        decline = DECLINES.get(_behaviour(token)) if operation in ("authorize", "capture") else None
        result = _result(decline)
        queued, first = self._batch.add(_row(operation, token, amount, key, "", received, result))
        if first and delay > GATHER:  # the group's first row: the group is written after GATHER seconds
            self._wait(GATHER)
            self._batch.written(queued, sql)
            self._wait(delay - GATHER)
        else:  # a later row of the group (written by then), or an answer due sooner
            self._wait(delay)
            self._batch.written(queued, sql)
        if not queued.replay:
            return result
        with self._writes:
            recorded = self._read(sql, key)
        if recorded is None:  # pragma: no cover - a key is never deleted from the ledger
            raise LookupError(f"no ledger row under {key}")
        return recorded

    def _record(
        self, operation: str, token: str, amount: Money, key: str, authorization: str, received: datetime
    ) -> GatewayResult:
        sql = self.ledger()
        with self._writes:
            self._batch.write_queued(sql)
            return self._write(sql, operation, token, amount, key, authorization, received)

    def _write(
        self,
        sql: LedgerSql,
        operation: str,
        token: str,
        amount: Money,
        key: str,
        authorization: str,
        received: datetime,
    ) -> GatewayResult:
        refusal = self._against(sql, authorization, operation, token, amount) if authorization else ""
        if operation == "void" and authorization and not refusal:
            amount = self._left(sql, authorization)
        result = _result((refusal, DeclineCode.GENERIC) if refusal else None)
        try:
            sql.run(INSERT, _row(operation, token, amount, key, authorization, received, result))
        except sql.duplicate:  # a repeated key (also two at once): the first call's answer is replayed
            recorded = self._read(sql, key)
            if recorded is None:
                raise
            return recorded
        return result

    def _against(self, sql: LedgerSql, reference: str, operation: str, token: str, amount: Money) -> str:
        """Why a capture or void of the authorization ``reference`` is refused ('' when it is not): it
        must be an approved authorization on this very card, and a capture no more than is left of it."""
        found = sql.run(AUTHORIZATION, {"reference": reference})
        auth = found[0] if found else None
        if auth is None or auth["outcome"] != GatewayOutcome.APPROVED.value:
            return "no such authorization"
        if auth["card_token"] != token:
            return "the authorization belongs to another card"
        left = self._left(sql, reference)
        if operation == "capture" and (amount.currency != auth["currency"] or amount.minor > left.minor):
            return f"the authorization has {left} left"
        if left.minor == 0:
            return "the authorization is already settled"
        return ""

    def _left(self, sql: LedgerSql, reference: str) -> Money:
        """What is left of an authorization: authorized minus approved captures and voids against it."""
        rows = sql.run(AGAINST, {"reference": reference})
        auth = next(r for r in rows if r["reference"] == reference)
        used = sum(
            r["amount_minor"]
            for r in rows
            if r["authorization_reference"] == reference and r["outcome"] == GatewayOutcome.APPROVED.value
        )
        return Money.from_minor(auth["amount_minor"] - used, auth["currency"])


def _result(decline: tuple[str, str] | None) -> GatewayResult:
    """The answer to a call: declined for ``decline`` (reason, code), else approved; a fresh reference."""
    reason, code = decline or ("", "")
    outcome = GatewayOutcome.DECLINED if decline else GatewayOutcome.APPROVED
    return GatewayResult(outcome, f"gw_{secrets.token_hex(6)}", reason, decline_code=code)


def _row(
    operation: str, token: str, amount: Money, key: str, authorization: str, received: datetime, result: GatewayResult
) -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "operation": operation,
        "card_token": token,
        "amount_minor": amount.minor,
        "currency": amount.currency,
        "outcome": result.outcome.value,
        "reference": result.reference,
        "reason": result.reason,
        "authorization_reference": authorization or None,
        "received_at": received,
    }


def _decline_code(reason: str) -> str:
    """The code of a recorded decline, from its reason (the ledger keeps the reason only)."""
    return next((code for known, code in DECLINES.values() if known == reason), DeclineCode.GENERIC)


def _behaviour(token: str) -> str:
    parts = token.split("_")
    return parts[2] if len(parts) > 3 and parts[0] == "tok" and parts[1] == "test" else "approve"
