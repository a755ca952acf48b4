"""Login throttling: after a few failed logins, a client address or an account name must wait before its
next login is checked, and the wait doubles with every further failure (up to a cap). Nothing is ever
locked for good: a failure is forgotten some time after the last one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Failures:
    """The failed logins of one client address or one account name, and when the last one was."""

    count: int
    last_at: datetime


@dataclass(frozen=True)
class ThrottlePolicy:
    free: int = 5  # failures before any wait
    first_wait: timedelta = timedelta(seconds=1)  # the wait after the free ones; it doubles each time
    max_wait: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=1)  # failures end this long after the last one

    def wait(self, count: int) -> timedelta:
        """How long after the last of ``count`` failures the next login is checked."""
        if count < self.free:
            return timedelta(0)
        grown: timedelta = self.first_wait * 2 ** min(count - self.free, 40)
        return min(self.max_wait, grown)

    def live(self, failures: Failures | None, now: datetime) -> Failures | None:
        if failures is None or failures.count <= 0 or now - failures.last_at >= self.forget_after:
            return None
        return failures

    def holds(self, failures: Failures | None, now: datetime) -> bool:
        live = self.live(failures, now)
        return live is not None and now < live.last_at + self.wait(live.count)

    def refuses(self, address: Failures | None, account: Failures | None, now: datetime) -> bool:
        """A client waits for its own failures; an account's failures hold back only a client that has
        failed itself, so the owner on a client that has not failed always gets a real check."""
        if self.holds(address, now):
            return True
        return self.live(address, now) is not None and self.holds(account, now)
