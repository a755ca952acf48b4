"""Servicing a parent continuity order: one transaction per change, a preview that writes nothing,
and an audit entry for everything that changed.

``preview(change)`` and ``apply(change)`` share one computation (``_plan``), so the projection a
preview shows is the projection the applied change leaves behind.

Money sent back or released at the gateway (a cancel's refund, the void of an installment that was
authorized and not captured) follows the job rule: the attempt and its idempotency key are committed
with the change, then the gateway is called; no answer leaves the attempt unknown until
reconcile-payments looks it up under the same key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypedDict, TypeVar

from continuity.domain import servicing as rules
from continuity.domain.audit import SYSTEM, Actor, AuditEntry, Entity
from continuity.domain.card import Card, Expiry
from continuity.domain.errors import RuleViolation, ValidationFailed
from continuity.domain.free_text import masked_reason
from continuity.domain.money import Money, total
from continuity.domain.payments import (
    PAYMENT_TRANSITIONS,
    RESHAREABLE,
    SETTLED,
    Installment,
    PaymentStatus,
    is_in_flight,
    next_status,
)
from continuity.domain.sales_order import BillingMode, OrderStatus
from continuity.domain.servicing import Adjustment, AdjustmentKind, LineSchedule, Slot
from continuity.services.authorizations import settle_authorizations
from continuity.services.gateway_calls import (
    ATTEMPT_STATUS,
    call_gateway,
    call_refund,
    call_void,
    each,
    look_up,
    record_answer,
)
from continuity.services.ports import (
    AttemptRecord,
    Clock,
    GatewayCustomer,
    GatewayOutcome,
    GatewayResult,
    HeldAuthorization,
    PaymentGateway,
    UnitOfWork,
    UowFactory,
)
from continuity.services.projection import (
    DEFAULT_COUNT,
    LineState,
    OrderState,
    Projection,
    line_values,
    load,
    project,
)
from continuity.services.refund_sources import captures_of_line

log = logging.getLogger(__name__)

KINDS = ("skip", "reschedule", "substitute", "pause", "resume", "cancel", "change_card")
SERVICEABLE = (OrderStatus.OPEN, OrderStatus.ON_HOLD)
P = PaymentStatus
T = TypeVar("T")
#: an installment, its new amount and its new status
InstallmentChange = tuple[Installment, Money, PaymentStatus]


@dataclass(frozen=True)
class Change:
    """What an agent asks for; ``on`` is the pause's first day, the resume day or the cancel date."""

    kind: str
    seq: int | None = None
    new_date: date | None = None
    days: int | None = None
    following: bool = False
    item_id: str | None = None
    on: date | None = None
    reason: str = ""
    line_no: int | None = None
    card_number: str | None = field(default=None, repr=False)
    expiry: str | None = None
    payment_method: str | None = None  # change_card under stripe: the card entered at Stripe (pm_…)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", masked_reason(self.reason))  # never a card number in the history


class VoidedInstallment(TypedDict):
    line_no: int
    seq: int
    amount: str


class ChangeResult(TypedDict):
    """What a change does (previewed or applied): the order's projection before and after it."""

    sales_id: str
    change: str
    applied: bool
    before: Projection
    after: Projection
    refund: str | None
    voided: list[VoidedInstallment]
    program_before: str  # what the order's continuity lines cost in all before the change (line_values)
    program_after: str  # … and after it: the net money change is after − before


@dataclass
class _Outcome:
    after: OrderState
    line_no: int
    adjustment: Adjustment | None = None
    closed_pause: Adjustment | None = None
    line_values: dict[str, object] = field(default_factory=dict)
    installments: list[InstallmentChange] = field(default_factory=list)
    refund: Money | None = None
    voids: list[Installment] = field(default_factory=list)  # authorized, not captured: voided at the gateway


def preview(
    uow_factory: UowFactory, clock: Clock, sales_id: str, change: Change, count: int = DEFAULT_COUNT
) -> ChangeResult:
    """The next shipments and charges before and after the change; nothing is written."""
    with uow_factory() as uow:
        state = load(uow, sales_id)
        outcome = _plan(uow, state, change, clock.today())
    return _result(change, state, outcome, clock.today(), count, applied=False)


def apply(
    uow_factory: UowFactory,
    gateway: PaymentGateway,
    clock: Clock,
    sales_id: str,
    change: Change,
    actor: Actor = SYSTEM,
    count: int = DEFAULT_COUNT,
) -> ChangeResult:
    """Make the change in one transaction (a cancel's voids and refund are then sent to the gateway);
    returns the same document as the preview, its ``after`` read back from the database."""
    card = _tokenize(uow_factory, gateway, clock, sales_id, change) if change.kind == "change_card" else None
    with uow_factory() as uow:
        state = load(uow, sales_id)
        outcome = _plan(uow, state, change, clock.today())
        _write(uow, clock, state, outcome, card)
        old_card = _masked(uow, state, outcome.line_no) if card is not None else None
        uow.audit.add_all(_audit(actor, change, state, outcome, card, old_card), clock.now())
        refund_key = _write_refund_attempt(uow, clock, state, outcome)
        voids = _write_void_attempts(uow, clock, state, outcome)
        uow.commit()
    _send_voids(uow_factory, gateway, clock, actor, sales_id, voids)
    if outcome.voids:
        settle_authorizations(uow_factory, gateway, clock, clock.today(), [sales_id], actor)
    if refund_key and outcome.refund:
        _send_refund(uow_factory, gateway, clock, actor, sales_id, outcome.line_no, outcome.refund, refund_key)
    if change.kind == "change_card":
        resolve_unknown(uow_factory, gateway, clock, sales_id, actor)
    with uow_factory() as uow:
        after = load(uow, sales_id)
    result = _result(change, state, replace(outcome, after=after), clock.today(), count, applied=True)
    return result


def _result(
    change: Change, before: OrderState, outcome: _Outcome, today: date, count: int, applied: bool
) -> ChangeResult:
    return {
        "sales_id": before.order.sales_id,
        "change": change.kind,
        "applied": applied,
        "before": project(before, today, count),
        "after": project(outcome.after, today, count),
        "refund": str(outcome.refund.amount) if outcome.refund else None,
        "voided": [{"line_no": i.line_no, "seq": i.seq, "amount": str(i.amount.amount)} for i in outcome.voids],
        "program_before": str(program_value(before).amount),
        "program_after": str(program_value(outcome.after).amount),
    }


def program_value(state: OrderState) -> Money:
    """What the order's continuity lines will be charged in all (skipped and cancelled shipments cost
    nothing): the "program" figure of a change's net money change."""
    return total(list(line_values(state).values()), state.order.currency)


# -- the rules of each change -----------------------------------------------------------------------
def _plan(uow: UnitOfWork, state: OrderState, change: Change, today: date) -> _Outcome:
    if change.kind not in KINDS:
        raise ValidationFailed(f"unknown change {change.kind!r}; one of {', '.join(KINDS)}", "change_unknown")
    if state.order.status not in SERVICEABLE:
        raise RuleViolation(
            f"order {state.order.sales_id} is {state.order.status.value}; only an open or held order can be serviced",
            "order_not_serviceable",
        )
    ls = state.line(change.line_no)
    if ls.status != "open":
        raise RuleViolation(f"continuity line {ls.line.line_no} is {ls.status}", "line_not_serviceable")
    if ls.schedule.is_cancelled():
        raise RuleViolation(f"order {state.order.sales_id} is cancelled", "order_cancelled")
    line = ls.schedule
    kind = change.kind
    if kind == "change_card":
        return _Outcome(state, ls.line.line_no)
    if kind == "resume":
        resume_on = _required(change.on, "--on")
        resumed, closed = line.with_resume(resume_on)
        if resume_on < today:
            raise ValidationFailed(f"the resume date {resume_on} is in the past", "date_in_past")
        return _Outcome(
            state.with_line(_line(ls, resumed, status="open")),
            ls.line.line_no,
            closed_pause=closed,
            line_values={"status": "open"},
        )
    if kind == "cancel":
        return _cancel(state, ls, change.on or today, today)
    if line.open_pause() is not None and kind != "skip":
        raise RuleViolation(f"order {state.order.sales_id} is paused; resume it first", "order_paused")
    adj = _adjustment(uow, line, change, today)
    new_line = line.with_adjustment(adj)
    after = state.with_line(_line(ls, new_line, status=ls.status))
    outcome = _Outcome(after, ls.line.line_no, adjustment=adj)
    if kind in ("skip", "substitute"):
        outcome.installments = _reshared(ls, new_line, state.installments, state.order.currency)
        after.installments = _apply_installments(state.installments, outcome.installments)
    return outcome


def _adjustment(uow: UnitOfWork, line: LineSchedule, change: Change, today: date) -> Adjustment:
    seq = change.seq
    if change.kind == "skip":
        return rules.skip(line, _required(seq, "SEQ"))
    if change.kind == "reschedule":
        return rules.reschedule(line, _required(seq, "SEQ"), today, change.new_date, change.days, change.following)
    if change.kind == "substitute":
        product = uow.setup.product(_required(change.item_id, "--item"))
        if product.is_parent:
            raise ValidationFailed(f"item {product.item_id} is a continuity (parent) item", "item_is_parent")
        return rules.substitute(line, _required(seq, "SEQ"), product.item_id, product.price)
    return rules.pause(line, change.on or today, today)


def _cancel(state: OrderState, ls: LineState, cancel_from: date, today: date) -> _Outcome:
    line = ls.schedule
    pause = line.open_pause()
    if pause is not None and pause.pause_from is not None:
        cancel_from = min(cancel_from, pause.pause_from)
    mine = [i for i in state.installments if i.line_no == ls.line.line_no]
    unknown = [i for i in mine if is_in_flight(i.status)]
    if unknown:
        raise RuleViolation(
            f"installment {unknown[0].seq} has a charge whose outcome is unknown; run "
            "reconcile-payments before cancelling",
            "payment_outcome_unknown",
        )
    adj = rules.cancel(line, cancel_from)
    new_line = line.with_adjustment(adj)
    slots = new_line.slots()
    kept = rules.line_value(slots, state.order.currency, ls.pricing)
    paid = total([i.amount for i in mine if i.status == P.PAID], state.order.currency)
    owed = kept - paid if kept > paid else Money.zero(state.order.currency)
    changes, owed = _authorized_after_cancel(mine, owed)
    for inst in (i for i in mine if i.status in RESHAREABLE):
        if owed.amount > 0:
            changes.append((inst, owed, inst.status))
            owed = Money.zero(owed.currency)
        else:
            changes.append((inst, inst.amount, P.CANCELLED))
    changes = [c for c in changes if (c[1], c[2]) != (c[0].amount, c[0].status)]
    voids = [inst for inst, _, status in changes if inst.status == P.AUTHORIZED and status == P.CANCELLED]
    refund = paid - kept if ls.mode != BillingMode.PAY_ALL_LATER and paid > kept else None
    after = state.with_line(
        _line(ls, new_line, status="open", planned_count=len(slots)), _apply_installments(state.installments, changes)
    )
    return _Outcome(
        after,
        ls.line.line_no,
        adjustment=adj,
        installments=changes,
        refund=refund,
        voids=voids,
        line_values={"status": "open", "planned_count": len(slots)},
    )


def _authorized_after_cancel(mine: list[Installment], owed: Money) -> tuple[list[InstallmentChange], Money]:
    """Authorized installments cover what is still owed first (captured later, never more than was
    authorized); the rest are cancelled, and their authorizations voided at the gateway."""
    changes: list[InstallmentChange] = []
    for inst in (i for i in mine if i.status == P.AUTHORIZED):
        if owed.amount > 0:
            kept = inst.amount if inst.amount <= owed else owed
            changes.append((inst, kept, P.AUTHORIZED))
            owed = owed - kept
        else:
            changes.append((inst, inst.amount, P.CANCELLED))
    return changes, owed


def _reshared(
    ls: LineState, new_line: LineSchedule, installments: list[Installment], currency: str
) -> list[InstallmentChange]:
    """Unpaid installments share what the line now costs minus what is settled."""
    if ls.mode == BillingMode.PAY_ALL_LATER:
        return []
    mine = [i for i in installments if i.line_no == ls.line.line_no]
    settled = total([i.amount for i in mine if i.status in SETTLED], currency)
    unpaid = [i for i in mine if i.status in RESHAREABLE]
    shares = rules.share_unpaid(rules.line_value(new_line.slots(), currency, ls.pricing), settled, len(unpaid))
    return [(i, share, i.status) for i, share in zip(unpaid, shares) if share != i.amount]


def _apply_installments(installments: list[Installment], changes: list[InstallmentChange]) -> list[Installment]:
    new = {(i.line_no, i.seq): (amount, status) for i, amount, status in changes}
    return [
        replace(i, amount=new[(i.line_no, i.seq)][0], status=new[(i.line_no, i.seq)][1])
        if (i.line_no, i.seq) in new
        else i
        for i in installments
    ]


def _line(ls: LineState, schedule: LineSchedule, status: str, planned_count: int | None = None) -> LineState:
    return replace(
        ls, schedule=schedule, status=status, planned_count=ls.planned_count if planned_count is None else planned_count
    )


def _required(value: T | None, what: str) -> T:
    if value is None:
        raise ValidationFailed(f"{what} is required for this change", "change_incomplete")
    return value


# -- writing -----------------------------------------------------------------------------------------
def _write(uow: UnitOfWork, clock: Clock, before: OrderState, outcome: _Outcome, card: Card | None) -> None:
    sales_id, line_no = before.order.sales_id, outcome.line_no
    old = before.line(line_no).schedule
    new = outcome.after.line(line_no).schedule
    for seq, slot in new.stored.items():
        if old.stored.get(seq) != slot or (seq in old.stored and old.stored[seq].occ.basis != slot.occ.basis):
            if uow.servicing.save_slot(sales_id, line_no, slot, insert_it=seq not in old.stored) == 0:
                raise RuleViolation(
                    f"occurrence {seq} changed meanwhile (a job created its child order); look at the order again",
                    "concurrent_change",
                )
    if outcome.adjustment:
        uow.servicing.add_adjustment(sales_id, line_no, outcome.adjustment, clock.now())
    if outcome.closed_pause:
        uow.servicing.close_pause(outcome.closed_pause)
    if outcome.line_values:
        uow.servicing.set_line(sales_id, line_no, **outcome.line_values)
    for inst, amount, status in outcome.installments:
        if uow.servicing.set_installment(inst, amount, status) == 0:
            raise RuleViolation(
                f"installment {inst.seq} changed meanwhile (a payment job charged it); look at the order again",
                "concurrent_change",
            )
    if card is not None:
        if card.token not in {c.token for c in uow.customers.cards(before.order.account)}:  # a saved one again
            uow.customers.save_card(before.order.account, card)
        uow.servicing.set_line(sales_id, line_no, card_token=card.token)


def _tokenize(uow_factory: UowFactory, gateway: PaymentGateway, clock: Clock, sales_id: str, change: Change) -> Card:
    if change.payment_method and (change.card_number or change.expiry):
        raise ValidationFailed(
            "give either a payment method or a card number with expiry, not both", "change_incomplete"
        )
    if not change.payment_method:
        number, expiry = _required(change.card_number, "--card"), _required(change.expiry, "--expiry")
    with uow_factory() as uow:
        state = load(uow, sales_id)
        _plan(uow, state, change, clock.today())  # refuse before the gateway sees the number
        customer = uow.customers.get(state.order.account)
        cards = uow.customers.cards(state.order.account)
    if change.payment_method:  # entered at Stripe: only its reference reaches us
        known = next((c for c in cards if c.token == change.payment_method), None)
        return known or gateway.save_payment_method(
            change.payment_method,
            GatewayCustomer(customer.account, customer.name, customer.email, tuple(c.token for c in cards)),
            clock.today(),
        )
    return gateway.tokenize(number, Expiry.parse(expiry), customer.name, clock.today())


def _write_refund_attempt(uow: UnitOfWork, clock: Clock, state: OrderState, outcome: _Outcome) -> str | None:
    """The refund's attempt and idempotency key are committed with the cancellation, before the call."""
    if not outcome.refund:
        return None
    token = state.line(outcome.line_no).card_token
    if token is None:
        raise RuleViolation("the order has no card to refund to", "card_missing")
    return uow.orders.add_attempt(
        "refund", state.order.sales_id, outcome.line_no, 1, "refund", token, outcome.refund, clock.today(), clock.now()
    )


def _write_void_attempts(
    uow: UnitOfWork,
    clock: Clock,
    state: OrderState,
    outcome: _Outcome,
) -> list[_Void]:
    """One void attempt per authorization to release, committed with the cancellation (before the call).
    Installments sharing one authorization (the card authorized at submit) release it once."""
    voids: list[_Void] = []
    seen: set[str] = set()
    for inst in outcome.voids:
        auth = uow.servicing.authorization_of(inst.sales_id, inst.line_no, inst.seq)
        if auth is None:
            log.warning(
                "installment %s:%s:%s is authorized but no authorization is on record; nothing to void",
                inst.sales_id,
                inst.line_no,
                inst.seq,
            )
            continue
        if auth.reference in seen or auth.subject == "payment":  # a submit authorization: released
            continue  # by settle_authorizations once nothing it holds is left to capture
        seen.add(auth.reference)
        key = uow.orders.add_attempt(
            "installment",
            inst.sales_id,
            inst.line_no,
            inst.seq,
            "void",
            auth.card_token,
            inst.amount,
            clock.today(),
            clock.now(),
        )
        voids.append(_Void(key, inst, auth))
    return voids


@dataclass(frozen=True)
class _Void:
    """A void attempt committed for the authorization holding an installment's money."""

    key: str
    installment: Installment
    authorization: HeldAuthorization


def _send_voids(
    uow_factory: UowFactory, gateway: PaymentGateway, clock: Clock, actor: Actor, sales_id: str, voids: list[_Void]
) -> None:
    """The voids (attempts committed) sent concurrently; their answers written here, on this thread."""
    if not voids:
        return
    results = each(
        gateway,
        lambda void: call_void(gateway, void.authorization.card_token, void.authorization.reference, void.key),
        voids,
    )
    with uow_factory() as uow:
        for void, result in zip(voids, results):
            amount, released = void.installment.amount, void.authorization.reference
            record_answer(uow, actor, "void", void.key, sales_id, amount, result, clock.now(), released)
        uow.commit()


def _send_refund(
    uow_factory: UowFactory,
    gateway: PaymentGateway,
    clock: Clock,
    actor: Actor,
    sales_id: str,
    line_no: int,
    refund: Money,
    key: str,
) -> None:
    with uow_factory() as uow:
        token = uow.servicing.line(sales_id, line_no).card_token
        captures = captures_of_line(uow, sales_id, line_no)
    if token is None:  # the refund's attempt was written with the line's card
        raise RuleViolation("the order has no card to refund to", "card_missing")
    result = call_refund(gateway, token, refund, key, captures)
    with uow_factory() as uow:
        record_answer(uow, actor, "refund", key, sales_id, refund, result, clock.now())
        uow.commit()


def resolve_unknown(
    uow_factory: UowFactory, gateway: PaymentGateway, clock: Clock, sales_id: str, actor: Actor = SYSTEM
) -> int:
    """Installment charges of the order whose outcome is unknown: looked up under their own key (and
    re-sent under that same key when the gateway never got them) — never charged under a new key."""
    with uow_factory() as uow:
        stale = uow.servicing.unknown_attempts(sales_id)
    resolved = 0
    for a, found in zip(stale, each(gateway, lambda a: _look_up(gateway, a), stale)):
        if found.outcome == GatewayOutcome.UNKNOWN:
            continue
        _record_lookup(uow_factory, clock, actor, a, found)
        resolved += 1
    return resolved


def _look_up(gateway: PaymentGateway, a: AttemptRecord) -> GatewayResult:
    """What became of an attempt (no answer: stays unknown for reconcile); sent again, same key, when the
    gateway never got it."""
    return look_up(
        gateway,
        a.idempotency_key,
        lambda: call_gateway(
            gateway,
            a.operation,
            a.card_token,
            Money.from_minor(a.amount_minor, a.currency),
            a.idempotency_key,
        ),
    )


def _record_lookup(uow_factory: UowFactory, clock: Clock, actor: Actor, a: AttemptRecord, found: GatewayResult) -> None:
    status = next_status(a.operation, ATTEMPT_STATUS[found.outcome])
    with uow_factory() as uow:
        uow.orders.finish_attempt(a.idempotency_key, ATTEMPT_STATUS[found.outcome], found.reason, found.reference)
        inst = next(i for i in uow.orders.installments(a.sales_id) if (i.line_no, i.seq) == (a.line_no, a.seq))
        if status is not None and inst.status != status and status in PAYMENT_TRANSITIONS[inst.status]:
            uow.servicing.set_installment(inst, inst.amount, status)
            uow.audit.add(
                AuditEntry(
                    actor,
                    Entity.INSTALLMENT,
                    f"{a.sales_id}:{a.line_no}:{a.seq}",
                    "looked_up",
                    {"status": inst.status.value},
                    {"status": status.value},
                    f"gateway lookup of {a.idempotency_key}",
                    a.sales_id,
                ),
                clock.now(),
            )
        uow.commit()


# -- the audit entries of a change -----------------------------------------------------------------
def _masked(uow: UnitOfWork, state: OrderState, line_no: int) -> str | None:
    """The line's card as the history shows it (brand and last 4), read before the change."""
    token = state.line(line_no).card_token
    return next((c.masked for c in uow.customers.cards(state.order.account) if c.token == token), None)


def _audit(
    actor: Actor, change: Change, before: OrderState, outcome: _Outcome, card: Card | None, old_card: str | None = None
) -> list[AuditEntry]:
    """The entries of one change (one instant): each occurrence, line and installment it changes, before and
    after; a card by brand and last 4 only (never its token)."""
    sales_id, line_no = before.order.sales_id, outcome.line_no
    terms = before.line(line_no).line.continuity
    program_id = terms.program_id if terms else None
    reason = change.reason
    entries: list[AuditEntry] = []

    def add(entity: Entity, key: str, action: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        entries.append(AuditEntry(actor, entity, key, action, old, new, reason, sales_id, program_id))

    old_slots = {s.seq: s for s in before.line(line_no).schedule.slots()}
    for s in outcome.after.line(line_no).schedule.slots():
        o = old_slots.get(s.seq)
        if o is not None and _slot_view(o) != _slot_view(s):
            add(Entity.OCCURRENCE, f"{sales_id}:{line_no}:{s.seq}", change.kind, _slot_view(o), _slot_view(s))
    old_line = before.line(line_no)
    if outcome.line_values or outcome.adjustment or outcome.closed_pause:
        add(
            Entity.LINE,
            f"{sales_id}:{line_no}",
            change.kind,
            {"status": old_line.status},
            {"status": outcome.after.line(line_no).status, **_adjustment_view(outcome)},
        )
    for inst, amount, status in outcome.installments:
        add(
            Entity.INSTALLMENT,
            f"{sales_id}:{inst.line_no}:{inst.seq}",
            change.kind,
            {"amount": str(inst.amount.amount), "status": inst.status.value},
            {"amount": str(amount.amount), "status": status.value},
        )
    if outcome.refund:
        add(
            Entity.PAYMENT,
            f"refund:{sales_id}:{line_no}",
            "refund_requested",
            None,
            {"amount": str(outcome.refund.amount), "currency": outcome.refund.currency},
        )
    if card is not None:
        add(
            Entity.LINE,
            f"{sales_id}:{line_no}",
            "change_card",
            {"card": old_card},
            {"card": card.masked},
        )
    return entries


def _slot_view(s: Slot) -> dict[str, str]:
    return {
        "ship_date": s.occ.ship_date.isoformat(),
        "item_id": s.occ.item_id,
        "price": str(s.occ.price.amount),
        "status": s.status.value,
    }


def _adjustment_view(outcome: _Outcome) -> dict[str, object]:
    adj = outcome.closed_pause or outcome.adjustment
    if adj is None:
        return {}
    view: dict[str, object] = {"adjustment": adj.kind.value, "seq": adj.seq}
    for name in ("days", "ship_date", "item_id", "pause_from", "resume_on"):
        value = getattr(adj, name)
        if value is not None:
            # a cancellation's date is kept in pause_from: the history names it as what it is
            shown = "cancel_from" if name == "pause_from" and adj.kind == AdjustmentKind.CANCEL else name
            view[shown] = value.isoformat() if isinstance(value, date) else value
    return view


__all__ = ["Change", "apply", "preview", "resolve_unknown", "AdjustmentKind"]
