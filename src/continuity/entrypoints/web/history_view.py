"""The order page's history: services.history's entries (codes and parameters) as rows of words for the
page — one row per change, oldest first (the first row says who entered the order), each changed field as
``before → after``. The words are msgids of the catalogs (history.po; a few from agent.po), worded in the
page's language and formats by the template's ``shown`` filter; nothing here knows the language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from continuity.domain.audit import ENTERED
from continuity.domain.money import Money
from continuity.entrypoints.web.gateway_words import decline
from continuity.entrypoints.web.job_words import JOB_NAMES
from continuity.entrypoints.web.messages import HOLD_CODE_TEXTS
from continuity.entrypoints.web.templating import Text
from continuity.services.history import FieldChange, HistoryEntry


def N_(text: str) -> str:
    """Marks a msgid; translated when shown."""
    return text


#: What happened, by action (a servicing change by the kind of its adjustment); the placeholders are the
#: entry's parameters. An action without its parameters is worded by ACTIONS_PLAIN.
ACTIONS = {
    ENTERED: N_("Order entered by %(actor)s"),
    "skip": N_("Shipment %(seq)s skipped"),
    "reschedule": N_("Shipment %(seq)s rescheduled to %(ship_date)s"),
    "shift": N_("Shipment %(seq)s and the later ones moved by %(days)s day(s)"),
    "substitute": N_("Shipment %(seq)s: item replaced by %(item_id)s"),
    "pause": N_("Order paused from %(pause_from)s"),
    "resume": N_("Order resumed on %(resume_on)s"),
    "cancel": N_("Order cancelled from %(cancel_from)s"),
    "change_card": N_("Card changed"),
    "refund_requested": N_("Refund requested"),
    "child_order_created": N_("Child order %(order)s created"),
    "created_from": N_("Created from order %(order)s"),
    "gateway": N_("Card %(operation)s: %(result)s"),
    "looked_up": N_("Charge looked up at the card gateway"),
    "held": N_("Put on hold"),
    "hold_cleared": N_("Hold cleared"),
    "released": N_("Released"),
    "shipped": N_("Shipped"),
    "invoiced": N_("Invoiced"),
    "closed": N_("Closed"),
    "added": N_("Shipments added to the schedule"),
    "changed": N_("Schedule changed"),
    "removed": N_("Shipments removed from the schedule"),
    "recomputed": N_("Installments recomputed"),
    "returned": N_("Goods returned: credit note %(credit_note)s"),
}
ACTIONS_PLAIN = {
    "skip": N_("Shipment skipped"),
    "reschedule": N_("Shipment rescheduled"),
    "shift": N_("Shipment rescheduled"),
    "substitute": N_("Item substituted"),
    "pause": N_("Order paused"),
    "resume": N_("Order resumed"),
    "cancel": N_("Order cancelled"),
    "child_order_created": N_("Child order created"),
    "gateway": N_("Card gateway call"),
    "returned": N_("Goods returned"),
}
OTHER = N_("Other change (%(code)s)")
#: The servicing changes, worded by the kind of adjustment they recorded (a reschedule may be a shift).
SERVICING = ("skip", "reschedule", "substitute", "pause", "cancel")

FIELDS = {
    "status": N_("Status"),
    "item_id": N_("Item"),
    "quantity": N_("Quantity"),
    "ship_date": N_("Ship date"),
    "order_date": N_("Order date"),
    "price": N_("Price"),
    "amount": N_("Amount"),
    "card": N_("Card"),
    "hold_code": N_("Hold code"),
    "account": N_("Customer"),
    "current_event": N_("Current event"),
    "return_reason": N_("Return reason"),
    "replacement": N_("Replacement order"),
}
OTHER_FIELD = N_("Other")

SHIPMENT, SHIPMENT_OF_LINE = N_("Shipment %(seq)s"), N_("Line %(line)s, shipment %(seq)s")
INSTALLMENT, INSTALLMENT_OF_LINE = N_("Installment %(seq)s"), N_("Line %(line)s, installment %(seq)s")
LINE = N_("Line %(line)s")
REFUND, PAYMENT = N_("Refund"), N_("Payment")

JOB, GATEWAY, SYSTEM = N_("%(job)s (job)"), N_("Card gateway"), N_("System")  # a job by its name (jobs.po)

DATES = frozenset({"ship_date", "order_date", "as_of", "pause_from", "cancel_from", "resume_on", "due_date"})
MONEY = frozenset({"price", "amount"})
CODES = frozenset({"status", "result", "operation"})  # values the catalogs word (statuses, gateway calls)


@dataclass(frozen=True)
class Detail:
    """One changed field: ``before`` None when the entity was created, ``after`` None when removed."""

    label: Text
    before: object
    after: object


@dataclass(frozen=True)
class Subject:
    """What a change touched (a shipment, an installment; None: the order itself) and its changed fields."""

    name: Text | None
    details: list[Detail]


@dataclass(frozen=True)
class HistoryRow:
    when: datetime
    who: Text
    what: Text
    link: str | None  # a child order the row is about
    subjects: list[Subject]
    reason: Text | str


def history_rows(entries: list[HistoryEntry], names: Mapping[str, str]) -> list[HistoryRow]:
    """The page's rows, oldest first; ``names``: product names by item number."""
    return [_row(e, names) for e in sorted(entries, key=lambda e: e["occurred_at"])]


def _row(e: HistoryEntry, names: Mapping[str, str]) -> HistoryRow:
    currency = e["currency"]
    who = _who(e["actor"], e["actor_kind"])
    params = {k: _value(k, v, currency, names) for k, v in e["params"].items()}
    subjects = [] if e["action"] == ENTERED else _subjects(e["changes"], currency, names)
    return HistoryRow(
        e["occurred_at"],
        who,
        _what(e["action"], {**params, "actor": who}),
        e["params"].get("order") if e["action"] in ("child_order_created", "created_from") else None,
        subjects,
        _reason(e),
    )


def _reason(e: HistoryEntry) -> Text | str:
    """Why: what the agent typed; a declined gateway call's reason worded from its decline code; nothing for
    a job's hold (its hold code, translated, says why)."""
    if e["action"] == "held" and e["actor_kind"] == "job":
        return ""
    if e["params"].get("result") == "declined" and "operation" in e["params"]:
        return decline(e["reason"])
    return e["reason"]


class _Named(dict[str, object]):
    """A mapping that answers every key: formatting a msgid with it records the names it uses."""

    def __missing__(self, key: str) -> str:
        self[key] = ""
        return ""


def _placeholders(msgid: str) -> set[str]:
    """The ``%(name)s`` placeholders of a catalog message (read by formatting it, not by parsing it)."""
    named = _Named()
    msgid % named
    return set(named)


def _day(value: str) -> object:
    """A stored ISO date as a date (the page words it in its locale); anything else as it is."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        return value


def _what(action: str, params: dict[str, object]) -> Text:
    key = action
    if action in SERVICING and isinstance(params.get("adjustment"), str):
        key = str(params["adjustment"])
    elif "operation" in params and "result" in params:
        key = "gateway"
    msgid = ACTIONS.get(key)
    if msgid is None:
        return Text(OTHER, {"code": action})
    wanted = _placeholders(msgid)
    if not wanted <= params.keys():
        return Text(ACTIONS_PLAIN.get(key, msgid))
    return Text(msgid, {k: params[k] for k in wanted})


def _who(actor: str, kind: str) -> Text:
    if kind == "job" and actor.startswith("job:"):
        name = actor.removeprefix("job:")
        return Text(JOB, {"job": Text(JOB_NAMES[name]) if name in JOB_NAMES else name})
    if actor == "gateway":
        return Text(GATEWAY)
    if actor == "system":
        return Text(SYSTEM)
    return Text("%(name)s", {"name": actor})


def _subjects(changes: list[FieldChange], currency: str | None, names: Mapping[str, str]) -> list[Subject]:
    """The changed fields grouped by the entity they belong to, in the order they were recorded."""
    grouped: dict[tuple[str, str], list[FieldChange]] = {}
    for c in changes:
        grouped.setdefault((c["entity"], c["entity_key"]), []).append(c)
    return [
        Subject(
            _subject(fields[0]),
            [
                Detail(
                    Text(FIELDS.get(c["field"], OTHER_FIELD)),
                    _value(c["field"], c["before"], currency, names),
                    _value(c["field"], c["after"], currency, names),
                )
                for c in fields
            ],
        )
        for fields in grouped.values()
    ]


def _subject(c: FieldChange) -> Text | None:
    entity, line, seq = c["entity"], c["line_no"], c["seq"]
    if entity in ("occurrence", "installment") and seq is not None:
        one, of_line = (SHIPMENT, SHIPMENT_OF_LINE) if entity == "occurrence" else (INSTALLMENT, INSTALLMENT_OF_LINE)
        return Text(one, {"seq": seq}) if line in (None, 1) else Text(of_line, {"line": line, "seq": seq})
    if entity == "line" and line is not None:
        return Text(LINE, {"line": line})
    if entity == "payment":
        return Text(REFUND if c["entity_key"].startswith(("refund", "return:")) else PAYMENT)
    return None


def _value(name: str, value: object, currency: str | None, names: Mapping[str, str]) -> object:
    """A recorded value as the page shows it: Money, a date, a worded code, an item with its name."""
    if value is None:
        return None
    if name in MONEY and currency:
        try:
            return Money(Decimal(str(value)), currency)
        except (InvalidOperation, ValueError):
            return str(value)
    if name in DATES and isinstance(value, str):
        return _day(value)
    if name in CODES:
        return Text(str(value))
    if name == "item_id":
        return f"{value} {names[str(value)]}" if str(value) in names else str(value)
    if name == "hold_code" and str(value) in HOLD_CODE_TEXTS:
        return Text(HOLD_CODE_TEXTS[str(value)])
    return value
