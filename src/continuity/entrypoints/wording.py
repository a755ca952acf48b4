"""The English words of the CLI and the API for what the services return as codes and parameters (the web
has its own, translated, in entrypoints/web/locales): why an occurrence ships on its date, and what a
projected charge is for. The JSON documents built here keep the English sentence (``text``, ``for``) next
to its code and parameters."""

from __future__ import annotations

from typing import Any

from continuity.domain.servicing import Explanation, Why
from continuity.services.history import ExplainedOccurrence
from continuity.services.projection import ChargeFor, ChargeSubject, ProjectedCharge, Projection
from continuity.services.servicing import ChangeResult

#: "Occurrence {seq} " + the words of each code + "."
WHY: dict[Why, str] = {
    Why.START: "ships on {date}: the order's start date {start_date} plus {days} day(s) after order "
    "(program {program_id})",
    Why.INTERVAL: "ships on {date}: {interval} after the previous shipment on {previous} "
    "(event {event_id} of program {program_id})",
    Why.MONTH_END: "ships on {date}: {interval} after the previous shipment on {previous}; that month has no "
    "day {day}, so it ships on the month's last day",
    Why.MONTH_DAY: "ships on {date}: {interval} after the previous shipment on {previous}, back on day {day} "
    "of the month like {anchor}",
    Why.RESCHEDULED: "ships on {date}: rescheduled from {from}",
    Why.SHIFTED: "ships on {date}: moved {days} day(s) from {from} when occurrence {first_seq} and the later ones "
    "were rescheduled",
    Why.PAUSED: "ships on {date}: moved {days} day(s) from {from} because the order was paused from "
    "{pause_from} and resumed on {resume_on}",
    Why.PAUSE_OPEN: "is on hold: the order is paused from {pause_from}; it would ship on {date} and moves by "
    "the length of the pause when the order is resumed",
    Why.SKIPPED: "was skipped and will not ship (it was planned for {date})",
    Why.CANCELLED: "was cancelled and will not ship (it was planned for {date})",
    Why.PLANNED: "ships on {date} as planned by the program",
}


def why_text(why: Explanation) -> str:
    """One English sentence: why the occurrence ships on its date."""
    return f"Occurrence {why.seq} {WHY[why.code].format(**why.params)}."


def explanation_json(e: ExplainedOccurrence) -> dict[str, Any]:
    return {
        "sales_id": e.sales_id,
        "line_no": e.line_no,
        "seq": e.seq,
        "status": e.status,
        "ship_date": e.ship_date.isoformat(),
        "code": e.why.code.value,
        "params": e.why.params,
        "text": why_text(e.why),
    }


def charge_for(subject: ChargeSubject) -> str:
    """What a charge is for, in English (e.g. "installment 2 of 3")."""
    if subject.code == ChargeFor.CHILD_ORDER:
        return f"child order {subject.sales_id}"
    if subject.code == ChargeFor.INSTALLMENT:
        return f"installment {subject.seqs[0]} of {subject.of}"
    if subject.code == ChargeFor.SHIPMENT:
        return f"shipment {subject.seqs[0]} ({subject.item_ids[0]})"
    seqs, items = ", ".join(str(s) for s in subject.seqs), ", ".join(subject.item_ids)
    return f"shipments {seqs} ({items}) in one child order"


def charge_json(c: ProjectedCharge) -> dict[str, Any]:
    """A charge as the API and ``--json`` print it: ``for`` in English, ``for_code`` and ``for_params``."""
    subject = c["subject"]
    return {
        "due_date": c["due_date"],
        "amount": c["amount"],
        "currency": c["currency"],
        "for": charge_for(subject),
        "for_code": subject.code.value,
        "for_params": subject.params(),
        "line_no": c["line_no"],
    }


def projection_json(p: Projection) -> dict[str, Any]:
    return {**p, "charges": [charge_json(c) for c in p["charges"]]}


def change_json(result: ChangeResult) -> dict[str, Any]:
    """A servicing change's preview or result: its two projections worded."""
    return {**result, "before": projection_json(result["before"]), "after": projection_json(result["after"])}
