"""R3 "ambiguous gateway": process-payments and reconcile-payments against a gateway that loses answers.

RELIABILITY-REFERENCE R3: a fake gateway injects about 5% timeouts after the charge, 5% "500 /
connection reset" and 5% slow answers; the pass criterion is 0 double charges, every retry under the
attempt's own key, and every UNKNOWN resolved within the janitor's (simulated) schedule.

``FaultyGateway`` wraps the real test connector, so every charge the gateway makes lands in its
ledger (``test_gateway_ledger``, one row per idempotency key). Whether a call faults, and how, is
decided by a hash of (seed, idempotency key, how many times this key has been sent), never by the
global order of calls: the n-th call under a key behaves the same in every run (the chunk size, the
engine or the order of the claim do not change it), and a re-drive under the same key is a fresh,
equally reproducible draw. The faults:

- ``timeout_after``: the inner call happens (the ledger records the charge), then TimeoutError;
- ``reset_before``: ConnectionError before the inner call (the gateway never got the request);
- ``reset_after``: the inner call happens, then ConnectionError (the answer is lost);
- ``slow``: a few milliseconds' sleep, then the real answer.

About 2,000 installments fall due on the first night: TRILOGY parents billed per shipment (the child
order made by create-child-orders carries the charge) and REPLENISH parents billed up front in
installments (two due each); some cards decline. Night after night (as_of one day later each time)
the jobs run — process-payments, then reconcile-payments with the clock moved past
``stale_after_seconds`` — until nothing is pending or unknown and a night charges nothing new. Then
the invariants are checked with SQL against the database and the gateway's ledger.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from jobs_support import LEDGER_DIFFERS_FROM_ATTEMPT, LEDGER_KEYS_WITHOUT_ATTEMPT
from sqlalchemy import text

from bench.generate import generate_due_parents
from continuity.adapters.batch.payments import OWN_PAYMENT_HOLD, PARENT_PAYMENT_HOLD
from continuity.adapters.test_gateway import TestConnector
from continuity.bootstrap import App, bootstrap
from continuity.config import Settings
from continuity.domain.calendar import add_days
from continuity.domain.dunning import DunningPolicy
from continuity.domain.money import Money
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_job
from continuity.services.ports import GatewayResult

AS_OF = date(2026, 11, 23)
SEED = 20261123
STALE_AFTER = 60  # JobDeps.stale_after_seconds (the default): pending attempts this old are reconciled
MAX_NIGHTS = 12
LAST_RETRY_DAY = DunningPolicy().retry_days[-1]  # the dunning schedule's last retry (day 7 after the first decline)
FAULTS = ("timeout_after", "reset_before", "reset_after", "slow")
BUGS = ("bug_before", "bug_after")  # a gateway client bug: RuntimeError before / after the request was made


# -- the fault-injecting gateway -------------------------------------------------------------------------


class FaultyGateway:
    """The test connector behind a network that loses answers (see the module docstring).

    ``rates``: the share of calls per fault kind (cumulative thresholds over one hash draw)."""

    __test__ = False

    def __init__(
        self,
        inner: TestConnector,
        seed: int,
        rates: dict[str, float] | None = None,
        slow_seconds: float = 0.003,
        lookup_rate: float = 0.0,
    ) -> None:
        self.inner = inner
        self.seed = seed
        self.rates = rates or {"timeout_after": 0.05, "reset_before": 0.025, "reset_after": 0.025, "slow": 0.05}
        self.slow_seconds = slow_seconds
        self.lookup_rate = lookup_rate  # lookups that time out (half) or are reset (half)
        self.sent: Counter[str] = Counter()  # calls per idempotency key
        self.calls: list[tuple[str, str, int, str]] = []  # (operation, key, n-th call under the key, fault)
        self.fired: Counter[str] = Counter()
        self.lookups: Counter[str] = Counter()

    def draw(self, what: str, key: str, n: int) -> float:
        digest = hashlib.sha256(f"{self.seed}|{what}|{key}|{n}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def fault(self, key: str, n: int) -> str:
        """The fault of the n-th call under ``key`` ('' for none): a pure function of seed, key and n."""
        u = self.draw("send", key, n)
        for kind in FAULTS + BUGS:
            u -= self.rates.get(kind, 0.0)
            if u < 0:
                return kind
        return ""

    # the PaymentGateway protocol
    def tokenize(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self.inner.tokenize(*args, **kwargs)

    def authorize(self, token: str, amount: Money, idempotency_key: str) -> GatewayResult:
        return self._send("authorize", idempotency_key, lambda: self.inner.authorize(token, amount, idempotency_key))

    def capture(self, token: str, amount: Money, idempotency_key: str, authorization: str = "") -> GatewayResult:
        return self._send(
            "capture", idempotency_key, lambda: self.inner.capture(token, amount, idempotency_key, authorization)
        )

    def void(self, token: str, reference: str, idempotency_key: str) -> GatewayResult:
        return self._send("void", idempotency_key, lambda: self.inner.void(token, reference, idempotency_key))

    def refund(self, token: str, amount: Money, idempotency_key: str, captures=()) -> GatewayResult:  # type: ignore[no-untyped-def]
        return self._send(
            "refund", idempotency_key, lambda: self.inner.refund(token, amount, idempotency_key, captures)
        )

    def lookup(self, idempotency_key: str) -> GatewayResult:
        self.lookups[idempotency_key] += 1
        u = self.draw("lookup", idempotency_key, self.lookups[idempotency_key])
        if u < self.lookup_rate / 2:
            self.fired["lookup_timeout"] += 1
            raise TimeoutError("the gateway did not answer the lookup in time")
        if u < self.lookup_rate:
            self.fired["lookup_reset"] += 1
            raise ConnectionError("connection reset during the lookup")
        return self.inner.lookup(idempotency_key)

    def _send(self, operation: str, key: str, call) -> GatewayResult:  # type: ignore[no-untyped-def]
        self.sent[key] += 1
        n = self.sent[key]
        kind = self.fault(key, n)
        self.calls.append((operation, key, n, kind))
        if kind:
            self.fired[kind] += 1
        if kind == "reset_before":
            raise ConnectionError("connection reset by peer (the request never reached the gateway)")
        if kind == "bug_before":
            raise RuntimeError("gateway client bug before the request was sent")
        if kind == "slow":
            time.sleep(self.slow_seconds)
        result = call()
        if kind == "timeout_after":
            raise TimeoutError("the gateway did not answer in time (it did charge)")
        if kind == "reset_after":
            raise ConnectionError("502 / connection reset after the gateway processed the request")
        if kind == "bug_after":
            raise RuntimeError("gateway client bug while reading the answer")
        return result


class NightClock:
    """The business date of the night being run; now() is that night at 02:00 UTC plus ``elapsed``."""

    def __init__(self, day: date) -> None:
        self.day = day
        self.elapsed = timedelta(0)

    def night(self, day: date) -> None:
        self.day, self.elapsed = day, timedelta(0)

    def wait(self, seconds: float) -> None:
        self.elapsed += timedelta(seconds=seconds)

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, 2, tzinfo=UTC) + self.elapsed


def faulty_app(url: str, seed: int = SEED, **gateway_kwargs) -> tuple[App, FaultyGateway, NightClock]:  # type: ignore[no-untyped-def]
    clock = NightClock(AS_OF)
    app = bootstrap(Settings(url, None, None), clock=clock)
    gateway = FaultyGateway(TestConnector(app.engine), seed, **gateway_kwargs)
    app.gateway = gateway
    return app, gateway, clock


@pytest.fixture
def make_faulty(database_url):
    apps: list[App] = []

    def _make(**kwargs):  # type: ignore[no-untyped-def]
        made = faulty_app(database_url, **kwargs)
        apps.append(made[0])
        return made

    yield _make
    for app in apps:
        app.engine.dispose()


# -- helpers ---------------------------------------------------------------------------------------------


def _rows(app: App, statement: str, **params) -> list[tuple]:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(statement), params)]


def _scalar(app: App, statement: str, **params):  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return conn.execute(text(statement), params).scalar_one()


def _analyze(app: App) -> None:
    if app.engine.dialect.name == "postgresql":
        with app.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))


def unresolved(app: App) -> int:
    return _scalar(app, "SELECT COUNT(*) FROM payment_attempts WHERE status IN ('pending', 'unknown')")


def generate(app: App, trilogy: int = 1000, replenish: int = 500) -> int:
    """Installments due on AS_OF (2,000 by default): ``trilogy`` TRILOGY parents (one shipment each due
    now, charged per child order; 1 in 23 cards declines) and ``replenish`` REPLENISH parents
    (installments 1 and 2 of 3 due; 1 in 19 declines). Returns how many installments fall due."""
    generate_due_parents(
        app.engine,
        trilogy,
        AS_OF,
        program_id="TRILOGY",
        prefix="T",
        due_occurrences=1,
        future_occurrences=2,
        decline_every=23,
    )
    g = generate_due_parents(
        app.engine,
        replenish,
        AS_OF,
        program_id="REPLENISH",
        prefix="R",
        due_occurrences=2,
        future_occurrences=4,
        decline_every=19,
    )
    assert g.due_installments == 2 * replenish
    return trilogy + 2 * replenish


def run_nights(
    app: App, clock: NightClock, first: date = AS_OF, max_nights: int = MAX_NIGHTS, chunk: int = 250
) -> list[dict]:
    """Night after night: create-child-orders, process-payments, then (the clock STALE_AFTER + 1 s
    later) reconcile-payments; until nothing is pending or unknown and a night made no new attempt."""
    nights = []
    for k in range(max_nights):
        day = add_days(first, k)
        clock.night(day)
        deps = app.job_deps(stale_after_seconds=STALE_AFTER)
        created = run_job(deps, "create-child-orders", JobRequest(day, chunk_size=chunk))["counts"]
        if k == 0:
            _analyze(app)
        attempts_before = _scalar(app, "SELECT COUNT(*) FROM payment_attempts")
        charged = run_job(deps, "process-payments", JobRequest(day, chunk_size=chunk))["counts"]
        new_attempts = _scalar(app, "SELECT COUNT(*) FROM payment_attempts") - attempts_before
        clock.wait(STALE_AFTER + 1)
        reconciled = run_job(deps, "reconcile-payments", JobRequest(day, chunk_size=chunk))["counts"]
        left = [
            d if isinstance(d, date) else date.fromisoformat(str(d))
            for (d,) in _rows(app, "SELECT as_of FROM payment_attempts WHERE status IN ('pending', 'unknown')")
        ]
        nights.append(
            {
                "as_of": day,
                "created": created.get("created", 0),
                "new_attempts": new_attempts,
                "charged": charged,
                "reconciled": reconciled,
                "unresolved": len(left),
                "oldest_unresolved_days": max(((day - d).days for d in left), default=-1),
            }
        )
        if nights[-1]["unresolved"] == 0 and new_attempts == 0 and k > LAST_RETRY_DAY:
            return nights
    raise AssertionError(f"not settled after {max_nights} nights: {nights[-3:]}")


# -- the invariants --------------------------------------------------------------------------------------

_PER_INSTALLMENT = (
    "SELECT i.status, cl.card_token, "
    "(SELECT COUNT(*) FROM payment_attempts a WHERE a.subject = 'installment' AND a.sales_id = i.sales_id "
    " AND a.line_no = i.line_no AND a.seq = i.seq AND a.operation = 'capture') AS attempts, "
    "(SELECT COUNT(*) FROM payment_attempts a WHERE a.subject = 'installment' AND a.sales_id = i.sales_id "
    " AND a.line_no = i.line_no AND a.seq = i.seq AND a.status = 'approved') AS approved_attempts, "
    "(SELECT COUNT(*) FROM payment_attempts a JOIN test_gateway_ledger g ON g.idempotency_key = a.idempotency_key "
    " WHERE a.subject = 'installment' AND a.sales_id = i.sales_id AND a.line_no = i.line_no AND a.seq = i.seq "
    " AND g.operation = 'capture') AS ledger_captures, "
    "(SELECT COUNT(*) FROM payment_attempts a JOIN test_gateway_ledger g ON g.idempotency_key = a.idempotency_key "
    " WHERE a.subject = 'installment' AND a.sales_id = i.sales_id AND a.line_no = i.line_no AND a.seq = i.seq "
    " AND g.operation = 'capture' AND g.outcome = 'approved') AS approved_captures "
    "FROM installments i JOIN continuity_lines cl ON cl.sales_id = i.parent_sales_id "
    "AND cl.line_no = i.parent_line_no"
)


def problems(app: App, gateway: FaultyGateway, limit: int, as_of: date) -> dict[str, int]:
    """Every way the payment records can disagree with the gateway's ledger; all must be 0."""
    found: Counter[str] = Counter()
    # (1) at most one approved capture in the ledger per installment (sales_id, line_no, seq), under any key
    found["installments with more than one approved capture in the ledger"] = _scalar(
        app,
        (
            "SELECT COUNT(*) FROM (SELECT a.sales_id, a.line_no, a.seq FROM test_gateway_ledger g "
            "JOIN payment_attempts a ON a.idempotency_key = g.idempotency_key "
            "WHERE g.operation = 'capture' AND g.outcome = 'approved' "
            "GROUP BY a.sales_id, a.line_no, a.seq HAVING COUNT(*) > 1) d"
        ),
    )
    # (2) every call reused an attempt's key: the ledger holds no key payment_attempts does not have …
    found["ledger keys that no attempt has (charged under a new key)"] = _scalar(app, LEDGER_KEYS_WITHOUT_ATTEMPT)
    found["ledger amount, card or operation differs from its attempt"] = _scalar(
        app, LEDGER_DIFFERS_FROM_ATTEMPT + " OR g.operation <> a.operation"
    )
    # … no installment has two approved attempts, and a new attempt (a new key) only ever follows a
    # definite decline: never an attempt whose outcome was unknown or pending
    found["installments with two approved attempts"] = _scalar(
        app,
        (
            "SELECT COUNT(*) FROM (SELECT sales_id, line_no, seq FROM payment_attempts WHERE subject = 'installment' "
            "AND status = 'approved' GROUP BY sales_id, line_no, seq HAVING COUNT(*) > 1) d"
        ),
    )
    found["a later attempt after one that was not declined"] = _scalar(
        app,
        (
            "SELECT COUNT(*) FROM payment_attempts a JOIN payment_attempts b ON b.subject = a.subject "
            "AND b.sales_id = a.sales_id AND b.line_no = a.line_no AND b.seq = a.seq AND b.operation = a.operation "
            "AND b.attempt_no > a.attempt_no WHERE a.subject = 'installment' AND a.status <> 'declined'"
        ),
    )
    found["attempt numbers with gaps"] = _scalar(
        app,
        (
            "SELECT COUNT(*) FROM (SELECT sales_id, line_no, seq, operation FROM payment_attempts "
            "WHERE subject = 'installment' GROUP BY sales_id, line_no, seq, operation "
            "HAVING MAX(attempt_no) <> COUNT(*)) d"
        ),
    )
    # the gateway itself saw only attempt keys (the ledger keeps one row per key, so look at the calls too)
    attempt_keys = {k for (k,) in _rows(app, "SELECT idempotency_key FROM payment_attempts")}
    found["gateway calls under a key no attempt has"] = sum(
        1 for _, key, _, _ in gateway.calls if key not in attempt_keys
    )
    # (3) everything settled, and each installment's status agrees with the ledger
    found["attempts left pending or unknown"] = unresolved(app)
    found["installments left unknown"] = _scalar(app, "SELECT COUNT(*) FROM installments WHERE status = 'unknown'")
    for status, token, attempts, approved_attempts, ledger_captures, approved_captures in _rows(app, _PER_INSTALLMENT):
        behaviour = token.split("_")[2]
        if (status == "paid") != (approved_captures == 1):
            found["paid but not exactly one approved capture in the ledger, or the other way round"] += 1
        if approved_captures != approved_attempts:
            found["approved attempts differ from approved ledger captures"] += 1
        if attempts > ledger_captures:
            found["attempts that never reached the gateway"] += 1
        # (4) a declining card (a soft decline) is tried at most once and then once per scheduled retry
        # (``limit``: the dunning schedule's retries), and never charged
        if behaviour == "decline":
            if ledger_captures > limit + 1 or attempts > limit + 1:
                found["declining card tried more than once and then once per scheduled retry"] += 1
            if approved_captures:
                found["declining card charged"] += 1
            if status != "declined" and attempts:
                found["declining card's installment not declined"] += 1
        elif attempts and (status != "paid" or attempts != 1):
            found["approving card not paid with exactly one attempt"] += 1
    found["paid total differs from the approved ledger captures"] = int(
        _scalar(app, "SELECT COALESCE(SUM(amount_minor), 0) FROM installments WHERE status = 'paid'")
        != _scalar(
            app,
            "SELECT COALESCE(SUM(amount_minor), 0) FROM test_gateway_ledger "
            "WHERE operation = 'capture' AND outcome = 'approved'",
        )
    )
    found["children held for a payment with no declined or unknown installment"] = _scalar(
        app,
        (
            "SELECT COUNT(*) FROM sales_orders so WHERE so.status = 'on_hold' AND so.hold_reason IN (:r1, :r2) "
            "AND NOT EXISTS (SELECT 1 FROM installments i WHERE (i.parent_sales_id = so.parent_sales_id "
            "OR i.sales_id = so.sales_id) AND i.status IN ('declined', 'unknown') AND i.due_date <= :d)"
        ),
        r1=PARENT_PAYMENT_HOLD,
        r2=OWN_PAYMENT_HOLD,
        d=as_of,
    )
    found["installments due but never tried"] = _scalar(
        app,
        (
            "SELECT COUNT(*) FROM installments i WHERE i.due_date <= :d AND NOT EXISTS (SELECT 1 FROM payment_attempts a "
            "WHERE a.subject = 'installment' AND a.sales_id = i.sales_id AND a.line_no = i.line_no AND a.seq = i.seq)"
        ),
        d=as_of,
    )
    found["installments not due but tried"] = _scalar(
        app,
        (
            "SELECT COUNT(*) FROM installments i WHERE i.due_date > :d AND EXISTS (SELECT 1 FROM payment_attempts a "
            "WHERE a.subject = 'installment' AND a.sales_id = i.sales_id AND a.line_no = i.line_no AND a.seq = i.seq)"
        ),
        d=as_of,
    )
    return {k: v for k, v in found.items() if v}


def keys_redriven_after_a_lost_request(gateway: FaultyGateway) -> tuple[int, int]:
    """(keys whose request never reached the gateway at least once, those of them sent again under the
    same key and answered): every retry reuses the key."""
    calls = defaultdict(list)
    for _, key, _n, kind in gateway.calls:
        calls[key].append(kind)
    lost = [k for k, kinds in calls.items() if "reset_before" in kinds]
    answered = [k for k in lost if kinds_answered(calls[k])]
    return len(lost), len(answered)


def kinds_answered(kinds: list[str]) -> bool:
    return any(kind in ("", "slow", "timeout_after", "reset_after") for kind in kinds)


# -- the test ----------------------------------------------------------------------------------------------


def test_an_ambiguous_gateway_never_causes_a_double_charge_and_every_unknown_is_resolved(make_faulty):
    app, gateway, clock = make_faulty()
    started = time.monotonic()
    due = generate(app)
    with app.uow() as uow:
        limit = len(uow.setup.parameters().retry_days)

    nights = run_nights(app, clock)

    last = nights[-1]["as_of"]
    assert problems(app, gateway, limit, last) == {}
    # the janitor schedule: an attempt in doubt is settled by the reconcile run of its night or of one
    # of the next two (each re-drive of a request that never arrived can be lost again)
    assert max(n["oldest_unresolved_days"] for n in nights) <= 2, nights
    assert len(nights) <= LAST_RETRY_DAY + 3, nights
    # every fault path was taken, on the first calls and on re-drives
    assert all(gateway.fired[kind] for kind in FAULTS), gateway.fired
    first_night = nights[0]
    assert first_night["new_attempts"] >= 1900 and first_night["created"] == 2000, nights
    assert sum(first_night["charged"][k] for k in ("approved", "declined", "unknown")) == first_night["new_attempts"]
    assert first_night["charged"]["unknown"] >= 100  # ~10%: timed out after the charge, or connection reset
    assert sum(n["reconciled"]["approved"] for n in nights) >= 100  # found at the gateway by lookup
    lost, redriven = keys_redriven_after_a_lost_request(gateway)
    assert lost >= 20 and redriven == lost  # every lost request was sent again under its own key
    assert sum(1 for k, n in gateway.sent.items() if n > 1) >= lost
    # declines: retried on the same card on the dunning schedule's days (then left alone)
    exhausted = _scalar(
        app,
        (
            "SELECT COUNT(*) FROM (SELECT sales_id, line_no, seq FROM payment_attempts WHERE subject = 'installment' "
            "AND operation = 'capture' GROUP BY sales_id, line_no, seq HAVING COUNT(*) = :n) d"
        ),
        n=limit + 1,
    )
    assert exhausted >= 80
    assert _scalar(app, "SELECT COUNT(*) FROM installments WHERE status = 'paid'") >= 1800
    assert _scalar(app, "SELECT COUNT(*) FROM installments WHERE due_date <= :d", d=last) == due == 2000
    print(
        f"\nR3 on {app.engine.dialect.name}: {due} installments, {len(nights)} nights, {len(gateway.calls)} "
        f"gateway calls, faults {dict(gateway.fired)}, {time.monotonic() - started:.1f} s"
    )


@pytest.mark.parametrize(
    "profile",
    [
        pytest.param({"lookup_rate": 0.1}, id="lookups-time-out-or-are-reset"),
        pytest.param(
            {
                "rates": {
                    "timeout_after": 0.03,
                    "reset_before": 0.02,
                    "reset_after": 0.02,
                    "slow": 0.01,
                    "bug_before": 0.02,
                    "bug_after": 0.02,
                }
            },
            id="client-raises-RuntimeError",
        ),
    ],
)
def test_failed_lookups_and_gateway_client_bugs_leave_answers_unknown_and_later_nights_settle_them(
    make_faulty, profile
):
    """Lookups (reconcile-payments asking what became of a key) that time out or are reset, and a
    gateway client raising something other than a network error (a RuntimeError: a bug in its SDK,
    before or after the request went out): the outcome is unknown, the job run goes on with the other
    attempts and succeeds, and a later reconcile settles it under the same key — the same invariants."""
    app, gateway, clock = make_faulty(**profile)
    generate(app, trilogy=300, replenish=150)
    with app.uow() as uow:
        limit = len(uow.setup.parameters().retry_days)

    nights = run_nights(app, clock)

    assert problems(app, gateway, limit, nights[-1]["as_of"]) == {}
    expected = FAULTS + (("lookup_timeout", "lookup_reset") if "lookup_rate" in profile else BUGS)
    assert all(gateway.fired[kind] for kind in expected), gateway.fired
    assert _scalar(app, "SELECT COUNT(*) FROM job_runs WHERE status <> 'succeeded'") == 0
    assert _scalar(app, "SELECT COUNT(*) FROM installments WHERE status = 'paid'") >= 500


def test_a_key_whose_every_call_raises_stays_unknown_without_blocking_the_other_attempts(make_faulty):
    """A gateway client that always raises for one request (a RuntimeError before it goes out, on the
    first call and on every re-drive): that one attempt stays unknown (for a person to look at), while
    every other attempt — before and after it in the claim and key order — is charged and settled,
    and no job run fails."""
    app, gateway, clock = make_faulty(rates={"timeout_after": 0.05, "reset_before": 0.05})
    generate_due_parents(
        app.engine,
        120,
        AS_OF,
        program_id="REPLENISH",
        prefix="R",
        due_occurrences=2,
        future_occurrences=4,
        decline_every=19,
    )
    poison = "installment:SO-R00000007:1:1:capture:1"
    drawn = gateway.fault
    gateway.fault = lambda key, n: "bug_before" if key == poison else drawn(key, n)  # type: ignore[method-assign]

    for k in range(6):
        clock.night(add_days(AS_OF, k))
        deps = app.job_deps(stale_after_seconds=STALE_AFTER)
        run_job(deps, "process-payments", JobRequest(clock.day, chunk_size=50))
        clock.wait(STALE_AFTER + 1)
        run_job(deps, "reconcile-payments", JobRequest(clock.day, chunk_size=50))

    assert gateway.sent[poison] == 1 + 6 and poison not in {
        k for (k,) in _rows(app, "SELECT idempotency_key FROM test_gateway_ledger")
    }
    assert _rows(
        app, "SELECT idempotency_key, status FROM payment_attempts WHERE status IN ('pending', 'unknown')"
    ) == [(poison, "unknown")]
    assert _rows(app, "SELECT status FROM installments WHERE sales_id = 'SO-R00000007' ORDER BY seq") == [
        ("unknown",),
        ("paid",),
        ("not_submitted",),
    ]
    assert _scalar(app, "SELECT COUNT(*) FROM job_runs WHERE status <> 'succeeded'") == 0
    assert gateway.fired["reset_before"] and gateway.fired["timeout_after"]
    everything_else = {
        k: v
        for k, v in problems(app, gateway, 3, clock.day).items()
        if k not in ("attempts left pending or unknown", "installments left unknown")
    }
    assert everything_else == {
        "attempts that never reached the gateway": 1,  # the poisoned one …
        "approving card not paid with exactly one attempt": 1,
    }  # … still unknown
    assert _scalar(app, "SELECT COUNT(*) FROM installments WHERE status = 'paid'") == 2 * 120 - 2 * 6 - 1
