"""`continuity orders return|credit-notes`, `continuity return-reasons list|save` and
`continuity programs return-action`: returns of shipped child orders from the command line."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from continuity.bootstrap import App, bootstrap
from continuity.domain.returns import ReturnReason
from continuity.entrypoints.cli_output import console, emit, handles_errors, table, table_of
from continuity.entrypoints.cli_servicing import ActorOption, Json, cli_actor
from continuity.services import returns, views
from continuity.services.returns import ReturnRequest

reasons_app = typer.Typer(help="Return reason codes (set-up data).", no_args_is_help=True)


def _app() -> App:
    return bootstrap()


def register_returns(orders_app: typer.Typer, programs_app: typer.Typer) -> None:
    orders_app.command("return")(handles_errors(orders_return))
    orders_app.command("credit-notes")(handles_errors(orders_credit_notes))
    programs_app.command("return-action")(handles_errors(programs_return_action))


def orders_return(
    sales_id: str,
    line: Annotated[int, typer.Option("--line", help="The child order's line returned.")],
    quantity: Annotated[int, typer.Option("--quantity", help="How many of it came back.")],
    reason: Annotated[str, typer.Option("--reason", help="A return reason code (`return-reasons list`).")],
    note: Annotated[str, typer.Option("--note", help="Free text kept with the credit note.")] = "",
    actor: ActorOption = None,
    as_json: Json = False,
) -> None:
    """Return goods of a shipped and invoiced child order: a credit note, a refund of what was captured,
    and what the program's return action does to the schedule (continue, replace, cancel_remaining)."""
    a = _app()
    request = ReturnRequest(sales_id, line, quantity, reason.strip().upper(), note)
    result = returns.return_goods(a.uow, a.gateway, a.clock, request, cli_actor(actor))
    emit(result, as_json, _render_return)


def _render_return(r: Any) -> None:
    console.print(
        f"credit note {r['credit_note']}: {r['quantity']} × {r['item_id']} of {r['sales_id']} line {r['line_no']} "
        f"({r['reason_code']}), {r['amount']} {r['currency']}",
        highlight=False,
    )
    refund = r["refund_status"] or "nothing to refund"
    console.print(f"refund: {refund}" + (f" (key {r['refund_key']})" if r["refund_key"] else ""), highlight=False)
    action = r["schedule_action"]
    if r["replacement_sales_id"]:
        action += f": replacement order {r['replacement_sales_id']}"
    elif r["cancelled"]:
        action += f": the rest of {r['parent_sales_id']} is cancelled"
    console.print(f"schedule: {action}", highlight=False)


def orders_credit_notes(sales_id: str, as_json: Json = False) -> None:
    """The credit notes of a child order, or of every child of a parent order."""
    a = _app()
    emit(
        returns.credit_note_views(a.uow, sales_id),
        as_json,
        lambda notes: table(
            f"Credit notes of {sales_id}",
            ["credit_note", "order", "reason", "returned", "amount", "refund"],
            [
                [
                    n["credit_note"],
                    n["sales_id"],
                    n["reason_code"],
                    ", ".join(f"{ln['quantity']} × {ln['item_id']}" for ln in n["lines"]),
                    f"{n['amount']} {n['currency']}",
                    n["refund_status"] or "",
                ]
                for n in notes
            ],
        ),
    )


def programs_return_action(
    program_id: str,
    action: Annotated[str, typer.Argument(help="continue, replace or cancel_remaining.")],
    actor: ActorOption = None,
    as_json: Json = False,
) -> None:
    """What a return of one of the program's child orders does to the rest of the schedule."""
    a = _app()
    program = returns.set_return_action(a.uow, program_id, action, a.clock.today(), cli_actor(actor))
    emit(
        views.program_view(program),
        as_json,
        lambda p: console.print(f"program {p['program_id']}: return action {p['return_action']}", highlight=False),
    )


@reasons_app.command("list")
@handles_errors
def reasons_list(as_json: Json = False) -> None:
    """The return reason codes."""
    a = _app()
    data = [returns.reason_view(r) for r in returns.reasons(a.uow)]
    emit(data, as_json, lambda d: table_of("Return reasons", ["code", "description", "active"], d))


@reasons_app.command("save")
@handles_errors
def reasons_save(
    code: str,
    description: str,
    inactive: Annotated[bool, typer.Option("--inactive", help="No longer offered for new returns.")] = False,
    as_json: Json = False,
) -> None:
    """Add a return reason code or change its description (or retire it with --inactive)."""
    a = _app()
    reason = returns.save_reason(a.uow, ReturnReason(code.strip().upper(), description.strip(), not inactive))
    emit(returns.reason_view(reason), as_json, lambda r: console.print(f"return reason {r['code']} saved"))
