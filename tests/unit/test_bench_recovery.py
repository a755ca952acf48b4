"""bench/recovery.py plays the dunning policy's rules: never a retry after a hard decline, never more than
the schedule's retries per episode; the old daily policy retries hard declines."""

from __future__ import annotations

from bench.recovery import play
from continuity.domain.dunning import DunningPolicy


def test_the_dunning_policy_never_retries_a_hard_decline_and_the_daily_one_does():
    dunning, daily = play("dunning", 300, 17, DunningPolicy()), play("daily", 300, 17, DunningPolicy())
    assert dunning.declines == daily.declines > 0  # the same customers under both
    assert dunning.after_hard == 0 < daily.after_hard
    assert dunning.attempts <= dunning.declines * (1 + 4 + 1)  # the first try, 4 retries, a new card's


def test_a_schedule_without_retries_recovers_only_through_new_cards():
    none = play("dunning", 300, 17, DunningPolicy(retry_days=()))
    assert none.attempts - none.declines == none.recovered  # each extra attempt is a new card's, approved
