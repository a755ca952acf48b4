"""`continuity payment-review list|retry|change-card|waive|settle|cancel`: the payment review worklist."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from continuity.bootstrap import App, bootstrap
from continuity.entrypoints.cli_output import console, emit, handles_errors, table_of
from continuity.entrypoints.cli_servicing import ActorOption, Json, cli_actor
from continuity.services import payment_review

review_app = typer.Typer(help="Payment review: installments to look at, and what an agent does.", no_args_is_help=True)
Line = Annotated[int | None, typer.Option("--line", help="The installment's line (default: the one that has SEQ).")]


def _render(r: payment_review.ActionView) -> None:
    outcome = f" (gateway: {r['outcome']})" if r["outcome"] else ""
    console.print(
        f"{escape(r['sales_id'])} installment {r['line_no']}/{r['seq']}: {r['action']}, now {r['status']}{outcome}",
        highlight=False,
    )


def _where(a: App, sales_id: str, seq: int, line: int | None) -> tuple[str, int, int]:
    return sales_id, payment_review.installment_line(a.uow, sales_id, seq, line), seq


@review_app.command("list")
@handles_errors
def review_list(as_json: Json = False) -> None:
    """Installments whose retries are used up, cards expiring before their next shipment, charges unknown
    for more than a day."""
    a = bootstrap()
    items = payment_review.worklist(a.job_deps(), a.payment_review_reads(), a.clock.today())
    keys = ["kind", "sales_id", "seq", "due_date", "amount", "card", "attempts"]
    emit(items, as_json, lambda d: table_of("Payment review", keys, d))


@review_app.command("retry")
@handles_errors
def review_retry(sales_id: str, seq: int, line: Line = None, actor: ActorOption = None, as_json: Json = False) -> None:
    """Charge the installment now (as process-payments would; never twice at once); an unknown outcome is
    looked up under its own key."""
    a = bootstrap()
    emit(payment_review.retry_now(a.job_deps(), *_where(a, sales_id, seq, line), cli_actor(actor)), as_json, _render)


@review_app.command("change-card")
@handles_errors
def review_change_card(
    sales_id: str,
    seq: int,
    card: Annotated[
        str | None, typer.Option("--card", help="Card number, test gateway (only its token is kept).")
    ] = None,
    expiry: Annotated[str | None, typer.Option("--expiry", help="Card expiry MM/YY.")] = None,
    payment_method: Annotated[str | None, typer.Option("--payment-method", help="Stripe: pm_….")] = None,
    line: Line = None,
    actor: ActorOption = None,
    as_json: Json = False,
) -> None:
    """Change the continuity order's card, then retry the installment on it."""
    a = bootstrap()
    where = _where(a, sales_id, seq, line)
    done = payment_review.change_card_and_retry(a.job_deps(), *where, cli_actor(actor), card, expiry, payment_method)
    emit(done, as_json, _render)


@review_app.command("waive")
@handles_errors
def review_waive(
    sales_id: str,
    seq: int,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail; required).")],
    line: Line = None,
    actor: ActorOption = None,
    as_json: Json = False,
) -> None:
    """Charge nothing more for the installment (it is cancelled); its held child orders are released."""
    a = bootstrap()
    emit(
        payment_review.waive(a.job_deps(), *_where(a, sales_id, seq, line), reason, cli_actor(actor)), as_json, _render
    )


@review_app.command("settle")
@handles_errors
def review_settle(
    sales_id: str,
    seq: int,
    method: Annotated[str, typer.Option("--method", help="bank_transfer, cheque, cash or other.")],
    reference: Annotated[str, typer.Option("--reference", help="The payment's reference (required).")],
    line: Line = None,
    actor: ActorOption = None,
    as_json: Json = False,
) -> None:
    """A manual payment settles the installment: paid, no retry left for it, no date moves."""
    a = bootstrap()
    where = _where(a, sales_id, seq, line)
    emit(payment_review.settle_manually(a.job_deps(), *where, method, reference, cli_actor(actor)), as_json, _render)


@review_app.command("cancel")
@handles_errors
def review_cancel(
    sales_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail; required).")],
    actor: ActorOption = None,
    as_json: Json = False,
) -> None:
    """Cancel the continuity order from today (as `orders cancel`)."""
    a = bootstrap()
    result = payment_review.cancel_order(a.job_deps(), sales_id, reason, cli_actor(actor))
    emit(
        {"sales_id": result["sales_id"], "applied": result["applied"]},
        as_json,
        lambda d: console.print(f"{escape(str(d['sales_id']))}: cancelled", highlight=False),
    )
