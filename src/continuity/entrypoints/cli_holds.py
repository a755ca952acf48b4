"""`continuity hold-codes list|add` and `continuity orders hold|clear-hold`: order holds with hold codes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from continuity.bootstrap import bootstrap
from continuity.entrypoints.cli_output import console, emit, handles_errors, table_of
from continuity.entrypoints.cli_servicing import ActorOption, Json, cli_actor
from continuity.services import holds

hold_codes_app = typer.Typer(
    help="Hold codes (set-up data): the reasons an order is put on hold.", no_args_is_help=True
)
Note = Annotated[str, typer.Option("--note", help="Why (kept in the audit trail; required).")]


def _render_hold(r: holds.HoldView) -> None:
    if r["status"] == "on_hold":
        console.print(f"{escape(r['sales_id'])} is on hold: {escape(r['hold_code'])} ({escape(r['note'])})")
    else:
        console.print(f"{escape(r['sales_id'])}: hold cleared, the order is {r['status']}", highlight=False)
    for child in r["cleared_children"]:
        console.print(f"child order {escape(child)}: hold cleared", highlight=False)


def register(app: typer.Typer, orders_app: typer.Typer) -> None:
    app.add_typer(hold_codes_app, name="hold-codes")

    @hold_codes_app.command("list")
    @handles_errors
    def codes_list(as_json: Json = False) -> None:
        """Every hold code: manual ones (put on and cleared by hand) and payment ones (by the payments)."""
        codes = holds.hold_codes(bootstrap().uow)
        emit(codes, as_json, lambda d: table_of("Hold codes", ["code", "kind", "description"], d))

    @hold_codes_app.command("add")
    @handles_errors
    def codes_add(
        code: str,
        description: Annotated[str, typer.Option("--description", help="What the code means.")],
        as_json: Json = False,
    ) -> None:
        """Set up a new manual hold code (lower-case letters, digits and _)."""
        added = holds.add_hold_code(bootstrap().uow, code, description)
        emit(added, as_json, lambda d: console.print(f"hold code {escape(d['code'])} added", highlight=False))

    @orders_app.command("hold")
    @handles_errors
    def orders_hold(
        sales_id: str,
        code: Annotated[str, typer.Option("--code", help="The hold code (see `hold-codes list`).")],
        note: Note,
        actor: ActorOption = None,
        as_json: Json = False,
    ) -> None:
        """Put an open or released order on hold with a manual hold code and a note. A held parent's new
        child orders are made on hold; a held order is not charged."""
        a = bootstrap()
        done = holds.put_on_hold(a.uow, a.clock, sales_id, code, note, cli_actor(actor))
        emit(done, as_json, _render_hold)

    @orders_app.command("clear-hold")
    @handles_errors
    def orders_clear_hold(sales_id: str, note: Note, actor: ActorOption = None, as_json: Json = False) -> None:
        """Clear an order's manual hold, with a note (a parent's children held with the same code too)."""
        a = bootstrap()
        emit(holds.clear_hold(a.uow, a.clock, sales_id, note, cli_actor(actor)), as_json, _render_hold)
