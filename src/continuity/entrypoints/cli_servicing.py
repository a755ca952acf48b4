"""`continuity orders skip|reschedule|substitute|change-card|pause|resume|cancel|history|explain|projection`
and `continuity programs history`: servicing a parent continuity order from the command line.

Every change takes --preview (prints the next shipments and charges before and after, writes
nothing) and --json; who made it is --actor (default $CONTINUITY_USER, else the OS user).
"""

from __future__ import annotations

import getpass
import os
from datetime import date
from typing import Annotated, Any

import typer
from rich.markup import escape

from continuity.bootstrap import App, bootstrap
from continuity.domain.audit import Actor, ActorKind
from continuity.domain.calendar import parse_date
from continuity.domain.errors import ValidationFailed
from continuity.domain.free_text import checked_name
from continuity.entrypoints import wording
from continuity.entrypoints.cli_output import console, emit, handles_errors, table
from continuity.services import history, servicing
from continuity.services.projection import DEFAULT_COUNT, order_projection
from continuity.services.servicing import Change

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
Preview = Annotated[
    bool, typer.Option("--preview", help="Show the next shipments and charges before and after; write nothing.")
]
ActorOption = Annotated[
    str | None, typer.Option("--actor", help="Who makes the change (default: $CONTINUITY_USER, else the OS user).")
]
Line = Annotated[int | None, typer.Option("--line", help="Continuity line (default: the first one).")]
Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")]


def _app() -> App:
    return bootstrap()


def cli_actor(name: str | None) -> Actor:
    """The CLI user: --actor, else $CONTINUITY_USER, else the OS user (kind cli)."""
    if not name:
        name = os.environ.get("CONTINUITY_USER") or _os_user()
    return Actor(checked_name(name[:100], "--actor"), ActorKind.CLI)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    return parse_date(text)


def _run(sales_id: str, change: Change, preview: bool, actor: str | None, as_json: bool) -> None:
    a = _app()
    if preview:
        result = servicing.preview(a.uow, a.clock, sales_id, change)
    else:
        result = servicing.apply(a.uow, a.gateway, a.clock, sales_id, change, cli_actor(actor))
    emit(wording.change_json(result), as_json, _render_change)


def _render_change(r: dict[str, Any]) -> None:
    verb = "applied" if r["applied"] else "preview (nothing written)"
    console.print(f"[bold]{escape(r['change'])}[/bold] on {escape(r['sales_id'])}: {verb}", highlight=False)
    if r["applied"]:
        render_projection(r["after"], "after")
    else:
        render_projection(r["before"], "before")
        render_projection(r["after"], "after")
    if r.get("refund"):
        console.print(f"refund: {r['refund']} {r['after']['currency']}", highlight=False)
    for v in r.get("voided") or []:
        console.print(
            f"authorization voided: installment {v['seq']} ({v['amount']} {r['after']['currency']})", highlight=False
        )


def render_projection(p: dict[str, Any], label: str = "") -> None:
    title = f" ({label})" if label else ""
    for line in p.get("lines", []):
        if line.get("paused_from"):
            console.print(f"line {line['line_no']}{title}: paused from {line['paused_from']}", highlight=False)
    table(
        f"Next shipments of {p['sales_id']}{title}",
        ["line", "seq", "ship_date", "item_id", "quantity", "price", "status"],
        [
            [s["line_no"], s["seq"], s["ship_date"], s["item_id"], s["quantity"], s["price"], s["status"]]
            for s in p["shipments"]
        ],
    )
    table(
        f"Next charges of {p['sales_id']}{title}",
        ["due_date", "amount", "currency", "for"],
        [[c["due_date"], c["amount"], c["currency"], c["for"]] for c in p["charges"]],
    )


def register(orders_app: typer.Typer, programs_app: typer.Typer) -> None:
    """Add the servicing commands to the `orders` and `programs` groups."""

    @orders_app.command("skip")
    @handles_errors
    def orders_skip(
        sales_id: str,
        seq: int,
        preview: Preview = False,
        reason: Reason = "",
        line: Line = None,
        actor: ActorOption = None,
        as_json: Json = False,
    ) -> None:
        """Skip one pending occurrence (it never ships)."""
        _run(sales_id, Change("skip", seq=seq, reason=reason, line_no=line), preview, actor, as_json)

    @orders_app.command("reschedule")
    @handles_errors
    def orders_reschedule(
        sales_id: str,
        seq: int,
        date_: Annotated[str | None, typer.Option("--date", help="New ship date (YYYY-MM-DD).")] = None,
        days: Annotated[int | None, typer.Option("--days", help="Move by this many days (may be negative).")] = None,
        following: Annotated[bool, typer.Option("--following", help="Move the later occurrences too.")] = False,
        preview: Preview = False,
        reason: Reason = "",
        line: Line = None,
        actor: ActorOption = None,
        as_json: Json = False,
    ) -> None:
        """Move one occurrence (or it and all later ones with --following) to --date or by --days."""
        if (date_ is None) == (days is None):
            raise ValidationFailed("give exactly one of --date and --days", "reschedule_invalid")
        change = Change(
            "reschedule", seq=seq, new_date=_date(date_), days=days, following=following, reason=reason, line_no=line
        )
        _run(sales_id, change, preview, actor, as_json)

    @orders_app.command("substitute")
    @handles_errors
    def orders_substitute(
        sales_id: str,
        seq: int,
        item: Annotated[str, typer.Option("--item", help="The item to ship instead.")],
        preview: Preview = False,
        reason: Reason = "",
        line: Line = None,
        actor: ActorOption = None,
        as_json: Json = False,
    ) -> None:
        """Ship another item (at its price) for one pending occurrence."""
        _run(
            sales_id, Change("substitute", seq=seq, item_id=item, reason=reason, line_no=line), preview, actor, as_json
        )

    @orders_app.command("change-card")
    @handles_errors
    def orders_change_card(
        sales_id: str,
        card: Annotated[
            str | None, typer.Option("--card", help="Card number, test gateway (only its token is kept).")
        ] = None,
        expiry: Annotated[str | None, typer.Option("--expiry", help="Card expiry MM/YY.")] = None,
        payment_method: Annotated[
            str | None, typer.Option("--payment-method", help="Stripe: the card entered at Stripe (pm_…).")
        ] = None,
        preview: Preview = False,
        reason: Reason = "",
        line: Line = None,
        actor: ActorOption = None,
        as_json: Json = False,
    ) -> None:
        """Charge a new card from now on; declined installments are retried by the next process-payments,
        unknown ones are looked up under their own key first."""
        change = Change(
            "change_card", card_number=card, expiry=expiry, reason=reason, line_no=line, payment_method=payment_method
        )
        _run(sales_id, change, preview, actor, as_json)

    @orders_app.command("pause")
    @handles_errors
    def orders_pause(
        sales_id: str,
        from_: Annotated[str | None, typer.Option("--from", help="First paused day (default: today).")] = None,
        preview: Preview = False,
        reason: Reason = "",
        line: Line = None,
        actor: ActorOption = None,
        as_json: Json = False,
    ) -> None:
        """Pause from a day: what ships from then on is held until the order is resumed; earlier
        pending occurrences still ship."""
        _run(sales_id, Change("pause", on=_date(from_), reason=reason, line_no=line), preview, actor, as_json)

    @orders_app.command("resume")
    @handles_errors
    def orders_resume(
        sales_id: str,
        on: Annotated[
            str,
            typer.Option("--on", help="Resume day: pending occurrences from the pause on move by the pause's length."),
        ],
        preview: Preview = False,
        reason: Reason = "",
        line: Line = None,
        actor: ActorOption = None,
        as_json: Json = False,
    ) -> None:
        """Resume a paused order."""
        _run(sales_id, Change("resume", on=_date(on), reason=reason, line_no=line), preview, actor, as_json)

    @orders_app.command("cancel")
    @handles_errors
    def orders_cancel(
        sales_id: str,
        from_: Annotated[
            str | None, typer.Option("--from", help="Cancel what ships from this day on (default: today).")
        ] = None,
        preview: Preview = False,
        reason: Reason = "",
        line: Line = None,
        actor: ActorOption = None,
        as_json: Json = False,
    ) -> None:
        """Cancel: pending occurrences and unpaid installments are cancelled; what was paid and not shipped
        is refunded; close-orders then closes the order."""
        _run(sales_id, Change("cancel", on=_date(from_), reason=reason, line_no=line), preview, actor, as_json)

    @orders_app.command("history")
    @handles_errors
    def orders_history(sales_id: str, as_json: Json = False) -> None:
        """Every change to the order, newest first (audit trail, child orders, payment attempts)."""
        _history(history.order_history(_app().uow, sales_id), f"History of {sales_id}", as_json)

    @orders_app.command("explain")
    @handles_errors
    def orders_explain(sales_id: str, seq: int, line: Line = None, as_json: Json = False) -> None:
        """Why an occurrence ships on its date, in one sentence."""
        data = history.explain(_app().uow, sales_id, seq, line)
        emit(
            wording.explanation_json(data),
            as_json,
            lambda d: console.print(escape(d["text"]), highlight=False, soft_wrap=True),
        )

    @orders_app.command("projection")
    @handles_errors
    def orders_projection(
        sales_id: str,
        count: Annotated[
            int, typer.Option("--count", min=1, max=100, help="How many shipments and charges.")
        ] = DEFAULT_COUNT,
        as_json: Json = False,
    ) -> None:
        """The next shipments and charges of a continuity order, as the batch jobs will make them."""
        a = _app()
        projection = order_projection(a.uow, a.clock.today(), sales_id, count)
        emit(wording.projection_json(projection), as_json, render_projection)

    @programs_app.command("history")
    @handles_errors
    def programs_history(program_id: str, as_json: Json = False) -> None:
        """Every change to a program (setup and jobs), newest first."""
        _history(history.program_history(_app().uow, program_id), f"History of program {program_id}", as_json)


def _history(entries: list[history.HistoryEntry], title: str, as_json: bool) -> None:
    emit(
        entries,
        as_json,
        lambda d: table(
            title,
            ["when", "who", "entity", "key", "action", "before", "after", "reason"],
            [
                [
                    e["occurred_at"].isoformat(timespec="seconds"),
                    e["actor"],
                    e["entity"],
                    e["entity_key"],
                    e["action"],
                    _short(e["before"]),
                    _short(e["after"]),
                    e["reason"],
                ]
                for e in d
            ],
        ),
    )


def _short(value: dict[str, Any] | None) -> str:
    if not value:
        return ""
    return ", ".join(f"{k}={v}" for k, v in value.items())[:80]
