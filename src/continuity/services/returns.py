"""Returns of shipped and invoiced child orders: a credit note, a refund of the captured amount, and what
the program says the return does to the parent's schedule.

The refund follows the payment rule: its attempt (subject ``return``, seq = the credit note's serial) and
idempotency key are committed with the credit note, then the gateway is called; no answer leaves it
unknown until reconcile-payments looks it up under the same key. It draws on the captures of the order
that was charged for the child: the child's own charge (paid per shipment), else its parent's
installments; a refund never exceeds what that order captured minus what it refunded already.

``return_action`` of the parent line's program: ``continue`` changes nothing; ``replace`` ships the same
goods again as a new child order of the same parent at no charge (``CHILD-R<n>``, in the credit note's
transaction; the parent's schedule, installments and the line value they share stay as sold);
``cancel_remaining`` cancels the rest of the parent line through the servicing cancel (its voids and its
refund of what was paid and not shipped stay right), refused up front when that cancel would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from typing_extensions import TypedDict

from continuity.domain.audit import SYSTEM, Actor, AuditEntry, Entity
from continuity.domain.errors import NotFound, RuleViolation, ValidationFailed
from continuity.domain.free_text import masked_reason
from continuity.domain.money import Money, total
from continuity.domain.payments import AttemptStatus
from continuity.domain.program import Program
from continuity.domain.returns import (
    ReturnAction,
    ReturnReason,
    check_quantity,
    check_refund,
    credit_note_number,
    returned_share,
)
from continuity.domain.sales_order import LineStatus, OrderStatus, SalesLine, SalesOrder
from continuity.services import servicing
from continuity.services.gateway_calls import call_refund, record_answer
from continuity.services.ports import (
    AttemptRecord,
    Clock,
    CreditNote,
    CreditNoteLine,
    GatewayResult,
    PaymentGateway,
    UnitOfWork,
    UowFactory,
)
from continuity.services.refund_sources import captures_of_line
from continuity.services.setup import save_program

#: refunds that count against what may still be refunded: approved, or maybe made (no answer yet)
REFUNDING = frozenset({AttemptStatus.APPROVED, AttemptStatus.PENDING, AttemptStatus.UNKNOWN})


@dataclass(frozen=True)
class ReturnRequest:
    sales_id: str
    line_no: int
    quantity: int
    reason_code: str
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "note", masked_reason(self.note, "note"))  # never a card number kept


class ReturnResult(TypedDict):
    """What a return did: its credit note, the refund (its attempt's key and status) and the schedule."""

    credit_note: str
    sales_id: str
    parent_sales_id: str
    line_no: int
    item_id: str
    quantity: int
    amount: str
    currency: str
    reason_code: str
    refund_sales_id: str
    refund_key: str | None
    refund_status: str | None  # approved, declined, unknown; None: nothing to refund (a no-charge order)
    schedule_action: str
    replacement_sales_id: str | None
    cancelled: bool  # cancel_remaining cancelled the rest of the parent line


class ReasonView(TypedDict):
    code: str
    description: str
    active: bool


class CreditNoteLineView(TypedDict):
    line_no: int
    item_id: str
    quantity: int
    unit_price: str
    amount: str


class CreditNoteView(TypedDict):
    credit_note: str
    sales_id: str
    parent_sales_id: str
    reason_code: str
    amount: str
    currency: str
    returned_on: str
    refund_sales_id: str
    refund_key: str | None
    refund_status: str | None  # the refund attempt's status now (None: nothing refunded)
    schedule_action: str
    replacement_sales_id: str | None
    note: str
    lines: list[CreditNoteLineView]


@dataclass(frozen=True)
class _Plan:
    child: SalesOrder
    line: SalesLine
    amount: Money
    source: str  # the order whose captures are refunded
    source_line: int
    token: str | None
    action: ReturnAction
    parent_line: int | None


def return_goods(
    uow_factory: UowFactory,
    gateway: PaymentGateway,
    clock: Clock,
    request: ReturnRequest,
    actor: Actor = SYSTEM,
) -> ReturnResult:
    """Return ``quantity`` of a line of a shipped and invoiced child order (refused, writing nothing,
    when it would return more than shipped or refund more than captured)."""
    today = clock.today()
    with uow_factory() as uow:
        plan = _plan(uow, request)
    if plan.action == ReturnAction.CANCEL_REMAINING:
        _cancel_would_apply(uow_factory, clock, plan)  # refused here, before anything is written
    with uow_factory() as uow:
        uow.orders.lock_if_in(request.sales_id, (OrderStatus.INVOICED,))  # one return of the order at a time
        source = _plan(uow, request).source
        if source != request.sales_id:  # the parent's captures: one refund from them at a time
            uow.orders.lock_if_in(source, tuple(OrderStatus))
        plan = _plan(uow, request)  # again, under the locks
        note = _write(uow, clock, request, plan, actor)
        uow.commit()
    refund_status = None
    if note.refund_key and plan.token is not None:
        result = _refund(uow_factory, gateway, plan, note.refund_key)
        with uow_factory() as uow:
            record_answer(uow, actor, "refund", note.refund_key, request.sales_id, plan.amount, result, clock.now())
            uow.commit()
        refund_status = result.outcome.value
    cancelled = False
    if plan.action == ReturnAction.CANCEL_REMAINING and _cancellable(uow_factory, plan):
        reason = f"return {note.credit_note_id}"
        change = servicing.Change("cancel", on=today, reason=reason, line_no=plan.parent_line)
        servicing.apply(uow_factory, gateway, clock, _parent(plan), change, actor)
        cancelled = True
    with uow_factory() as uow:
        saved = next(n for n in uow.returns.credit_notes(request.sales_id) if n.credit_note_id == note.credit_note_id)
    return _result(saved, refund_status, cancelled)


def reasons(uow_factory: UowFactory, active_only: bool = False) -> list[ReturnReason]:
    with uow_factory() as uow:
        found = uow.returns.reasons()
    return [r for r in found if r.active or not active_only]


def save_reason(uow_factory: UowFactory, reason: ReturnReason) -> ReturnReason:
    reason.validate()
    with uow_factory() as uow:
        uow.returns.save_reason(reason)
        uow.commit()
    return reason


def credit_notes(uow_factory: UowFactory, sales_id: str) -> list[CreditNote]:
    """The credit notes of a child order (or of every child of a parent), oldest first."""
    with uow_factory() as uow:
        uow.orders.get(sales_id)
        return uow.returns.credit_notes(sales_id)


def credit_note_views(uow_factory: UowFactory, sales_id: str) -> list[CreditNoteView]:
    """The credit notes of an order as JSON-ready views, each with its refund's status now."""
    with uow_factory() as uow:
        uow.orders.get(sales_id)
        notes = uow.returns.credit_notes(sales_id)
        statuses = {
            a.idempotency_key: a.status
            for source in {n.refund_sales_id for n in notes}
            for a in uow.orders.attempts(source)
        }
    return [credit_note_view(n, statuses.get(n.refund_key)) for n in notes]


def credit_note_view(n: CreditNote, refund_status: str | None) -> CreditNoteView:
    return {
        "credit_note": n.credit_note_id,
        "sales_id": n.sales_id,
        "parent_sales_id": n.parent_sales_id,
        "reason_code": n.reason_code,
        "amount": str(n.amount.amount),
        "currency": n.amount.currency,
        "returned_on": n.returned_on.isoformat(),
        "refund_sales_id": n.refund_sales_id,
        "refund_key": n.refund_key or None,
        "refund_status": refund_status,
        "schedule_action": n.schedule_action,
        "replacement_sales_id": n.replacement_sales_id,
        "note": n.note,
        "lines": [
            {
                "line_no": ln.line_no,
                "item_id": ln.item_id,
                "quantity": ln.quantity,
                "unit_price": str(ln.unit_price.amount),
                "amount": str(ln.amount.amount),
            }
            for ln in n.lines
        ],
    }


def reason_view(r: ReturnReason) -> ReasonView:
    return {"code": r.code, "description": r.description, "active": r.active}


def set_return_action(
    uow_factory: UowFactory, program_id: str, action: str, as_of: date, actor: Actor = SYSTEM
) -> Program:
    """What a return does to the schedules of a program's orders from now on (audited like any setup change)."""
    try:
        chosen = ReturnAction(action)
    except ValueError:
        raise ValidationFailed(
            f"return action must be one of {', '.join(a.value for a in ReturnAction)}, got {action!r}",
            "return_action_invalid",
            {"field": "return_action"},
        ) from None
    with uow_factory() as uow:
        program = uow.setup.program(program_id)
        program.return_action = chosen
        save_program(uow, program, as_of, actor)
        uow.commit()
    return program


# -- the rules ---------------------------------------------------------------------------------------
def _plan(uow: UnitOfWork, request: ReturnRequest) -> _Plan:
    child = uow.orders.get(request.sales_id)
    if child.parent_sales_id is None:
        raise RuleViolation(
            f"{child.sales_id} is not a child order; only a child order is returned", "not_a_child_order"
        )
    if child.status != OrderStatus.INVOICED:
        raise RuleViolation(
            f"{child.sales_id} is {child.status.value}; only a shipped and invoiced order can be returned",
            "return_not_invoiced",
            {"status": child.status.value},
        )
    line = next((ln for ln in child.lines if ln.line_no == request.line_no), None)
    if line is None or line.status == LineStatus.CANCELLED:
        raise NotFound(
            f"{child.sales_id} has no line {request.line_no}", "line_not_found", {"line_no": request.line_no}
        )
    reason = uow.returns.reason(request.reason_code)
    if not reason.active:
        raise RuleViolation(f"return reason {reason.code} is no longer used", "return_reason_inactive")
    returned = uow.returns.returned_quantities(child.sales_id).get(line.line_no, 0)
    check_quantity(child.sales_id, line.line_no, request.quantity, line.quantity, returned)
    charged = line.amounts(child.prices_include_tax).total  # goods, shipping charge and tax
    amount = returned_share(charged, line.quantity, returned, request.quantity)
    parent_line = uow.returns.parent_line_of(child.sales_id, line.line_no)
    source, source_line, captured = _money_source(uow, child, parent_line)
    refunded = total(
        [_money(a) for a in uow.orders.attempts(source) if a.operation == "refund" and a.status in REFUNDING],
        amount.currency,
    )
    check_refund(source, amount, total([_money(a) for a in captured], amount.currency), refunded)
    token = captured[-1].card_token if captured else None
    return _Plan(child, line, amount, source, source_line, token, _action(uow, child, parent_line), parent_line)


def _money_source(uow: UnitOfWork, child: SalesOrder, parent_line: int | None) -> tuple[str, int, list[AttemptRecord]]:
    """The order charged for the child and its approved captures: the child's own charge (paid per
    shipment), else its parent's (paid up front or in installments)."""
    own = _captures(uow, child.sales_id)
    if own:
        return child.sales_id, own[-1].line_no, own
    parent = _parent_id(child)
    return parent, parent_line or 0, _captures(uow, parent)


def _captures(uow: UnitOfWork, sales_id: str) -> list[AttemptRecord]:
    return [a for a in uow.orders.attempts(sales_id) if a.operation == "capture" and a.status == AttemptStatus.APPROVED]


def _action(uow: UnitOfWork, child: SalesOrder, parent_line: int | None) -> ReturnAction:
    """The return_action of the program the child's line ships for (continue for an ordinary line)."""
    if parent_line is None:
        return ReturnAction.CONTINUE
    parent = uow.orders.get(_parent_id(child))
    terms = next((ln.continuity for ln in parent.lines if ln.line_no == parent_line), None)
    return uow.setup.program(terms.program_id).return_action if terms else ReturnAction.CONTINUE


def _cancellable(uow_factory: UowFactory, plan: _Plan) -> bool:
    """The parent line has a rest to cancel: the order is open or held and the line open, not cancelled."""
    if plan.parent_line is None:
        return False
    with uow_factory() as uow:
        parent = uow.orders.get(_parent(plan))
        if parent.status not in servicing.SERVICEABLE:
            return False
        if uow.servicing.line(parent.sales_id, plan.parent_line).status != "open":
            return False
        return not any(a.kind.value == "cancel" for a in uow.servicing.adjustments(parent.sales_id, plan.parent_line))


def _cancel_would_apply(uow_factory: UowFactory, clock: Clock, plan: _Plan) -> None:
    """A cancel_remaining return is refused, writing nothing, when the cancel itself would be."""
    if _cancellable(uow_factory, plan):
        servicing.preview(uow_factory, clock, _parent(plan), servicing.Change("cancel", line_no=plan.parent_line))


# -- writing -----------------------------------------------------------------------------------------
def _write(uow: UnitOfWork, clock: Clock, request: ReturnRequest, plan: _Plan, actor: Actor) -> CreditNote:
    """The credit note, its refund attempt (before the call) and its audit entries, in one transaction."""
    today, now = clock.today(), clock.now()
    serial = uow.returns.next_serial()
    key = ""
    if plan.amount.amount > 0:
        if plan.token is None:
            raise RuleViolation("the order has no card to refund to", "card_missing")
        key = uow.orders.add_attempt(
            "return", plan.source, plan.source_line, serial, "refund", plan.token, plan.amount, today, now
        )
    line = plan.line
    note = CreditNote(
        credit_note_number(serial),
        serial,
        plan.child.sales_id,
        _parent(plan),
        request.reason_code,
        plan.amount,
        plan.source,
        key,
        plan.action.value,
        None,
        request.note,
        today,
        (CreditNoteLine(line.line_no, line.item_id, request.quantity, line.unit_price, plan.amount),),
    )
    uow.returns.add_credit_note(note, now)
    replacement = None
    if plan.action == ReturnAction.REPLACE:
        replacement = uow.returns.add_replacement(note.credit_note_id, plan.child, line, request.quantity, today, now)
    uow.audit.add_all(_audit(actor, note, plan, request, replacement), now)
    return note


def _refund(uow_factory: UowFactory, gateway: PaymentGateway, plan: _Plan, key: str) -> GatewayResult:
    with uow_factory() as uow:
        captures = captures_of_line(uow, plan.source, plan.source_line)
    assert plan.token is not None
    return call_refund(gateway, plan.token, plan.amount, key, captures)


def _audit(
    actor: Actor, note: CreditNote, plan: _Plan, request: ReturnRequest, replacement: str | None
) -> list[AuditEntry]:
    """``returned`` in the child's history and in its parent's (with the refund requested, and the
    replacement child order when one is made)."""
    line = note.lines[0]
    after: dict[str, object] = {
        "credit_note": note.credit_note_id,
        "line_no": line.line_no,
        "item_id": line.item_id,
        "quantity": line.quantity,
        "amount": str(note.amount.amount),
        "currency": note.amount.currency,
        "return_reason": note.reason_code,
    }
    if replacement is not None:
        after["replacement"] = replacement
    entries = [
        AuditEntry(actor, Entity.ORDER, note.sales_id, "returned", None, after, request.note, sales_id)
        for sales_id in (note.sales_id, note.parent_sales_id)
    ]
    if note.refund_key:
        money = {"amount": str(note.amount.amount), "currency": note.amount.currency}
        entries.append(
            AuditEntry(
                actor,
                Entity.PAYMENT,
                f"refund:{note.credit_note_id}",
                "refund_requested",
                None,
                money,
                request.note,
                note.sales_id,
            )
        )
    return entries


def _result(note: CreditNote, refund_status: str | None, cancelled: bool) -> ReturnResult:
    line = note.lines[0]
    return {
        "credit_note": note.credit_note_id,
        "sales_id": note.sales_id,
        "parent_sales_id": note.parent_sales_id,
        "line_no": line.line_no,
        "item_id": line.item_id,
        "quantity": line.quantity,
        "amount": str(note.amount.amount),
        "currency": note.amount.currency,
        "reason_code": note.reason_code,
        "refund_sales_id": note.refund_sales_id,
        "refund_key": note.refund_key or None,
        "refund_status": refund_status,
        "schedule_action": note.schedule_action,
        "replacement_sales_id": note.replacement_sales_id,
        "cancelled": cancelled,
    }


def _money(a: AttemptRecord) -> Money:
    return Money.from_minor(a.amount_minor, a.currency)


def _parent_id(child: SalesOrder) -> str:
    if child.parent_sales_id is None:
        raise RuleViolation(f"{child.sales_id} is not a child order", "not_a_child_order")
    return child.parent_sales_id


def _parent(plan: _Plan) -> str:
    return _parent_id(plan.child)
