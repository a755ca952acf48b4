"""The payment review worklist and what an agent does from it.

The worklist lists installments whose retries are used up (the dunning policy retries them no more on their
current card: a hard decline, every scheduled retry declined, or the retry window over), cards that expire before the next shipment they pay for (services/card_expiry.py),
and charges whose outcome is unknown for more than a day. From it an agent can:

- **retry now**: the installment's next attempt is claimed exactly as process-payments claims one (the
  attempt and the installment's ``in_flight`` status committed in one transaction, before the gateway call:
  adapters/batch/payments.PaymentStore.claim_next_chunk with ``ClaimQuery.manual``), so a retry and the
  nightly run of the same installment never both charge it; an unknown outcome is looked up under its own
  key instead (never charged again under a new one);
- **change the card and retry**: the servicing change-card on the continuity order, then retry now;
- **waive** an installment, with a reason: it is cancelled (nothing more is charged for it);
- **cancel** the continuity order (the servicing cancel, from today);
- **settle it by a manual payment** (cheque, bank transfer…): the named installment is paid with the
  method and reference recorded, so no retry is left pending for it; its due date and every other
  installment's stay as they are (the billing period never moves).

Each is audited under the agent's name; the child orders held for the installment are released by the
same statement process-payments uses."""

from __future__ import annotations

from datetime import date, timedelta

from typing_extensions import TypedDict

from continuity.domain.audit import Actor, AuditEntry, Entity
from continuity.domain.errors import NotFound, RuleViolation, ValidationFailed
from continuity.domain.free_text import masked_reason
from continuity.domain.money import Money
from continuity.domain.payments import IN_FLIGHT, Installment, PaymentStatus
from continuity.services import servicing
from continuity.services.card_expiry import expiring_cards
from continuity.services.jobs.charging import charge_claimed, resolve_by_lookup
from continuity.services.jobs.context import JobDeps
from continuity.services.jobs.ports import PaymentReviewReads
from continuity.services.jobs.records import ClaimQuery, ReviewInstallment
from continuity.services.ports import UnitOfWork, UowFactory
from continuity.services.servicing import Change

#: the kinds of worklist item
EXHAUSTED, EXPIRING, UNKNOWN = "retries_exhausted", "card_expiring", "outcome_unknown"
UNKNOWN_AFTER = timedelta(days=1)
JOB = "payment-review"  # the actor of the child-order holds released after an agent's action
MANUAL_METHODS = ("bank_transfer", "cheque", "cash", "other")


class ReviewItem(TypedDict):
    kind: str
    sales_id: str
    line_no: int
    seq: int | None  # the installment (None for an expiring card: it is about the line)
    account: str
    name: str
    due_date: date  # the installment's due date, or the next shipment's day
    amount: str | None
    currency: str | None
    card: str
    attempts: int
    last_reason: str
    expiry: str | None


class ActionView(TypedDict):
    sales_id: str
    line_no: int
    seq: int
    action: str  # retried, looked_up, waived, paid_manually
    status: str  # the installment's status after it
    outcome: str  # the gateway's answer (approved, declined, unknown), or "" when no call was made
    reason: str


def worklist(deps: JobDeps, reads: PaymentReviewReads, as_of: date) -> list[ReviewItem]:
    """Everything to review, by kind: retries used up, cards expiring before their next shipment, outcomes
    unknown for more than a day."""
    with deps.uow() as uow:
        params = uow.setup.parameters()
    policy = params.dunning()
    items = [_item(EXHAUSTED, r) for r in reads.exhausted(len(policy.retry_days) + 1, policy.window_from(as_of))]
    items += [
        {
            "kind": EXPIRING,
            "sales_id": c.sales_id,
            "line_no": c.line_no,
            "seq": None,
            "account": c.account,
            "name": c.name,
            "due_date": c.next_shipment,
            "amount": None,
            "currency": None,
            "card": c.card,
            "attempts": 0,
            "last_reason": "",
            "expiry": c.expiry,
        }
        for c in expiring_cards(deps.card_expiry, as_of, params)
    ]
    items += [_item(UNKNOWN, r) for r in reads.unknown_since(as_of - UNKNOWN_AFTER)]
    return items


def _item(kind: str, r: ReviewInstallment) -> ReviewItem:
    return {
        "kind": kind,
        "sales_id": r.sales_id,
        "line_no": r.line_no,
        "seq": r.seq,
        "account": r.account,
        "name": r.name,
        "due_date": r.due_date,
        "amount": str(Money.from_minor(r.amount_minor, r.currency).amount),
        "currency": r.currency,
        "card": r.card,
        "attempts": r.attempts,
        "last_reason": r.last_reason,
        "expiry": None,
    }


def retry_now(deps: JobDeps, sales_id: str, line_no: int, seq: int, actor: Actor) -> ActionView:
    """Charge the installment now (or look up its unknown charge under its own key)."""
    as_of = deps.clock.today()
    with deps.uow() as uow:
        inst = _installment(uow, sales_id, line_no, seq)
        params = uow.setup.parameters()
    if inst.status == PaymentStatus.UNKNOWN:
        return _look_up(deps, inst, actor)
    claim = ClaimQuery(as_of, None, params.dunning(), 1, sales_ids=[sales_id], installment=(line_no, seq))
    claimed = deps.payments.claim_next_chunk(_manual(claim), None, deps.clock.now()).attempts
    if not claimed:
        raise _not_retryable(inst)
    outcome = charge_claimed(deps, claimed, as_of, params.dunning())
    answer = next(iter(outcome))
    status = _status_of(deps, sales_id, line_no, seq)
    _audit(deps.uow, actor, inst, "retried", status, f"agent retry: {answer}")
    deps.payments.release_child_holds(as_of, job=JOB)
    return _action(inst, "retried", status, answer, "")


def change_card_and_retry(
    deps: JobDeps,
    sales_id: str,
    line_no: int,
    seq: int,
    actor: Actor,
    card_number: str | None = None,
    expiry: str | None = None,
    payment_method: str | None = None,
) -> ActionView:
    """The continuity order's card is changed (servicing change-card), then the installment is retried."""
    with deps.uow() as uow:
        order = uow.orders.get(sales_id)
    parent = order.parent_sales_id or sales_id
    change = Change(
        "change_card", card_number=card_number, expiry=expiry, payment_method=payment_method, reason="payment review"
    )
    servicing.apply(deps.uow, deps.gateway, deps.clock, parent, change, actor)
    with deps.uow() as uow:
        settled = _installment(uow, sales_id, line_no, seq).status not in (
            PaymentStatus.DECLINED,
            PaymentStatus.NOT_SUBMITTED,
        )
    if settled:  # the change of card settled it already (a looked-up unknown charge)
        return _action(
            _installment_of(deps, sales_id, line_no, seq),
            "card_changed",
            _status_of(deps, sales_id, line_no, seq),
            "",
            "",
        )
    return retry_now(deps, sales_id, line_no, seq, actor)


def waive(deps: JobDeps, sales_id: str, line_no: int, seq: int, reason: str, actor: Actor) -> ActionView:
    """Nothing more is charged for the installment (it is cancelled); its child orders are released."""
    reason = _reason(reason)
    with deps.uow() as uow:
        inst = _installment(uow, sales_id, line_no, seq)
        _settle(uow, inst, PaymentStatus.CANCELLED)
        uow.audit.add(_entry(actor, inst, "waived", PaymentStatus.CANCELLED, reason), deps.clock.now())
        uow.commit()
    deps.payments.release_child_holds(deps.clock.today(), job=JOB)
    return _action(inst, "waived", PaymentStatus.CANCELLED.value, "", reason)


def settle_manually(
    deps: JobDeps, sales_id: str, line_no: int, seq: int, method: str, reference: str, actor: Actor
) -> ActionView:
    """A payment taken outside the card gateway settles the named installment: paid, so no retry is left
    for it; no date moves (its due date and the other installments' stay as they are)."""
    if method not in MANUAL_METHODS:
        raise ValidationFailed(f"the payment method is one of {', '.join(MANUAL_METHODS)}", "payment_method_invalid")
    reference = _reason(reference, "reference")
    with deps.uow() as uow:
        inst = _installment(uow, sales_id, line_no, seq)
        _settle(uow, inst, PaymentStatus.PAID)
        note = f"{method} {reference}"
        uow.audit.add(_entry(actor, inst, "paid_manually", PaymentStatus.PAID, note), deps.clock.now())
        uow.commit()
    deps.payments.release_child_holds(deps.clock.today(), job=JOB)
    return _action(inst, "paid_manually", PaymentStatus.PAID.value, "", f"{method} {reference}")


def cancel_order(deps: JobDeps, sales_id: str, reason: str, actor: Actor) -> servicing.ChangeResult:
    """Cancel the continuity order from today (the servicing cancel: refunds, voids, close-orders)."""
    with deps.uow() as uow:
        order = uow.orders.get(sales_id)
    change = Change("cancel", on=deps.clock.today(), reason=_reason(reason))
    return servicing.apply(deps.uow, deps.gateway, deps.clock, order.parent_sales_id or sales_id, change, actor)


# -- helpers ------------------------------------------------------------------------------------------
def _manual(claim: ClaimQuery) -> ClaimQuery:
    return ClaimQuery(
        claim.as_of,
        claim.item_id,
        claim.policy,
        claim.chunk,
        claim.operation,
        claim.sales_ids,
        claim.installment,
        manual=True,
    )


def _look_up(deps: JobDeps, inst: Installment, actor: Actor) -> ActionView:
    with deps.uow() as uow:
        attempts = [
            a for a in uow.servicing.unknown_attempts(inst.sales_id) if (a.line_no, a.seq) == (inst.line_no, inst.seq)
        ]
    stale = [
        a
        for a in deps.payments.stale_attempts(deps.clock.now(), "", 1000)
        if a.idempotency_key in {x.idempotency_key for x in attempts}
    ]
    if not stale:
        raise _not_retryable(inst)
    outcomes = resolve_by_lookup(deps, stale[:1], deps.clock.today())
    status = _status_of(deps, inst.sales_id, inst.line_no, inst.seq)
    _audit(deps.uow, actor, inst, "looked_up", status, f"agent lookup of {stale[0].idempotency_key}")
    deps.payments.release_child_holds(deps.clock.today(), job=JOB)
    return _action(inst, "looked_up", status, outcomes[0].status, outcomes[0].reason)


def installment_line(uow_factory: UowFactory, sales_id: str, seq: int, line_no: int | None = None) -> int:
    """The line of the order's installment ``seq`` (``line_no`` None: the one line that has it)."""
    with uow_factory() as uow:
        found = [i.line_no for i in uow.orders.installments(sales_id) if i.seq == seq and line_no in (None, i.line_no)]
    if len(found) != 1:
        raise NotFound(f"order {sales_id} has no one installment {seq}: give its line", "installment_not_found")
    return found[0]


def _installment(uow: UnitOfWork, sales_id: str, line_no: int, seq: int) -> Installment:
    for inst in uow.orders.installments(sales_id):
        if (inst.line_no, inst.seq) == (line_no, seq):
            return inst
    raise NotFound(f"order {sales_id} has no installment {line_no}/{seq}", "installment_not_found")


def _installment_of(deps: JobDeps, sales_id: str, line_no: int, seq: int) -> Installment:
    with deps.uow() as uow:
        return _installment(uow, sales_id, line_no, seq)


def _status_of(deps: JobDeps, sales_id: str, line_no: int, seq: int) -> str:
    return _installment_of(deps, sales_id, line_no, seq).status.value


def _settle(uow: UnitOfWork, inst: Installment, status: PaymentStatus) -> None:
    """Move the installment from the status it was read in (a charge claimed meanwhile wins: refused)."""
    if inst.status in IN_FLIGHT:
        raise RuleViolation(
            f"the charge of installment {inst.seq} of {inst.sales_id} is at the gateway; wait for its answer",
            "payment_outcome_unknown",
        )
    if inst.status not in (PaymentStatus.DECLINED, PaymentStatus.NOT_SUBMITTED):
        raise RuleViolation(
            f"installment {inst.seq} of {inst.sales_id} is {inst.status.value}",
            "installment_not_open",
            {"status": inst.status.value},
        )
    if uow.servicing.set_installment(inst, inst.amount, status) != 1:
        raise RuleViolation(f"installment {inst.seq} of {inst.sales_id} changed meanwhile", "concurrent_change")


def _not_retryable(inst: Installment) -> RuleViolation:
    return RuleViolation(
        f"installment {inst.seq} of {inst.sales_id} cannot be charged now ({inst.status.value}: not due, settled, "
        "held by a charge in flight, or its order is not charged)",
        "installment_not_retryable",
        {"status": inst.status.value},
    )


def _audit(uow_factory: UowFactory, actor: Actor, inst: Installment, action: str, status: str, note: str) -> None:
    with uow_factory() as uow:
        uow.audit.add(_entry(actor, inst, action, PaymentStatus(status), note))
        uow.commit()


def _entry(actor: Actor, inst: Installment, action: str, status: PaymentStatus, note: str) -> AuditEntry:
    key = f"{inst.sales_id}:{inst.line_no}:{inst.seq}"
    before, after = {"status": inst.status.value}, {"status": status.value}
    return AuditEntry(actor, Entity.INSTALLMENT, key, action, before, after, note, sales_id=inst.sales_id)


def _reason(text: str, field: str = "reason") -> str:
    text = masked_reason(text.strip(), field)
    if not text or len(text) > 500:
        raise ValidationFailed(f"give a {field} (at most 500 characters)", f"{field}_required", {"field": field})
    return text


def _action(inst: Installment, action: str, status: str, outcome: str, reason: str) -> ActionView:
    return {
        "sales_id": inst.sales_id,
        "line_no": inst.line_no,
        "seq": inst.seq,
        "action": action,
        "status": status,
        "outcome": outcome,
        "reason": reason,
    }
