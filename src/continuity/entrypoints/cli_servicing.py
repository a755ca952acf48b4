"""`continuity orders skip|reschedule|substitute|change-card|pause|resume|cancel|history|explain|projection`
and `continuity programs history`: servicing a parent continuity order from the command line.

Every change takes --preview (prints the next shipments and charges before and after, writes
nothing) and --json; who made it is --actor (default $CONTINUITY_USER, else the OS user).
"""

from __future__ import annotations

import getpass
import inspect
import os
from collections.abc import Callable
from dataclasses import replace
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
from continuity.entrypoints.cli_output import console, emit, handles_errors, table, table_of
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


def _parameter(name: str, annotation: object, default: object = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=annotation, default=default)


# What every change command takes: the order first, then (after its own options) these.
_SALES_ID = _parameter("sales_id", str)
_CHANGE_OPTIONS = [
    _parameter("preview", Preview, False),
    _parameter("reason", Reason, ""),
    _parameter("line", Line, None),
    _parameter("actor", ActorOption, None),
    _parameter("as_json", Json, False),
]


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


def _change_command(group: typer.Typer, name: str) -> Callable[[Callable[..., Change]], object]:
    """Register a change of an order as the command `name` of `group`: the decorated function makes the Change
    from the command's own arguments. The command takes the sales id first and, after its own options, those
    of every change (_CHANGE_OPTIONS: --preview, --reason, --line, --actor, --json), which _run applies."""

    def register(build: Callable[..., Change]) -> object:
        def command(
            sales_id: str, preview: bool, reason: str, line: int | None, actor: str | None, as_json: bool, **own: Any
        ) -> None:
            _run(sales_id, replace(build(**own), reason=reason, line_no=line), preview, actor, as_json)

        own = inspect.signature(build, eval_str=True).parameters.values()
        vars(command)["__signature__"] = inspect.Signature([_SALES_ID, *own, *_CHANGE_OPTIONS])  # Typer reads it
        command.__name__, command.__doc__ = build.__name__, build.__doc__
        return group.command(name)(handles_errors(command))

    return register


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
    table_of(f"Next charges of {p['sales_id']}{title}", ["due_date", "amount", "currency", "for"], p["charges"])


def register(orders_app: typer.Typer, programs_app: typer.Typer) -> None:
    """Add the servicing commands to the `orders` and `programs` groups."""

    @_change_command(orders_app, "skip")
    def orders_skip(seq: int) -> Change:
        """Skip one pending occurrence (it never ships)."""
        return Change("skip", seq=seq)

    @_change_command(orders_app, "reschedule")
    def orders_reschedule(
        seq: int,
        date_: Annotated[str | None, typer.Option("--date", help="New ship date (YYYY-MM-DD).")] = None,
        days: Annotated[int | None, typer.Option("--days", help="Move by this many days (may be negative).")] = None,
        following: Annotated[bool, typer.Option("--following", help="Move the later occurrences too.")] = False,
    ) -> Change:
        """Move one occurrence (or it and all later ones with --following) to --date or by --days."""
        if (date_ is None) == (days is None):
            raise ValidationFailed("give exactly one of --date and --days", "reschedule_invalid")
        return Change("reschedule", seq=seq, new_date=_date(date_), days=days, following=following)

    @_change_command(orders_app, "substitute")
    def orders_substitute(
        seq: int, item: Annotated[str, typer.Option("--item", help="The item to ship instead.")]
    ) -> Change:
        """Ship another item (at its price) for one pending occurrence."""
        return Change("substitute", seq=seq, item_id=item)

    @_change_command(orders_app, "change-card")
    def orders_change_card(
        card: Annotated[
            str | None, typer.Option("--card", help="Card number, test gateway (only its token is kept).")
        ] = None,
        expiry: Annotated[str | None, typer.Option("--expiry", help="Card expiry MM/YY.")] = None,
        payment_method: Annotated[
            str | None, typer.Option("--payment-method", help="Stripe: the card entered at Stripe (pm_…).")
        ] = None,
    ) -> Change:
        """Charge a new card from now on; declined installments are retried by the next process-payments,
        unknown ones are looked up under their own key first."""
        return Change("change_card", card_number=card, expiry=expiry, payment_method=payment_method)

    @_change_command(orders_app, "pause")
    def orders_pause(
        from_: Annotated[str | None, typer.Option("--from", help="First paused day (default: today).")] = None,
    ) -> Change:
        """Pause from a day: what ships from then on is held until the order is resumed; earlier
        pending occurrences still ship."""
        return Change("pause", on=_date(from_))

    @_change_command(orders_app, "resume")
    def orders_resume(
        on: Annotated[
            str,
            typer.Option("--on", help="Resume day: pending occurrences from the pause on move by the pause's length."),
        ],
    ) -> Change:
        """Resume a paused order."""
        return Change("resume", on=_date(on))

    @_change_command(orders_app, "cancel")
    def orders_cancel(
        from_: Annotated[
            str | None, typer.Option("--from", help="Cancel what ships from this day on (default: today).")
        ] = None,
    ) -> Change:
        """Cancel: pending occurrences and unpaid installments are cancelled; what was paid and not shipped
        is refunded; close-orders then closes the order."""
        return Change("cancel", on=_date(from_))

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
            ["when", "who", "action", "changes (before → after)", "reason"],
            [
                [
                    e["occurred_at"].isoformat(timespec="seconds"),
                    e["actor"],
                    " ".join([e["action"], *(f"{k}={v}" for k, v in e["params"].items())]),
                    "\n".join(_change(c) for c in e["changes"]),
                    e["reason"],
                ]
                for e in d
            ],
        ),
    )


def _change(c: history.FieldChange) -> str:
    """``occurrence 2 status: pending → skipped`` (no arrow for a created or removed entity)."""
    where = " ".join(str(v) for v in (c["entity"], c["seq"] if c["seq"] is not None else c["line_no"]) if v is not None)
    if c["before"] is None or c["after"] is None:
        return f"{where} {c['field']}: {c['after'] if c['before'] is None else c['before']}"
    return f"{where} {c['field']}: {c['before']} → {c['after']}"
