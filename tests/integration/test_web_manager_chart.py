"""The dashboard chart's geometry (no database): bars and the revenue line on their own scales."""

from __future__ import annotations

from datetime import date, timedelta

from continuity.domain.money import Money
from continuity.entrypoints.web.routes.dashboard import BOTTOM, HEIGHT, TOP, chart, nice_ceiling
from continuity.services.dashboard import Outlook, WeekFigures

MONDAY = date(2026, 11, 23)


def outlook(shipments: list[int], revenue_minor: list[int]) -> Outlook:
    weeks = [
        WeekFigures(
            MONDAY + timedelta(weeks=k),
            MONDAY + timedelta(weeks=k, days=6),
            s,
            (Money.from_minor(r, "EUR"),) if r else (),
        )
        for k, (s, r) in enumerate(zip(shipments, revenue_minor))
    ]
    return Outlook(weeks, "EUR")


def test_scales_are_round_numbers_that_hold_the_largest_value():
    assert [nice_ceiling(v) for v in (0, 3, 4, 5, 8, 9, 21, 199, 200, 201, 45_000)] == [
        4,
        4,
        4,
        8,
        8,
        20,
        40,
        200,
        200,
        400,
        80_000,
    ]


def test_bar_heights_and_revenue_points_are_proportional_to_the_figures():
    drawn = chart(outlook([2, 0, 8, 4], [1000, 0, 4000, 2000]), lambda d: d.isoformat())
    plot = HEIGHT - TOP - BOTTOM
    assert [b.height for b in drawn.bars] == [plot / 4, 0, plot, plot / 2]
    assert all(b.y + b.height == drawn.bottom for b in drawn.bars)
    revenue_scale = nice_ceiling(4000)  # 40.00 EUR at the top of the right axis
    assert [round(drawn.bottom - b.revenue_y, 1) for b in drawn.bars] == [
        round(plot * m / revenue_scale, 1) for m in (1000, 0, 4000, 2000)
    ]
    assert [t.shipments for t in drawn.ticks] == [0, 2, 4, 6, 8]
    assert [str(t.revenue.amount) for t in drawn.ticks] == ["0.00", "10.00", "20.00", "30.00", "40.00"]
    assert drawn.line.count(",") == 4 and drawn.bars[0].label == "2026-11-23"


def test_an_empty_outlook_draws_flat_at_zero_on_readable_scales():
    drawn = chart(outlook([0] * 12, [0] * 12), str)
    assert all(b.height == 0 and b.revenue_y == drawn.bottom for b in drawn.bars)
    assert drawn.ticks[-1].shipments == 4 and str(drawn.ticks[-1].revenue.amount) == "4.00"
