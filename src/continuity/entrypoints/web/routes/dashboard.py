"""The manager dashboard: a server-drawn SVG chart of shipments (bars) and expected revenue (line) per
week for the next 12 weeks, with the same figures as a table; payments needing attention; the last
job runs. No JavaScript: the chart's geometry is computed here and drawn by the template."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from babel.dates import format_interval, format_skeleton
from fastapi import APIRouter, Request
from fastapi.responses import Response

from continuity.domain.money import Money
from continuity.entrypoints.api.deps import AppDep
from continuity.entrypoints.web import i18n
from continuity.entrypoints.web.auth import Manager
from continuity.entrypoints.web.session import language_of
from continuity.entrypoints.web.templating import render
from continuity.services import catalog, dashboard, job_runs
from continuity.services.dashboard import Outlook

router = APIRouter(include_in_schema=False)

WIDTH, HEIGHT = 1040, 320  # about a wide card's proportions: the chart fills the card's width
LEFT, RIGHT, TOP, BOTTOM = 72, 104, 16, 60  # margins around the plot: axis labels and titles live there
MIN_REVENUE_SCALE = 400  # minor units: an empty chart's revenue scale still reads 0 … 4.00, not 0 … 0.04


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    centre: float
    label: str  # the week's first day, short
    shipments: int
    revenue: Money
    revenue_y: float


@dataclass(frozen=True)
class Tick:
    y: float
    shipments: int
    revenue: Money


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    bars: list[Bar]
    ticks: list[Tick]
    line: str  # the revenue polyline's points
    currency: str


@router.get("/dashboard")
def dashboard_page(request: Request, app: AppDep, user: Manager) -> Response:
    today = app.clock.today()
    reads = app.dashboard_reads()
    outlook = dashboard.outlook(reads, today, catalog.parameters(app.uow).delivery_lead_days)
    attention, attention_total = dashboard.payments_needing_attention(reads, 50)
    runs = job_runs.job_runs(app.job_deps().runs, None, 8)
    for run in runs:
        run["started_at"] = datetime.fromisoformat(run["started_at"])
    locale = i18n.locale(language_of(request))
    return render(
        request,
        "manager/dashboard.html",
        today=today,
        outlook=outlook,
        chart=chart(outlook, lambda d: format_skeleton("MMMd", d, locale=locale)),
        attention=attention,
        attention_total=attention_total,
        returns=dashboard.returns_summary(reads, today),
        runs=runs,
        week_labels=[format_interval(w.start, w.end, "yMMMd", locale=locale) for w in outlook.weeks],
    )


def chart(outlook: Outlook, short_date: Callable[[date], str]) -> Chart:
    """Bars for the shipments on the left scale, the revenue line on the right scale."""
    currency = outlook.currency
    top_ships = nice_ceiling(max((w.shipments for w in outlook.weeks), default=0))
    top_minor = nice_ceiling(max([w.revenue_in(currency).minor for w in outlook.weeks] + [MIN_REVENUE_SCALE]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(outlook.weeks), 1)
    bottom = TOP + plot_h
    bars = []
    for k, week in enumerate(outlook.weeks):
        height = plot_h * week.shipments / top_ships
        revenue = week.revenue_in(currency)
        bars.append(
            Bar(
                round(LEFT + k * slot + slot * 0.2, 1),
                round(bottom - height, 1),
                round(slot * 0.6, 1),
                round(height, 1),
                round(LEFT + (k + 0.5) * slot, 1),
                short_date(week.start),
                week.shipments,
                revenue,
                round(bottom - plot_h * revenue.minor / top_minor, 1),
            )
        )
    ticks = [
        Tick(
            round(bottom - plot_h * part / 4, 1),
            top_ships * part // 4,
            Money.from_minor(top_minor * part // 4, currency),
        )
        for part in range(5)
    ]
    return Chart(
        WIDTH,
        HEIGHT,
        LEFT,
        WIDTH - RIGHT,
        TOP,
        bottom,
        bars,
        ticks,
        " ".join(f"{b.centre},{b.revenue_y}" for b in bars),
        currency,
    )


def nice_ceiling(value: int) -> int:
    """The smallest of 4, 8, 20, 40, 80, 200 … (divisible by the 4 grid steps) that holds ``value``."""
    step = 1
    while True:
        for factor in (4, 8, 20):
            if value <= factor * step:
                return factor * step
        step *= 10
