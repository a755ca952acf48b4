"""How the CLI prints: one JSON document under --json, else Rich tables; errors as one line."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from continuity.domain.errors import DomainError
from continuity.services.views import OrderView

log = logging.getLogger(__name__)
console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")


def emit(data: T, as_json: bool, render: Callable[[T], None]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        render(data)


def fail(code: str, message: str, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps({"error": {"code": code, "message": message}}) + "\n")
    # escape: a message may repeat user input, and "[/x]" must print as typed, not crash Rich's markup
    err_console.print(f"[red]error[/red] ({code}): {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def handles_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Map domain and storage errors to a one-line message and a non-zero exit."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        as_json = bool(kwargs.get("as_json"))
        try:
            command(*args, **kwargs)
        except DomainError as exc:
            fail(exc.code, exc.message, as_json)
        except (OperationalError, ProgrammingError) as exc:
            missing = "no such table" in str(exc) or "does not exist" in str(exc)
            if missing:
                fail("schema_missing", "the database has no schema yet: run `continuity db upgrade`", as_json)
            fail("database_error", str(exc.orig).splitlines()[0], as_json)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception:  # noqa: BLE001 - the last line of defence: never a traceback to the user
            log.exception("internal error in %s", command.__name__)
            fail("internal_error", "an internal error occurred; it was logged (see CONTINUITY_LOG_FILE)", as_json)

    return wrapper


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    t = Table(title=escape(title), title_justify="left")
    for column in columns:
        t.add_column(column)
    for row in rows:
        t.add_row(*["" if v is None else escape(str(v)) for v in row])
    console.print(t)


def table_of(title: str, keys: list[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """A table of these fields of each row, headed by their names."""
    table(title, keys, [[row[k] for k in keys] for row in rows])


def render_order(o: OrderView) -> None:
    console.print(
        f"[bold]Sales order {escape(o['sales_id'])}[/bold]  {escape(o['name'])} ({escape(o['account'])})  "
        f"status [bold]{o['status']}[/bold]  date {o['order_date']}  "
        f"due now {o['amount_due_now']} {o['currency']}"
    )
    if o["status"] == "on_hold":
        console.print(f"[yellow]On hold ({escape(o['hold_code'])}):[/yellow] {escape(o['hold_reason'])}")
    table(
        "Lines",
        ["line", "item", "qty", "unit price", "amount", "status", "program"],
        [
            [
                ln["line_no"],
                ln["item_id"],
                ln["quantity"],
                ln["unit_price"],
                ln["amount"],
                ln["status"],
                ln["continuity"]["program_id"] if ln["continuity"] else None,
            ]
            for ln in o["lines"]
        ],
    )
    for ln in o["lines"]:
        if ln["continuity"]:
            c = ln["continuity"]
            table_of(
                f"Continuity schedule of line {ln['line_no']} — program {c['program_id']}, "
                f"starts {c['start_date']} at event {c['start_event']}, {c['billing_mode']}",
                ["seq", "event_id", "item_id", "quantity", "price", "ship_date", "status", "child_sales_id"],
                c["schedule"],
            )
    if o["installments"]:
        table(
            "Installments",
            ["line", "seq", "due_date", "amount", "status", "decline", "next_retry"],
            [
                [i["line_no"], i["seq"], i["due_date"], i["amount"], i["status"], _decline(i), i["next_retry"] or ""]
                for i in o["installments"]
            ],
        )
    if o["payments"]:
        table(
            "Payments",
            ["id", "method", "card", "amount", "status", "reason"],
            [[p["payment_id"], p["method"], p["card"], p["amount"], p["status"], p["reason"]] for p in o["payments"]],
        )


def _decline(i: Mapping[str, Any]) -> str:
    """A declined installment's last decline code and its class, e.g. 'lost_card (hard)'."""
    return f"{i['decline_code']} ({i['decline_class']})" if i["decline_code"] else ""
