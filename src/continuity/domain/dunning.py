"""Dunning: what a decline means, and when (if ever) its installment is tried again.

Every decline carries a stable code (``DeclineCode``); its class says whether it is retried. A *hard*
decline (the card is lost, stolen, closed, expired, or refused for fraud) is never retried, on any order:
the customer is asked for another card. A *soft* one (no funds today, the issuer unreachable, a
generic refusal) is retried on the schedule of the parameters: by default days 1, 3, 5 and 7 after the
first decline, within 14 days. A decline episode is one installment on one card: a new card starts a
new one (tried at once). The card's retry budget (Visa: 15 retries in 30 days) is shared by all of its
customer's orders. The batch SQL renders the same rules (adapters/sql_rules.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from continuity.domain.calendar import add_days
from continuity.domain.errors import ValidationFailed


class DeclineClass(StrEnum):
    HARD = "hard"  # never retried: a new card is needed
    SOFT = "soft"  # retried on the schedule


class DeclineCode(StrEnum):
    INSUFFICIENT_FUNDS = "insufficient_funds"
    ISSUER_UNAVAILABLE = "issuer_unavailable"
    GENERIC = "generic"  # a refusal that says nothing more (do not honour, try again later, ...)
    LOST_CARD = "lost_card"
    STOLEN_CARD = "stolen_card"
    INVALID_ACCOUNT = "invalid_account"  # closed account, no such card, invalid number
    FRAUD = "fraud"  # do not honour for fraud, pick-up card, security violation
    EXPIRED_CARD = "expired_card"


HARD_CODES = frozenset(
    {
        DeclineCode.LOST_CARD,
        DeclineCode.STOLEN_CARD,
        DeclineCode.INVALID_ACCOUNT,
        DeclineCode.FRAUD,
        DeclineCode.EXPIRED_CARD,
    }
)


def decline_class(code: str) -> DeclineClass:
    """The class of a stored decline code ('' or one we do not know: a generic, soft decline)."""
    return DeclineClass.HARD if code in HARD_CODES else DeclineClass.SOFT


def decline_code(code: str) -> DeclineCode:
    """A stored code as a DeclineCode (unknown or empty: GENERIC)."""
    try:
        return DeclineCode(code)
    except ValueError:
        return DeclineCode.GENERIC


#: At most this many retries in a schedule.
MAX_RETRIES = 10


@dataclass(frozen=True)
class DunningPolicy:
    """When a soft decline is retried, and how many retries a card may take (parameters)."""

    retry_days: tuple[int, ...] = (1, 3, 5, 7)  # days after the first decline
    window_days: int = 14  # no retry later than this many days after the first decline
    card_budget: int = 15  # retries of one card (all of its orders) ...
    budget_days: int = 30  # ... within this many days

    def validate(self) -> None:
        days = self.retry_days
        if len(days) > MAX_RETRIES or any(d < 1 for d in days) or list(days) != sorted(set(days)):
            raise ValidationFailed(
                f"retry_days must be at most {MAX_RETRIES} increasing whole days of at least 1",
                "parameters_invalid",
                {"field": "retry_days"},
            )
        if days and days[-1] > self.window_days:
            raise ValidationFailed(
                "the last retry day must fall within retry_window_days",
                "parameters_invalid",
                {"field": "retry_window_days"},
            )
        for name in ("card_retry_budget", "card_retry_budget_days"):
            if getattr(self, _FIELD[name]) < 0:
                raise ValidationFailed(
                    f"{name} must not be negative", "parameters_invalid", {"field": name, "minimum": 0}
                )

    # -- the rules --------------------------------------------------------------------------
    def retries_due(self, first_decline: date, as_of: date) -> int:
        """How many scheduled retries have come by ``as_of`` (0 once the window is over)."""
        if as_of > add_days(first_decline, self.window_days):
            return 0
        return sum(1 for d in self.retry_days if add_days(first_decline, d) <= as_of)

    def may_retry(self, first_decline: date, declines: int, as_of: date, hard: bool) -> bool:
        """A declined installment (``declines`` declines on its card, the first on ``first_decline``) is
        tried again on ``as_of``: never after a hard decline; else while a scheduled retry is due that was
        not made (missed days are caught up, one retry per run), within the window."""
        return not hard and declines <= self.retries_due(first_decline, as_of)

    def next_retry(self, first_decline: date, declines: int, after: date, hard: bool) -> date | None:
        """The day the next retry is due (at the earliest the day after ``after``, the day of the last
        decline), or None when there is none (a hard decline, the schedule used up, or the window over)."""
        if hard or declines > len(self.retry_days):
            return None
        due = max(add_days(first_decline, self.retry_days[declines - 1]), add_days(after, 1))
        return due if due <= add_days(first_decline, self.window_days) else None

    def exhausted(self, declines: int, hard: bool) -> bool:
        """The episode is over without payment: a hard decline, or every scheduled retry declined."""
        return hard or declines > len(self.retry_days)

    def budget_from(self, as_of: date) -> date:
        """Retries made after this day count against a card's budget on ``as_of``."""
        return add_days(as_of, -self.budget_days)

    def retry_cutoffs(self, as_of: date) -> list[date]:
        """For the SQL: retry k is due on ``as_of`` when the first decline is on or before cutoff k."""
        return [add_days(as_of, -d) for d in self.retry_days]

    def window_from(self, as_of: date) -> date:
        """For the SQL: a first decline before this day is outside the window on ``as_of``."""
        return add_days(as_of, -self.window_days)


@dataclass(frozen=True)
class DeclineEpisode:
    """An installment's declines on the card of its last attempt (what the order's page and JSON show)."""

    first_decline: date
    last_tried: date
    declines: int
    code: str  # the last decline's DeclineCode

    @property
    def decline_class(self) -> DeclineClass:
        return decline_class(self.code)

    def next_retry(self, policy: DunningPolicy) -> date | None:
        """The day the nightly run tries it again on this card (None: never; the payment review's)."""
        hard = self.decline_class == DeclineClass.HARD
        return policy.next_retry(self.first_decline, self.declines, self.last_tried, hard)


_FIELD = {"card_retry_budget": "card_budget", "card_retry_budget_days": "budget_days"}


def parse_retry_days(text: str) -> tuple[int, ...]:
    """'1, 3, 5, 7' → (1, 3, 5, 7)."""
    try:
        return tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise ValidationFailed(
            f"retry_days must be whole days separated by commas, not {text!r}",
            "parameters_invalid",
            {"field": "retry_days"},
        ) from None


def format_retry_days(days: tuple[int, ...]) -> str:
    return ",".join(str(d) for d in days)
