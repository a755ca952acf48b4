"""`continuity simulate`: the nightly jobs played forward day by day on a copy of the data."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated, Literal

import typer

from continuity.bootstrap import App, bootstrap
from continuity.config import Settings
from continuity.domain.calendar import parse_date
from continuity.entrypoints.cli_jobs import RichProgress
from continuity.entrypoints.cli_output import console, emit, table
from continuity.services.jobs.context import NoProgress, Progress
from continuity.services.simulation import Figures, SimulationClock, Summary, play, simulation_days, summarise

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
FigureName = Literal[
    "children_created",
    "shipments",
    "items_shipped",
    "charges",
    "charged",
    "declined",
    "unresolved",
    "refunds",
    "refunded",
]
#: column → (figure, optional: shown only when its total is not zero)
COLUMNS: dict[str, tuple[FigureName, bool]] = {
    "created": ("children_created", False),
    "shipped": ("shipments", False),
    "items": ("items_shipped", False),
    "charges": ("charges", False),
    "charged": ("charged", False),
    "declined": ("declined", False),
    "unresolved": ("unresolved", True),
    "refunds": ("refunds", True),
    "refunded": ("refunded", True),
}


class SimulationResult(Summary):
    """The summary, with the days played and the job runs they made."""

    days: int
    job_runs: int


def simulate_on_copy(
    source: App, start: date, months: int, sales_id: str | None = None, progress: Progress | None = None
) -> SimulationResult:
    """Copy the data (or one parent order's family) to a scratch database, run the nightly jobs there
    for every day of ``months`` months from ``start`` and summarise; the source is only read."""
    days = simulation_days(start, months)
    with source.scratch_copy(sales_id) as url:
        clock = SimulationClock(source.clock, start)
        target = bootstrap(Settings(url, None, None), clock=clock)  # no SMTP; the copy's own test gateway
        try:
            runs = play(target.job_deps(), clock, days, progress)
            children, charges = target.simulation_activity(start, days[-1])
        finally:
            target.engine.dispose()
    return {**summarise(children, charges, start, months, sales_id), "days": len(days), "job_runs": runs}


def simulate(
    months: Annotated[int, typer.Option("--months", min=1, max=120, help="Months to play forward.")] = 12,
    sales_order: Annotated[
        str | None, typer.Option("--sales-order", help="Only this parent order (with its customer and child orders).")
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First simulated day (default: today).")] = None,
    as_json: Json = False,
) -> None:
    """Play the nightly jobs forward on a copy of the data: what ships and what is charged per month."""
    source = bootstrap()
    try:
        start = parse_date(from_) if from_ else source.clock.today()
        tty = sys.stdout.isatty() and not as_json
        with RichProgress() if tty else _Quiet() as progress:
            summary = simulate_on_copy(source, start, months, sales_order, progress)
    finally:
        source.engine.dispose()
    emit(summary, as_json, render_summary)


class _Quiet(NoProgress):
    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def render_summary(s: SimulationResult) -> None:
    scope = f"sales order {s['sales_order']}" if s["sales_order"] else "all orders"
    console.print(
        f"Simulated {s['months']} month(s) of nightly runs for {scope}, {s['start']} to {s['end']} "
        f"({s['days']} days), on a copy: the real data is unchanged.",
        highlight=False,
    )
    columns = [c for c, (key, optional) in COLUMNS.items() if not optional or s["totals"][key]]
    rows = [[p["from"], *_figures(p, columns)] for p in s["periods"]] + [["total", *_figures(s["totals"], columns)]]
    table("Per month from the day shown: child orders created, shipped, items, charges", ["month from", *columns], rows)
    if s["sales_order"]:
        table(
            f"Shipments of {s['sales_order']}",
            ["child order", "created", "ship date", "shipped", "status", "items"],
            [
                [
                    c["sales_id"],
                    c["created_on"],
                    c["ship_date"],
                    c["shipped_on"],
                    c["status"],
                    ", ".join(f"{i['item_id']} x{i['quantity']}" for i in c["items"]),
                ]
                for c in s["shipments"]
            ],
        )
        table(
            f"Charges of {s['sales_order']}",
            ["date", "order", "seq", "operation", "status", "amount"],
            [
                [c["date"], c["sales_id"], c["seq"], c["operation"], c["status"], f"{c['amount']} {c['currency']}"]
                for c in s["charges"]
            ],
        )


def _figures(figures: Figures, columns: list[str]) -> list[object]:
    values = [figures[COLUMNS[c][0]] for c in columns]
    return [", ".join(f"{a} {cur}" for cur, a in v.items()) or "-" if isinstance(v, dict) else v for v in values]
