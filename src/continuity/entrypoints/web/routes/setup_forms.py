"""Reading the setup forms and explaining refusals field by field, in the user's language.

A form is read into the JSON document shape the services already accept (setup_documents); what
cannot even be read (a word where a number goes) is collected as field errors before any service is
called. A refusal from a service (ValidationFailed with its stable code) is put next to the field it
is about. Messages are English msgids, translated when the page is rendered (``error.text(_)``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from pydantic import ValidationError

from continuity.domain.calendar import parse_date
from continuity.domain.errors import DomainError
from continuity.domain.free_text import TextRefused
from continuity.domain.money import parse_amount
from continuity.domain.returns import ReturnAction
from continuity.entrypoints.api.schemas import ID_PATTERN
from continuity.entrypoints.web.messages import MESSAGES

INTERVAL_UNITS = ("days", "months")
ACTIONS = ("normal", "skip", "end")

T = TypeVar("T")


@dataclass(frozen=True)
class FieldError:
    message: str  # English msgid
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, gettext: Callable[[str], str]) -> str:
        translated = gettext(self.message)
        return translated % self.params if self.params else translated


def flashed(errors: dict[str, FieldError]) -> dict[str, list[Any]]:
    """The errors of a refused form as a flash carries them (post-redirect-get): [msgid, params] per field."""
    return {name: [e.message, e.params] for name, e in errors.items()}


def unflashed(data: Any) -> dict[str, FieldError]:
    """The errors a flash carried back (see ``flashed``); none when it carried none."""
    if not isinstance(data, dict):
        return {}
    return {str(k): FieldError(str(v[0]), dict(v[1] or {})) for k, v in data.items() if isinstance(v, list) and v}


class FormRefused(Exception):
    """The form was not saved; ``errors`` maps field names ('' = the whole form) to what is wrong."""

    def __init__(self, errors: dict[str, FieldError]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


class FormReader:
    """Typed values out of a submitted form, remembering what could not be read."""

    def __init__(self, form: Mapping[str, Any]) -> None:
        self.form = form
        self.errors: dict[str, FieldError] = {}

    def raw(self, name: str) -> str:
        return str(self.form.get(name, "") or "").strip()

    def text(self, name: str, required: bool = False) -> str:
        value = self.raw(name)
        if required and not value:
            self.errors[name] = FieldError("Required.")
        return value

    def identifier(self, name: str) -> str:
        """A new ID: the same shape the JSON API accepts in its paths."""
        value = self.text(name, required=True)
        if value and not re.match(ID_PATTERN, value):
            self.errors[name] = FieldError(
                "Use up to 40 letters, digits, '.', '_' or '-' (starting with a letter or digit)."
            )
        return value

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.raw(name)
        if not value:
            if default is None:
                self.errors[name] = FieldError("Required.")
            return default
        return self._parsed(name, value, int, "Enter a whole number.")

    def amount(self, name: str, required: bool = False) -> str | None:
        value = self.raw(name)
        if value.count(",") == 1 and "." not in value:  # a decimal comma (14,95)
            value = value.replace(",", ".")
        if not value:
            if required:
                self.errors[name] = FieldError("Required.")
            return None
        amount = self._parsed(name, value, parse_amount, "Enter an amount with at most 2 decimals, e.g. 14.95.")
        return None if amount is None else str(amount)

    def day(self, name: str) -> date | None:
        value = self.raw(name)
        if not value:
            return None
        return self._parsed(name, value, parse_date, "Enter a date as YYYY-MM-DD.")

    def _parsed(self, name: str, value: str, parse: Callable[[str], T], refusal: str) -> T | None:
        """``parse(value)``; when it refuses the value, ``refusal`` (a msgid) is the field's error."""
        try:
            return parse(value)
        except (ValueError, DomainError):
            self.errors[name] = FieldError(refusal)
            return None

    def checkbox(self, name: str) -> bool:
        return self.raw(name) in ("on", "true", "1", "yes")

    def choice(self, name: str, choices: tuple[str, ...] | list[str], default: str | None = None) -> str | None:
        value = self.raw(name) or default
        if value is None or value == "":
            return None
        if value not in choices:
            self.errors[name] = FieldError("Choose one of the options.")
            return None
        return value

    def interval(self, prefix: str) -> str | None:
        """``<prefix>_count`` and ``<prefix>_unit`` → '30 days' / '1 month'."""
        count = self.integer(f"{prefix}_count")
        unit = self.choice(f"{prefix}_unit", INTERVAL_UNITS, "days")
        if count is not None and count < 0:
            self.errors[f"{prefix}_count"] = FieldError("Must not be negative.")
        if count is None or unit is None or f"{prefix}_count" in self.errors:
            return None
        return f"{count} {unit}"

    def check(self) -> None:
        if self.errors:
            raise FormRefused(self.errors)


# -- documents from forms ---------------------------------------------------------------------
def read_form(form: Mapping[str, Any], fields: Callable[[FormReader], dict[str, Any]]) -> dict[str, Any]:
    """The document ``fields`` reads off ``form``; every refused field at once (FormRefused)."""
    r = FormReader(form)
    doc = fields(r)
    r.check()
    return doc


PARAMETER_NUMBERS = (
    "repeat_threshold",
    "delivery_lead_days",
    "max_child_orders_per_run",
    "reauthorization_limit",
    "upcoming_charge_notice_days",
    "card_expiry_notice_days",
)


def parameters_doc(form: Mapping[str, Any]) -> dict[str, Any]:
    return read_form(
        form,
        lambda r: (
            {name: r.integer(name) for name in PARAMETER_NUMBERS}
            | {"authorize_child_orders": r.checkbox("authorize_child_orders")}
            | {"prices_include_tax": r.checkbox("prices_include_tax")}
        ),
    )


def payment_schedule_doc(form: Mapping[str, Any], schedule_id: str | None = None) -> dict[str, Any]:
    return read_form(
        form,
        lambda r: {
            "payment_schedule_id": schedule_id or r.identifier("payment_schedule_id"),
            "description": r.text("description"),
            "number_of_payments": r.integer("number_of_payments"),
            "interval": r.interval("interval"),
        },
    )


def product_doc(form: Mapping[str, Any], item_id: str | None = None) -> dict[str, Any]:
    return read_form(
        form,
        lambda r: {
            "item_id": item_id or r.identifier("item_id"),
            "name": r.text("name", required=True),
            "price": r.amount("price", required=True),
            "currency": r.text("currency").upper() or "EUR",
            "continuity_program_id": r.text("continuity_program_id") or None,
        },
    )


RETURN_ACTIONS = tuple(a.value for a in ReturnAction)
#: a program's shipping charge per shipment (domain.tax.ChargeKind)
SHIPPING_KINDS = ("none", "per_order", "per_unit")

PROGRAM_FLAGS = (
    "bill_up_front",
    "prompt_for_start_date",
    "prompt_for_payment_schedule",
    "consolidate_past_orders",
    "active",
)


def program_header(form: Mapping[str, Any], program_id: str | None = None) -> dict[str, Any]:
    """The program's own fields (not its events)."""
    return read_form(
        form,
        lambda r: (
            {
                "program_id": program_id or r.identifier("program_id"),
                "description": r.text("description"),
                "order_start": r.choice("order_start", ("first_event", "current_event"), "first_event"),
                "return_action": r.choice("return_action", RETURN_ACTIONS, "continue"),
                "payment_schedule_id": r.text("payment_schedule_id") or None,
                "days_after_order": r.integer("days_after_order", default=0),
                "shipping_charge": {
                    "kind": r.choice("shipping_kind", SHIPPING_KINDS, "none"),
                    "amount": r.amount("shipping_amount") or "0",
                },
            }
            | {flag: r.checkbox(flag) for flag in PROGRAM_FLAGS}
        ),
    )


def event_doc(form: Mapping[str, Any], event_id: int, currency: str) -> dict[str, Any]:
    """One event of the editor; an empty price means the item's own price."""
    return read_form(
        form,
        lambda r: {
            "event_id": event_id,
            "item_id": r.text("item_id", required=True),
            "quantity": r.integer("quantity", default=1),
            "price": r.amount("price"),
            "currency": currency,
            "times_to_repeat": r.integer("times_to_repeat", default=1),
            "interval": r.interval("interval"),
            "start_date": r.day("start_date"),
            "action": r.choice("action", ACTIONS, "normal"),
        },
    )


# -- refusals of the services, next to their field --------------------------------------------
_BY_CODE: dict[str, tuple[str, str]] = {
    "item_unknown": ("item_id", "No product with this item number."),
    "item_is_parent": ("item_id", "A parent (continuity) item cannot be shipped by a program."),
    "item_is_event": ("continuity_program_id", "This item is shipped by a program, so it cannot be a parent item."),
    "quantity_invalid": ("quantity", "Must be at least 1."),
    "times_to_repeat_invalid": ("times_to_repeat", "Must be between 1 and 600."),
    "price_invalid": ("price", "Must not be negative."),
    "amount_invalid": ("price", "Enter an amount with at most 2 decimals, e.g. 14.95."),
    "currency_invalid": ("currency", "Enter a three-letter currency code, e.g. EUR."),
    "interval_invalid": ("interval_count", "Enter a number of days or months."),
    "date_invalid": ("start_date", "Enter a date as YYYY-MM-DD."),
    "program_exists": ("program_id", "A program with this ID exists already."),
    "product_exists": ("item_id", "A product with this item number exists already."),
    "payment_schedule_exists": ("payment_schedule_id", "A payment schedule with this ID exists already."),
    "payment_schedule_not_found": ("payment_schedule_id", "No payment schedule with this ID."),
    "program_not_found": ("continuity_program_id", "No program with this ID."),
    "program_too_long": ("times_to_repeat", "The program would ship for more than 100 years."),
    "payment_schedule_too_long": ("number_of_payments", "The payments would run for more than 100 years."),
    "payment_schedule_invalid": ("number_of_payments", "Must be at least 1."),
    "program_no_events": ("", "A program needs at least one event that ships."),
    "event_ids_not_sequential": ("", "The events must be numbered 1, 2, 3 … without gaps."),
}
_FIELD_NAMED = (
    *PARAMETER_NUMBERS,
    "days_after_order",
    "number_of_payments",
    "program_id",
)


def refusal(exc: DomainError | ValidationError) -> FormRefused:
    """A service's refusal as field errors (unknown codes go to the top of the form, in English)."""
    if isinstance(exc, ValidationError):
        return FormRefused({_pydantic_field(e): _pydantic_error(e) for e in exc.errors()})
    if isinstance(exc, TextRefused):
        return FormRefused({exc.field: FieldError(MESSAGES[exc.code])})
    if exc.code in _BY_CODE:
        name, message = _BY_CODE[exc.code]
        return FormRefused({name: FieldError(message)})
    named = str(exc.params.get("field", ""))
    if named in _FIELD_NAMED:
        minimum = exc.params.get("minimum")
        if minimum is None:
            return FormRefused({named: FieldError("Required.")})
        if minimum == 0:
            return FormRefused({named: FieldError("Must not be negative.")})
        if minimum == 1:
            return FormRefused({named: FieldError("Must be at least 1.")})
        return FormRefused({named: FieldError("Must be at least %(min)s.", {"min": minimum})})
    return FormRefused({"": FieldError("Not saved: %(reason)s", {"reason": exc.message})})


def _pydantic_field(error: Any) -> str:
    names = [str(p) for p in error["loc"] if not isinstance(p, int)]
    return names[-1] if names else ""


def _pydantic_error(error: Any) -> FieldError:
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "greater_than_equal":
        return FieldError("Must be at least %(min)s.", {"min": ctx.get("ge")})
    if kind == "less_than_equal":
        return FieldError("Must be at most %(max)s.", {"max": ctx.get("le")})
    if kind == "string_too_long":
        return FieldError("At most %(max)s characters.", {"max": ctx.get("max_length")})
    if kind == "string_too_short":
        return FieldError("Required.")
    return FieldError("Not valid.")
