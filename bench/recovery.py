"""The bench step ``dunning-recovery`` (issue 17): twelve months of monthly charges over generated orders
with a seeded mix of declines, played under the dunning policy of the parameters (domain/dunning.py: soft
declines retried on days 1, 3, 5, 7 within 14 days, hard ones never, the card's budget) and under the old
daily retry (every day up to reauthorization_limit = 3 retries, whatever the decline). Prints the recovery
rate (recovered ÷ first-attempt declines) and the attempts per recovered payment of each.

It plays the policy's rules (the same DunningPolicy the claim SQL renders: tests/integration/test_dunning.py
checks the SQL against them) day by day in memory, not the jobs: what a customer does is a model, and the
figures are only as good as it. The model, the same for both policies (each episode's customer is drawn
from its own seeded random stream, so both policies meet the same customers):

- 8% of first attempts are declined: 55% insufficient funds (the money comes in on a day 1-14 after the
  first decline: a try on or after it is approved), 15% issuer unavailable (each try approved with p 0.6),
  15% generic (p 0.2), 10% lost or stolen card, 5% expired card (hard: that card never pays);
- a customer with a hard decline gives a new card with p 0.5 on a day 2-10 after it (tried the next day);
- a customer whose soft retries are used up gives a new card with p 0.3 within 1-5 days of the last one.

BENCH_RECOVERY_N (default 5000) orders, BENCH_RECOVERY_SEED (default 17).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import date

from rich.console import Console
from rich.table import Table

from continuity.domain.calendar import add_days
from continuity.domain.dunning import DeclineCode, DunningPolicy, decline_class

START = date(2026, 1, 1)
MONTHS = 12
DECLINE_RATE = 0.08
MIX = [
    (DeclineCode.INSUFFICIENT_FUNDS, 0.55),
    (DeclineCode.ISSUER_UNAVAILABLE, 0.15),
    (DeclineCode.GENERIC, 0.15),
    (DeclineCode.LOST_CARD, 0.10),
    (DeclineCode.EXPIRED_CARD, 0.05),
]
DAILY_RETRIES = 3  # the old reauthorization_limit: retried on days 1, 2 and 3, hard declines too


@dataclass(frozen=True)
class Customer:
    """What one decline episode's customer and issuer do (drawn once, met by both policies)."""

    code: DeclineCode
    funds_day: int  # insufficient funds: tries on or after this day are approved
    answers: tuple[bool, ...]  # issuer unavailable / generic: the answer to the k-th retry
    new_card_after: int | None  # days after the episode gives up (hard: after the decline) that a new card comes


def _customer(rng: random.Random) -> Customer:
    code = rng.choices([c for c, _ in MIX], [w for _, w in MIX])[0]
    p = 0.6 if code == DeclineCode.ISSUER_UNAVAILABLE else 0.2
    hard = decline_class(code).value == "hard"
    gives = rng.random() < (0.5 if hard else 0.3)
    return Customer(
        code,
        rng.randint(1, 14),
        tuple(rng.random() < p for _ in range(20)),
        (rng.randint(2, 10) if hard else rng.randint(1, 5)) if gives else None,
    )


def _approves(c: Customer, day: int, k: int) -> bool:
    """The k-th retry (1-based) on ``day`` after the first decline, on the declined card."""
    if decline_class(c.code).value == "hard":
        return False
    if c.code == DeclineCode.INSUFFICIENT_FUNDS:
        return day >= c.funds_day
    return c.answers[k - 1]


@dataclass
class Tally:
    declines: int = 0
    recovered: int = 0
    attempts: int = 0  # every attempt of a declined episode: the first, the retries, a new card's
    after_hard: int = 0  # retries of a card that answered a hard decline


def _episode(policy: str, rules: DunningPolicy, c: Customer, first: date, tally: Tally) -> None:
    tally.declines += 1
    tally.attempts += 1
    hard = decline_class(c.code).value == "hard"
    declines, day = 1, 0
    while True:
        day += 1
        if policy == "daily":
            due = declines <= DAILY_RETRIES
            over = declines > DAILY_RETRIES
        else:
            due = rules.may_retry(first, declines, add_days(first, day), hard)
            over = rules.exhausted(declines, hard) or day > rules.window_days
        if over:
            break
        if not due:
            continue
        tally.attempts += 1
        tally.after_hard += hard
        if _approves(c, day, declines):
            tally.recovered += 1
            return
        declines += 1
    if c.new_card_after is not None:  # the customer's new card, tried by the next run: approved
        tally.attempts += 1
        tally.recovered += 1


def play(policy: str, n: int, seed: int, rules: DunningPolicy) -> Tally:
    tally = Tally()
    for order in range(n):
        for month in range(MONTHS):
            rng = random.Random(f"{seed}:{order}:{month}")
            if rng.random() >= DECLINE_RATE:
                continue
            first = add_days(START, month * 30 + order % 28)
            _episode(policy, rules, _customer(rng), first, tally)
    return tally


def main() -> None:
    n = int(os.environ.get("BENCH_RECOVERY_N", "5000"))
    seed = int(os.environ.get("BENCH_RECOVERY_SEED", "17"))
    rules = DunningPolicy()
    table = Table(title=f"dunning-recovery: {n:,} orders x {MONTHS} monthly charges, seed {seed}")
    for column in ("policy", "first declines", "recovered", "recovery rate", "attempts", "per recovered", "after hard"):
        table.add_column(column)
    for policy in ("dunning", "daily"):
        t = play(policy, n, seed, rules)
        table.add_row(
            "dunning (days 1,3,5,7 / 14; hard never)" if policy == "dunning" else "daily x3 (old)",
            f"{t.declines:,}",
            f"{t.recovered:,}",
            f"{t.recovered / max(t.declines, 1):.1%}",
            f"{t.attempts:,}",
            f"{t.attempts / max(t.recovered, 1):.2f}",
            f"{t.after_hard:,}",
        )
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
