"""All calendar arithmetic of the system lives here (dateutil)."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dateutil.relativedelta import relativedelta

from continuity.domain.errors import ValidationFailed

_TIME_OF_DAY = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
_INTERVAL = re.compile(r"^\s*(\d+)\s*(day|days|month|months)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Interval:
    """A step between two dates: whole days or calendar months."""

    count: int
    unit: str  # "days" or "months"

    def __post_init__(self) -> None:
        if self.unit not in ("days", "months") or self.count < 0:
            raise ValidationFailed(f"not an interval: {self.count} {self.unit}", "interval_invalid")

    @classmethod
    def parse(cls, text: str) -> Interval:
        """Parse '30 days', '1 month', '2 months'."""
        match = _INTERVAL.match(str(text))
        if not match:
            raise ValidationFailed(f"not an interval: {text!r} (use e.g. '30 days' or '1 month')", "interval_invalid")
        unit = match.group(2).lower()
        return cls(int(match.group(1)), "months" if unit.startswith("month") else "days")

    @classmethod
    def days(cls, count: int) -> Interval:
        return cls(count, "days")

    def __str__(self) -> str:
        unit = self.unit if self.count != 1 else self.unit[:-1]
        return f"{self.count} {unit}"


def add_days(start: date, days: int) -> date:
    moved: date = start + relativedelta(days=days)
    return moved


def add_days_within_calendar(start: date, days: int) -> date:
    """``add_days``, stopping at the calendar's first or last day (a bound's far end, never an overflow)."""
    try:
        return add_days(start, days)
    except (OverflowError, ValueError):
        return date.max if days > 0 else date.min


def add_months(start: date, months: int) -> date:
    """Calendar months with month-end clamping: Jan 31 + 1 month = Feb 28/29."""
    moved: date = start + relativedelta(months=months)
    return moved


class DateSequence:
    """Walks a sequence of dates by intervals, keeping the anchor day for month steps.

    Jan 31 → +1 month → Feb 28/29 → +1 month → Mar 31 (not Mar 28): month steps are
    counted from the last day-based anchor, so a clamp never drifts.
    """

    def __init__(self, first: date) -> None:
        self._anchor = first
        self._months = 0
        self.current = first

    def advance(self, interval: Interval) -> date:
        if interval.unit == "months":
            self._months += interval.count
            self.current = add_months(self._anchor, self._months)
        else:
            self.current = add_days(self.current, interval.count)
            self._anchor, self._months = self.current, 0
        return self.current


def parse_date(text: str) -> date:
    """Parse an ISO date (YYYY-MM-DD); 2026-02-30 is refused with a clear error."""
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise ValidationFailed(f"not a valid date: {text!r} (use YYYY-MM-DD)", "date_invalid") from None


def end_of_month(year: int, month: int) -> date:
    return date(year, month, monthrange(year, month)[1])  # no overflow past 9999-12


def parse_time_of_day(text: str) -> time:
    """Parse a time of day, HH:MM or HH:MM:SS (24-hour clock); 24:00 or 12:61 is refused."""
    match = _TIME_OF_DAY.match(str(text))
    try:
        if match is None:
            raise ValueError
        return time(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
    except ValueError:
        raise ValidationFailed(f"not a time of day: {text!r} (use HH:MM or HH:MM:SS)", "time_invalid") from None


def seconds_until(moment: time, now: datetime, zone: tzinfo | None = None) -> float:
    """Seconds from ``now`` (aware) to the next ``moment`` of the day in ``zone`` (default: ``now``'s):
    today's if it has not passed yet (0 at that very moment), else tomorrow's. Across a change of the
    clocks the day is 23 or 25 hours long: 02:30 the day after is still at 02:30 on the wall."""
    zone = zone or now.tzinfo
    day, now_utc = now.astimezone(zone).date(), now.astimezone(UTC)
    due = datetime.combine(day, moment, zone).astimezone(UTC)
    if due < now_utc:
        due = datetime.combine(day + timedelta(days=1), moment, zone).astimezone(UTC)
    return (due - now_utc).total_seconds()  # in UTC: exact, whatever the zones' offsets
