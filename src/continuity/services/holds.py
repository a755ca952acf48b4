"""Order holds with hold codes: list and add the codes (set-up data), put an order on hold with a code
and a note, clear it with a note. Both are audited (the order's history shows them).

A manual code (domain/holds.py) is put on and cleared by hand; a payment code only by the payments. A
parent order held by hand makes its new child orders on hold with its code (create-child-orders), and
clearing the parent's hold clears the hold of its children held with the same code."""

from __future__ import annotations

from typing_extensions import TypedDict

from continuity.domain.audit import Actor, AuditEntry, Entity
from continuity.domain.errors import NotFound, ValidationFailed
from continuity.domain.free_text import checked_name, masked_reason
from continuity.domain.holds import BUILT_IN, HoldCode, HoldKind, check_manual, checked_code
from continuity.domain.sales_order import OrderStatus, SalesOrder
from continuity.services.ports import Clock, UnitOfWork, UowFactory

HELD, CLEARED = "held", "hold_cleared"  # the audit actions
NOTE_MAX = 500


class HoldCodeView(TypedDict):
    code: str
    description: str
    kind: str  # manual or payment


class HoldView(TypedDict):
    sales_id: str
    status: str
    hold_code: str
    note: str
    cleared_children: list[str]  # child orders whose hold was cleared with the parent's


def hold_codes(uow_factory: UowFactory, kind: HoldKind | None = None) -> list[HoldCodeView]:
    """Every hold code (the built-in ones and those set up), by code; ``kind``: only those."""
    with uow_factory() as uow:
        codes = _codes(uow)
    return [_code_view(c) for c in sorted(codes.values(), key=lambda c: c.code) if kind in (None, c.kind)]


def add_hold_code(uow_factory: UowFactory, code: str, description: str) -> HoldCodeView:
    """Set up a new manual hold code; a code that exists is refused."""
    new = HoldCode(checked_code(code), _description(description))
    with uow_factory() as uow:
        if new.code in _codes(uow) or not uow.hold_codes.add(new):
            raise ValidationFailed(f"hold code {new.code} exists", "hold_code_exists", {"code": new.code})
        uow.commit()
    return _code_view(new)


def hold_code(uow: UnitOfWork, code: str) -> HoldCode:
    found = _codes(uow).get(code.strip())
    if found is None:
        raise NotFound(f"no hold code {code!r}", "hold_code_not_found", {"code": code})
    return found


def put_on_hold(uow_factory: UowFactory, clock: Clock, sales_id: str, code: str, note: str, actor: Actor) -> HoldView:
    """Put an open or released order on hold with a manual ``code`` and a ``note`` (audited)."""
    note = _note(note)
    with uow_factory() as uow:
        found = hold_code(uow, code)
        check_manual(found)
        order = uow.orders.get(sales_id)
        before = order.status
        order.hold(found.code, note)
        uow.orders.save_header(order)
        uow.audit.add(_entry(actor, order, HELD, {"status": before.value}, _held(order), note), clock.now())
        uow.commit()
    return _view(order, [])


def clear_hold(uow_factory: UowFactory, clock: Clock, sales_id: str, note: str, actor: Actor) -> HoldView:
    """Clear an order's manual hold with a ``note`` (audited); a parent's children held with the same
    code are cleared with it."""
    note = _note(note)
    with uow_factory() as uow:
        order = uow.orders.get(sales_id)
        if order.status == OrderStatus.ON_HOLD:
            check_manual(hold_code(uow, order.hold_code))
        cleared = _clear(uow, clock, order, note, actor)
        held = [uow.orders.get(c.sales_id) for c in uow.servicing.children(sales_id) if c.status == OrderStatus.ON_HOLD]
        children = [child for child in held if child.hold_code == cleared]
        for child in children:
            _clear(uow, clock, child, note, actor)
        uow.commit()
    return _view(order, [c.sales_id for c in children])


def _clear(uow: UnitOfWork, clock: Clock, order: SalesOrder, note: str, actor: Actor) -> str:
    before = _held(order)
    code = order.clear_hold()
    uow.orders.save_header(order)
    uow.audit.add(_entry(actor, order, CLEARED, before, {"status": order.status.value}, note), clock.now())
    return code


def _codes(uow: UnitOfWork) -> dict[str, HoldCode]:
    """The built-in codes, and those set up (a set-up description wins)."""
    return {c.code: c for c in (*BUILT_IN, *uow.hold_codes.listed())}


def _held(order: SalesOrder) -> dict[str, str]:
    return {"status": order.status.value, "hold_code": order.hold_code}


def _entry(
    actor: Actor, order: SalesOrder, action: str, before: dict[str, str], after: dict[str, str], note: str
) -> AuditEntry:
    return AuditEntry(actor, Entity.ORDER, order.sales_id, action, before, after, note, sales_id=order.sales_id)


def _note(note: str) -> str:
    note = masked_reason(note.strip(), "note")
    if not note:
        raise ValidationFailed("a hold and its clearing say why: give a note", "hold_note_required", {"field": "note"})
    if len(note) > NOTE_MAX:
        raise ValidationFailed(
            f"the note is longer than {NOTE_MAX}", "note_too_long", {"field": "note", "maximum": NOTE_MAX}
        )
    return note


def _description(text: str) -> str:
    text = checked_name(text.strip(), "description")
    if not text or len(text) > 200:
        raise ValidationFailed(
            "a hold code's description is 1-200 characters", "hold_description_invalid", {"field": "description"}
        )
    return text


def _code_view(c: HoldCode) -> HoldCodeView:
    return {"code": c.code, "description": c.description, "kind": c.kind.value}


def _view(order: SalesOrder, children: list[str]) -> HoldView:
    return {
        "sales_id": order.sales_id,
        "status": order.status.value,
        "hold_code": order.hold_code,
        "note": order.hold_reason,
        "cleared_children": children,
    }
