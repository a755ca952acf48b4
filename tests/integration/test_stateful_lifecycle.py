"""R8 (RELIABILITY-REFERENCE §2): a Hypothesis stateful model test of the order life cycle with the
batch jobs, on SQLite (each example starts from a copy of one migrated database holding the demo data).

Rules (the services the CLI and the API call): enter an order (book club 88000 paid per shipment or in
three installments, trilogy 0016 per shipment, replenishment 0021 billed up front in three installments;
a card that approves, declines or times out) and, when the card was declined, submit it again with
another; on a random open or held parent: skip an open occurrence, reschedule one, pause from a date,
resume on a date, change the card (approve, decline, time out), cancel (today or from a later date);
a merchandiser changes a book-club price and continuity-update runs; a tax rate changes from a day
(Norway or the Netherlands, books or food; sometimes the book club's shipping charge too) and
tax-rate-change runs, its dry run first; advance the business date 1-40
days and run the nightly sequence (run_all with fulfil) once for the new day or for each day; crash a
worker in the middle of a nightly with small chunks (create-child-orders dies inside a chunk's
transaction; process-payments at its k-th gateway call, before or after the gateway acted; a chunk's
answers not recorded), by an exception the job catches (run ``failed``) or a "SIGKILL" it cannot (run
left ``running`` until the reaper marks it ``abandoned``); run the nightly twice for one as_of.

Invariants, after every step (SQL on the database, plus what the model remembers):
- at most one child line per (parent line, seq); an occurrence is child_created/invoiced exactly when
  a child line points at it, its child_sales_id is that existing child of its own parent, and it is
  invoiced exactly when that child is; no child without lines; skipped, cancelled, paused and pending
  occurrences have no child; no child is created before its occurrence is due (ship − lead days);
- skipped occurrences stay skipped; occurrences held by a pause get no child while it lasts, nor one
  created before the resume; after a cancel, new children only for occurrences shipping before the
  cancel date, and every open occurrence from that date on is cancelled;
- money, to the cent: every ledger row is one of our attempts (key, operation, card, amount); no
  installment has two approved captures; an installment with no charge in flight is paid exactly when
  the ledger holds one approved capture for it, of its amount, so Σ paid = Σ approved captures (settled);
  refunds leave installments paid, so the ledger's refunds are checked against the model instead: each
  cancel refunds exactly paid − kept (kept: shipped, created or still shipping before the cancel date),
  hence net collected = Σ paid − Σ those refunds; after a cancel nothing more is captured for the parent
  than it still owed then;
- job runs: only crashed runs are failed/abandoned/running, and a killed one stays running only until a
  later run starts after its heartbeat went stale (the reaper, services/jobs/liveness.py);
- a closed parent has nothing left to ship or pay;
- taxes: each unsettled child line's tax is the rate table's, half-up per line; a child's own charge is
  its total; an order's tax is Σ line tax; an open installment-billed parent's installments sum to its
  total to the cent.
After every nightly that ran to its end (``caught_up``): no due occurrence of an open parent left
pending, no orphaned attempt old enough for reconcile-payments left pending, no due charge unclaimed,
every paid child whose date has come shipped and invoiced. A second nightly for the same as_of (once
nothing is in flight) leaves the work tables exactly as they were.

What it found (fixed; ``test_what_the_machine_found_stays_fixed`` replays it, shrunk, and
test_installment_charge_in_flight.py pins it at the service level): a worker dying between committing
an installment's charge attempt and recording the answer left the installment 'not_submitted'; a skip,
a cancel or continuity-update then re-shared, lowered or cancelled it, and reconcile-payments recorded
the capture of the attempt's (old) amount: paid 6.78 in the books, 9.83 taken at the gateway.

Budget: CONTINUITY_STATEFUL_EXAMPLES (default 20) examples of CONTINUITY_STATEFUL_STEPS (default 15)
steps, derandomized, no example database: the same examples on every machine (about 40 s on 2 cores).
Bigger, other examples locally: ``CONTINUITY_STATEFUL_EXAMPLES=500 CONTINUITY_STATEFUL_STEPS=25
CONTINUITY_STATEFUL_SEED=7`` (a seed turns derandomize off). ``pytest -s`` prints what the steps did.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    initialize,
    invariant,
    precondition,
    rule,
)
from jobs_support import (
    APPROVE,
    CAPTURES_ON_ANOTHER_CARD,
    DECLINE,
    START,
    TIMEOUT,
    WORK_TABLES,
    demo_programs,
    open_authorizations,
    rows,
    set_up,
    snapshot,
)

import continuity.adapters.batch.child_orders as child_orders_sql
from continuity.adapters.migrate import upgrade
from continuity.adapters.test_gateway_ledger import create_ledger
from continuity.bootstrap import App, bootstrap
from continuity.config import Settings
from continuity.domain.audit import Actor, ActorKind
from continuity.domain.dunning import HARD_CODES as HARD
from continuity.domain.dunning import DunningPolicy
from continuity.domain.errors import DomainError, ValidationFailed
from continuity.domain.holds import BUILT_IN, HoldKind
from continuity.domain.tax import ChargeKind, ShippingCharge, TaxRate, parse_rate, tax_minor
from continuity.services import holds, order_entry, payment_entry, payment_review, returns, servicing, taxes, views
from continuity.services.demo import load_demo
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import NIGHTLY, run_job
from continuity.services.servicing import Change

EXAMPLES = int(os.environ.get("CONTINUITY_STATEFUL_EXAMPLES", "20"))
STEPS = int(os.environ.get("CONTINUITY_STATEFUL_STEPS", "15"))
SEED = os.environ.get("CONTINUITY_STATEFUL_SEED")

LEAD_DAYS = 5  # demo parameter delivery_lead_days
RECONCILE_AFTER = timedelta(seconds=60)  # JobDeps.stale_after_seconds: a pending attempt older than this is looked up
STALE_RUN = timedelta(minutes=15)  # CONTINUITY_JOB_STALE_MINUTES: a running run with no heartbeat is abandoned
ANN = Actor("agent-ann", ActorKind.AGENT)
ALL_TABLES = (*WORK_TABLES, "continuity_lines", "schedule_adjustments", "audit_entries", "cards", "payments")
#: the manual hold codes (an order held by hand is not charged; its new children are made on hold), as SQL
MANUAL_CODES = ", ".join(f"'{c.code}'" for c in BUILT_IN if c.kind == HoldKind.MANUAL)
SEQUENCE = (
    NIGHTLY[: NIGHTLY.index("invoice-shipped")] + ["fulfil-children"] + NIGHTLY[NIGHTLY.index("invoice-shipped") :]
)
ACCOUNTS = ("004007", "004011", "004020")
#: item, payment schedule: book club per shipment / in three installments, trilogy per shipment,
#: replenishment billed up front in three installments
PRODUCTS = (("88000", None), ("88000", "3X"), ("0016", None), ("0021", "3X"))
CARDS = (APPROVE, APPROVE, DECLINE, TIMEOUT)
#: the decline classes (domain/dunning.py) a changed card may have: insufficient funds (soft), lost (hard)
NO_FUNDS, LOST = "4000000000009995", "4000000000009987"
#: a card's retry budget (the default parameters): retries of all its orders in BUDGET_DAYS
BUDGET, BUDGET_DAYS = DunningPolicy().card_budget, DunningPolicy().budget_days
HARD_CODES = ", ".join(f"'{c.value}'" for c in sorted(HARD))  # never retried: the card is charged no more
HISTORY = ("child_created", "invoiced")
OPEN = ("pending", "paused")


#: What the examples did (printed at the end of the test: ``pytest -s`` shows it).
SEEN: Counter[str] = Counter()


def event(what: str) -> None:
    with contextlib.suppress(InvalidArgument):  # a replay below runs outside Hypothesis
        hypothesis_event(what)
    SEEN[what] += 1


class WorkerKilled(BaseException):
    """A worker killed outright (SIGKILL): nothing in the job can catch it, its run stays 'running'."""


class SimClock:
    """The business date the test moves, and an instant that starts at 01:00 UTC of that date and
    moves 1 ms per reading (so attempts and heartbeats get ordered times), plus what ``wait`` adds."""

    def __init__(self, day: date) -> None:
        self.day = day
        self.instant = datetime.combine(day, time(1), UTC)

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        self.instant = max(self.instant + timedelta(milliseconds=1), datetime.combine(self.day, time(1), UTC))
        return self.instant

    def wait(self, delta: timedelta) -> None:
        self.instant += delta


class FaultyGateway:
    """The real test connector, except that its ``fail_at``-th charge call (authorize/capture) raises:
    before the gateway saw it (``after`` False) or once the gateway has acted on it (``after`` True)."""

    def __init__(self, inner, fail_at: int, after: bool, exc: BaseException) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.fail_at, self.after, self.exc, self.calls, self.fired = inner, fail_at, after, exc, 0, False

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)

    def _charge(self, name: str, *args):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == self.fail_at:
            self.fired = True
            if self.after:
                getattr(self.inner, name)(*args)
            raise self.exc
        return getattr(self.inner, name)(*args)

    def authorize(self, *args):  # type: ignore[no-untyped-def]
        return self._charge("authorize", *args)

    def capture(self, *args):  # type: ignore[no-untyped-def]
        return self._charge("capture", *args)


class FaultyPayments:
    """The payment store, except that recording a chunk's gateway answers raises (the gateway has
    acted, nothing of it is written: the attempts stay 'pending')."""

    def __init__(self, inner, exc: BaseException) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.exc, self.fired = inner, exc, False

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)

    def record_outcomes(self, outcomes, as_of, policy=None):  # type: ignore[no-untyped-def]
        if not outcomes:
            return self.inner.record_outcomes(outcomes, as_of, policy)
        self.fired = True
        raise self.exc


class FaultyChildOrders:
    """The child-order store, except that its ``fail_at``-th chunk dies inside its transaction, after
    the children, their lines and charges were inserted and the occurrences marked (all rolled back)."""

    def __init__(self, inner, fail_at: int, exc: BaseException) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.fail_at, self.exc, self.calls, self.fired = inner, fail_at, exc, 0, False

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)

    def create_chunk(self, q, after, now):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls != self.fail_at:
            return self.inner.create_chunk(q, after, now)
        real, outer = child_orders_sql._mark_occurrences, self

        def dying(conn) -> None:  # type: ignore[no-untyped-def]
            real(conn)
            outer.fired = True
            raise outer.exc

        child_orders_sql._mark_occurrences = dying
        try:
            return self.inner.create_chunk(q, after, now)
        finally:
            child_orders_sql._mark_occurrences = real


def _day(value) -> date:  # type: ignore[no-untyped-def]
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def _instant(value) -> datetime:  # type: ignore[no-untyped-def]
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


@dataclass
class Parent:
    sales_id: str
    item: str
    schedule: str | None
    pay_per_shipment: bool
    pauses: list[dict] = field(default_factory=list)  # {"day", "held": seqs, "resumed": day | None}
    skipped: set[int] = field(default_factory=set)
    cancel: dict | None = None


class LifecycleMachine(RuleBasedStateMachine):
    TEMPLATE = ""  # a migrated SQLite file with the demo data (set by the test)
    WORKDIR = ""

    def __init__(self) -> None:
        super().__init__()
        self.path = os.path.join(self.WORKDIR, f"{uuid.uuid4().hex}.db")
        shutil.copyfile(self.TEMPLATE, self.path)
        self.clock = SimClock(START)
        self.app: App = bootstrap(Settings(f"sqlite:///{self.path}", None, None), clock=self.clock)
        self.parents: list[Parent] = []
        self.crashed_runs: set[int] = set()  # runs that raised (failed) or were killed (left running)
        self.held: dict[str, tuple[str, datetime]] = {}  # parents held by hand: code, when
        self.agent_attempts: set[str] = set()  # the attempt keys of the agents' retries

    def teardown(self) -> None:
        self.app.engine.dispose()
        if os.path.exists(self.path):
            os.remove(self.path)

    # -- helpers ------------------------------------------------------------------------------------
    def q(self, statement: str, **params) -> list[tuple]:  # type: ignore[no-untyped-def]
        return rows(self.app, statement, **params)

    def deps(self):  # type: ignore[no-untyped-def]
        return self.app.job_deps(stale_after_seconds=int(RECONCILE_AFTER.total_seconds()))

    def nightly(self, as_of: date, deps=None, chunk_size: int = 2000) -> None:  # type: ignore[no-untyped-def]
        """run_all(fulfil=True), job by job (so that a crash stops the sequence where it happens)."""
        deps = deps or self.deps()
        for name in SEQUENCE:
            record = run_job(deps, name, JobRequest(as_of, chunk_size=chunk_size))
            assert record["status"] == "succeeded", record

    def set_day(self, day: date) -> None:
        assert day >= self.clock.day
        self.clock.day = day

    def serviceable(self) -> list[Parent]:
        """Open or held parents whose line is open or paused and not cancelled (what servicing takes)."""
        ok = {
            r[0]
            for r in self.q(
                "SELECT so.sales_id FROM sales_orders so JOIN continuity_lines cl ON cl.sales_id = so.sales_id "
                "WHERE so.is_continuity_parent AND so.status IN ('open', 'on_hold') AND cl.status = 'open'"
            )
        }
        return [p for p in self.parents if p.sales_id in ok and p.cancel is None]

    def apply(self, parent: Parent, change: Change, allowed: tuple[str, ...] = ()) -> dict | None:
        """Apply a servicing change; a refusal must carry an expected code and write nothing."""
        before = snapshot(self.app, ALL_TABLES)
        try:
            result = servicing.apply(self.app.uow, self.app.gateway, self.clock, parent.sales_id, change, ANN)
        except DomainError as exc:
            assert exc.code in allowed, (change, exc.code, exc.message)
            assert snapshot(self.app, ALL_TABLES) == before, f"the refused {change.kind} wrote something"
            event(f"{change.kind} refused: {exc.code}")
            return None
        event(f"{change.kind} applied")
        return result

    def occurrences(self, sales_id: str) -> list[tuple]:
        return self.q(
            "SELECT seq, status, ship_date, price_minor * quantity, child_sales_id FROM schedule_occurrences "
            "WHERE sales_id = :s ORDER BY seq",
            s=sales_id,
        )

    def in_flight(self) -> int:
        """Attempts whose outcome the next run will look up: unknown ones, and pending ones a crash left
        behind that are old enough for reconcile-payments (a young one is left alone: it may be a live
        worker's)."""
        soon_stale = self.clock.instant - RECONCILE_AFTER + timedelta(seconds=10)
        return len(
            [
                r
                for r in self.q(
                    "SELECT status, created_at FROM payment_attempts WHERE status IN ('pending', 'unknown')"
                )
                if r[0] == "unknown" or _instant(r[1]) < soon_stale
            ]
        )

    # -- order entry --------------------------------------------------------------------------------
    def enter(
        self, product: tuple[str, str | None], card: str, account: str, start: int | None, mixed: bool = False
    ) -> None:
        """An agent takes the order: new order with the parent item (``mixed``: and a normal item beside
        it, 0013 × 2), a card payment, submit."""
        item, schedule = product
        start_date = None if start is None else self.clock.today() + timedelta(days=start)
        orders = self.q("SELECT COUNT(*) FROM sales_orders")
        try:
            sales_id = order_entry.create_order_with_line(
                self.app.uow, self.clock, account, item, start_date=start_date, payment_schedule_id=schedule
            )
        except ValidationFailed as refused:  # later in the program fewer shipments are left than installments
            assert refused.code == "installments_after_last_shipment" and schedule is not None, refused
            assert self.q("SELECT COUNT(*) FROM sales_orders") == orders  # nothing half-written
            event(f"order refused: {item}/{schedule} {refused.code}")
            return
        if mixed:
            order_entry.add_line(self.app.uow, sales_id, "0013", 2)
        payment_entry.add_card_payment(self.app.uow, self.app.gateway, self.clock, sales_id, card, "12/30")
        result = payment_entry.submit(self.app.uow, self.app.gateway, self.clock, sales_id)
        expected = {APPROVE: "open", DECLINE: "on_hold", TIMEOUT: "on_hold"}[card]
        assert result.status == expected, result
        self.parents.append(Parent(sales_id, item, schedule, schedule is None and item != "0021"))
        event(f"order entered: {item}/{schedule or '-'} {result.status}")

    @initialize(orders=st.lists(st.tuples(st.sampled_from(PRODUCTS), st.sampled_from(CARDS)), min_size=1, max_size=3))
    def first_orders(self, orders) -> None:  # type: ignore[no-untyped-def]
        for k, (product, card) in enumerate(orders):
            self.enter(product, card, ACCOUNTS[k % len(ACCOUNTS)], None)

    @precondition(lambda self: len(self.parents) < 5)
    @rule(
        product=st.sampled_from(PRODUCTS),
        card=st.sampled_from(CARDS),
        account=st.sampled_from(ACCOUNTS),
        start=st.sampled_from([None, None, -20, 10]),
        mixed=st.booleans(),
    )
    def enter_order(self, product, card, account, start, mixed) -> None:  # type: ignore[no-untyped-def]
        self.enter(product, card, account, start, mixed)

    def declined_on_hold(self) -> list[Parent]:
        held = {
            r[0]
            for r in self.q(
                "SELECT so.sales_id FROM sales_orders so WHERE so.status = 'on_hold' AND so.is_continuity_parent "
                "AND so.hold_code = 'payment_declined' "  # not an order held by hand
                "AND EXISTS (SELECT 1 FROM payments p WHERE p.sales_id = so.sales_id AND p.status = 'declined') "
                "AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.sales_id = so.sales_id "
                "AND p.status IN ('unknown', 'not_submitted'))"
            )
        }
        return [p for p in self.parents if p.sales_id in held]

    @precondition(lambda self: self.declined_on_hold())
    @rule(pick=st.integers(0, 63))
    def submit_again_with_another_card(self, pick) -> None:  # type: ignore[no-untyped-def]
        """A held order whose card was declined: the agent adds another card and submits again."""
        parents = self.declined_on_hold()
        parent = parents[pick % len(parents)]
        payment_entry.add_card_payment(self.app.uow, self.app.gateway, self.clock, parent.sales_id, APPROVE, "11/31")
        result = payment_entry.submit(self.app.uow, self.app.gateway, self.clock, parent.sales_id)
        assert result.status == "open", result
        event("resubmitted with another card")

    # -- servicing ----------------------------------------------------------------------------------
    def options(self) -> list[tuple[str, Parent, list[int]]]:
        """Every (change, parent, seqs) that servicing may take now: skip an open occurrence, change card,
        cancel; resume a paused parent; pause one that is not, or reschedule its first pending occurrence."""
        found = []
        for p in self.serviceable():
            occ = self.occurrences(p.sales_id)
            open_ = [seq for seq, status, *_ in occ if status in OPEN]
            pending = [seq for seq, status, *_ in occ if status == "pending"]
            paused = bool(p.pauses) and p.pauses[-1]["resumed"] is None
            found += [("skip", p, open_)] * bool(open_) + [("change_card", p, []), ("cancel", p, [])]
            # while paused, only skip, change card, cancel and resume apply (README)
            if paused:
                found.append(("resume", p, []))
            else:
                found += [("pause", p, [])] + [("reschedule", p, pending)] * bool(pending)
        return found

    @precondition(lambda self: self.serviceable())
    @rule(
        kind=st.sampled_from(["skip", "pause", "change_card", "cancel", "resume", "reschedule"]),
        pick=st.integers(0, 63),
        arg=st.integers(0, 3),
        card=st.sampled_from([APPROVE, DECLINE, TIMEOUT, NO_FUNDS, LOST, LOST]),
        following=st.booleans(),
    )
    def service(self, kind, pick, arg, card, following) -> None:  # type: ignore[no-untyped-def]
        """An agent changes a parent on a call. ``kind`` is taken when the order allows it, else the
        ``pick``-th change it does allow; ``arg`` picks the occurrence, the date or the shift."""
        options = self.options()
        wanted = [o for o in options if o[0] == kind] or options
        kind, parent, seqs = wanted[pick % len(wanted)]
        today = self.clock.today()
        if kind == "skip":
            seq = seqs[min(arg, len(seqs) - 1)]
            if self.apply(parent, Change("skip", seq=seq, reason="away that month")) is not None:
                parent.skipped.add(seq)
        elif kind == "reschedule":
            self.apply(
                parent,
                Change("reschedule", seq=seqs[0], days=(1, 7, 20, 3)[arg], following=following),
                allowed=("reschedule_out_of_order", "date_in_past"),
            )
        elif kind == "pause":
            if (
                self.apply(
                    parent,
                    Change("pause", on=today + timedelta(days=(0, 3, 15, 40)[arg])),
                    allowed=("nothing_pending",),
                )
                is not None
            ):
                held = {seq for seq, status, *_ in self.occurrences(parent.sales_id) if status == "paused"}
                parent.pauses.append({"day": today, "held": held, "resumed": None})
        elif kind == "resume":
            if self.apply(parent, Change("resume", on=today + timedelta(days=(0, 5, 30, 1)[arg]))) is not None:
                parent.pauses[-1]["resumed"] = today
                assert not [s for s, status, *_ in self.occurrences(parent.sales_id) if status == "paused"]
        elif kind == "change_card":
            self.apply(parent, Change("change_card", card_number=card, expiry="10/30"))
        else:
            self.cancel(parent, (None, None, 10, 45)[arg])

    def cancel(self, parent: Parent, offset: int | None) -> None:
        """Cancel from today (or a later date); the refund must be what was paid and not kept (shipped,
        created or still to ship before the cancel date), to the cent."""
        on = None if offset is None else self.clock.today() + timedelta(days=offset)
        before = self.before_cancel(parent)
        result = self.apply(
            parent, Change("cancel", on=on, reason="no more, thanks"), allowed=("payment_outcome_unknown",)
        )
        if result is None:
            return
        self.cancelled(parent, before, None if result["refund"] is None else int(round(float(result["refund"]) * 100)))

    def before_cancel(self, parent: Parent) -> tuple[int, set[int], int]:
        """What a cancel's refund is checked against: paid, the shipped occurrences, the last attempt."""
        sid = parent.sales_id
        paid = self.q(
            "SELECT COALESCE(SUM(amount_minor), 0) FROM installments WHERE sales_id = :s AND status = 'paid'", s=sid
        )[0][0]
        history = {seq for seq, status, *_ in self.occurrences(sid) if status in HISTORY}
        watermark = self.q("SELECT COALESCE(MAX(attempt_id), 0) FROM payment_attempts")[0][0]
        return paid, history, watermark

    def cancelled(self, parent: Parent, before: tuple[int, set[int], int], got: int | None) -> None:
        """The model of a cancel just made (by an agent, or by a return under cancel_remaining): its refund
        ``got`` is what was paid and not kept, to the cent."""
        sid = parent.sales_id
        paid, history, watermark = before
        cancel_from = _day(
            self.q("SELECT pause_from FROM schedule_adjustments WHERE sales_id = :s AND kind = 'cancel'", s=sid)[0][0]
        )
        after = self.occurrences(sid)
        kept = self.kept(sid)
        for seq, status, ship, _, _ in after:
            if _day(ship) >= cancel_from and seq not in history:
                assert status in ("cancelled", "skipped"), (sid, seq, status, cancel_from)
        expected_refund = None if parent.pay_per_shipment or paid <= kept else paid - kept
        assert got == expected_refund, (sid, got, paid, kept)
        children = {r[0] for r in self.q("SELECT sales_id FROM sales_orders WHERE parent_sales_id = :s", s=sid)}
        parent.cancel = {
            "day": self.clock.today(),
            "from": cancel_from,
            "children": children,
            "paid": paid,
            "kept": kept,
            "refund": expected_refund or 0,
            "watermark": watermark,
        }

    def kept(self, sales_id: str) -> int:
        """What the continuity line still costs in all, in cents: the shipments kept (shipped, created or still
        to ship), each with its shipping charge and tax (the tax invariant checks those per shipment)."""
        view = views.order_view(self.app.uow, sales_id)
        return int(sum(Decimal(ln["total"]) for ln in view["lines"] if ln["continuity"]) * 100)

    def owed_after_cancel(self, parent: Parent) -> int:
        """What a cancelled parent may still capture: what it keeps less what was paid at the cancel (a rate
        change after it re-prices the kept shipments not shipped yet, so it is read now)."""
        assert parent.cancel is not None
        return 0 if parent.pay_per_shipment else max(self.kept(parent.sales_id) - parent.cancel["paid"], 0)

    # -- returns ------------------------------------------------------------------------------------
    def returnable(self) -> list[tuple[str, str, int, int, int]]:
        """(child, parent, line, shipped, returned) of every invoiced child order line of our parents."""
        return self.q(
            "SELECT so.sales_id, so.parent_sales_id, sl.line_no, sl.quantity, COALESCE((SELECT SUM(cl.quantity) "
            "FROM credit_note_lines cl JOIN credit_notes cn ON cn.credit_note_id = cl.credit_note_id "
            "WHERE cn.sales_id = so.sales_id AND cl.line_no = sl.line_no), 0) "
            "FROM sales_orders so JOIN sales_lines sl ON sl.sales_id = so.sales_id "
            "WHERE so.status = 'invoiced' AND so.parent_sales_id IS NOT NULL ORDER BY so.sales_id, sl.line_no"
        )

    def refundable(self, child: str, parent: str) -> tuple[str, int]:
        """The order a return of ``child`` refunds from (its own approved captures, else its parent's) and what
        it may still refund: approved captures − refunds approved or without an answer yet."""

        def captured(sid: str) -> int:
            return self.q(
                "SELECT COALESCE(SUM(amount_minor), 0) FROM payment_attempts WHERE sales_id = :s "
                "AND operation = 'capture' AND status = 'approved'",
                s=sid,
            )[0][0]

        source = child if captured(child) else parent
        refunded = self.q(
            "SELECT COALESCE(SUM(amount_minor), 0) FROM payment_attempts WHERE sales_id = :s "
            "AND operation = 'refund' AND status IN ('approved', 'pending', 'unknown')",
            s=source,
        )[0][0]
        return source, captured(source) - refunded

    @precondition(lambda self: self.returnable())
    @rule(pick=st.integers(0, 63), more=st.integers(0, 2), reason=st.sampled_from(["DAMAGED", "WRONG_ITEM"]))
    def return_goods(self, pick, more, reason) -> None:  # type: ignore[no-untyped-def]
        """The customer sends goods of a shipped child order back (``more`` 2: one more than is left); the
        program says what follows (TRILOGY replace, REPLENISH cancel_remaining, BOOKCLUB continue). A return
        beyond what shipped, or refunding beyond what the paying order captured, is refused and writes nothing."""
        lines = self.returnable()
        child, parent_id, line, shipped, returned = lines[pick % len(lines)]
        left = shipped - returned
        quantity = left + 1 if more == 2 or left == 0 else max(1, left - more)
        goods, charge, tax, included = self.q(
            "SELECT sl.unit_price_minor * sl.quantity, sl.charge_minor, sl.tax_minor, so.prices_include_tax "
            "FROM sales_lines sl JOIN sales_orders so ON so.sales_id = sl.sales_id "
            "WHERE sl.sales_id = :c AND sl.line_no = :l",
            c=child,
            l=line,
        )[0]
        total = goods + charge + (0 if included else tax)  # the line as charged
        amount = total * (returned + quantity) // shipped - total * returned // shipped
        source, refundable = self.refundable(child, parent_id)
        parent = next((p for p in self.parents if p.sales_id == parent_id), None)
        before_cancel = self.before_cancel(parent) if parent else None
        refunds_before = self.q("SELECT COUNT(*) FROM payment_attempts WHERE subject = 'refund'")[0][0]
        before = snapshot(self.app, (*ALL_TABLES, "credit_notes", "credit_note_lines"))
        request = returns.ReturnRequest(child, line, quantity, reason)
        try:
            result = returns.return_goods(self.app.uow, self.app.gateway, self.clock, request, ANN)
        except DomainError as exc:
            expected = "return_quantity_exceeds_shipped" if quantity > left else "refund_exceeds_captured"
            assert exc.code in (expected, "payment_outcome_unknown"), (child, quantity, left, amount, refundable, exc)
            assert exc.code != "payment_outcome_unknown" or self.program_of(parent_id) == "REPLENISH", exc
            assert snapshot(self.app, (*ALL_TABLES, "credit_notes", "credit_note_lines")) == before
            event(f"return refused: {exc.code}")
            return
        assert quantity <= left and amount <= refundable, (child, quantity, left, amount, refundable)
        assert (result["refund_sales_id"], int(round(float(result["amount"]) * 100))) == (source, amount)
        event(f"return {result['schedule_action']}: refund {result['refund_status']}")
        if result["cancelled"] and parent is not None and before_cancel is not None:
            made = self.q(
                "SELECT amount_minor FROM payment_attempts WHERE subject = 'refund' AND sales_id = :s "
                "ORDER BY attempt_id",
                s=parent_id,
            )
            assert (
                len(made) <= 1
                and refunds_before + len(made)
                == self.q("SELECT COUNT(*) FROM payment_attempts WHERE subject = 'refund'")[0][0]
            )
            self.cancelled(parent, before_cancel, made[0][0] if made else None)

    def program_of(self, parent: str) -> str:
        return self.q("SELECT program_id FROM continuity_lines WHERE sales_id = :s", s=parent)[0][0]

    # -- the merchandiser -----------------------------------------------------------------------------
    @precondition(lambda self: any(p.item == "88000" for p in self.parents))
    @rule(event_no=st.integers(3, 6), price=st.sampled_from(["11.11", "19.99", None]))
    def change_book_club_price(self, event_no, price) -> None:  # type: ignore[no-untyped-def]
        """A merchandiser changes the price of a book-club event (None: back to the book's own price)
        and continuity-update pushes it into pending occurrences and unpaid installments at once."""
        program = demo_programs()["BOOKCLUB"]
        if price is not None:
            program["events"][event_no - 1]["price"] = price
        set_up(self.app, {"programs": [program]}, self.clock.today())
        record = run_job(self.deps(), "continuity-update", JobRequest(self.clock.today()))
        assert record["status"] == "succeeded", record
        event(f"book club price changed, continuity-update: {'changed' if record['counts']['changed'] else 'nothing'}")

    # -- holds and the payment review -----------------------------------------------------------------
    @precondition(lambda self: self.serviceable())
    @rule(pick=st.integers(0, 63), code=st.sampled_from(["fraud_review", "address_check", "customer_request"]))
    def hold_or_clear(self, pick, code) -> None:  # type: ignore[no-untyped-def]
        """An agent puts an open parent on hold with a code and a note, or clears the hold it put on; a
        payment hold is never cleared by hand (refused, nothing written)."""
        parents = self.serviceable()
        parent = parents[pick % len(parents)]
        status, held_code = self.q("SELECT status, hold_code FROM sales_orders WHERE sales_id = :s", s=parent.sales_id)[
            0
        ]
        before = snapshot(self.app, ALL_TABLES)
        if status == "open":
            holds.put_on_hold(self.app.uow, self.clock, parent.sales_id, code, "model: on hold", ANN)
            self.held[parent.sales_id] = (code, self.clock.instant)
            event("held by hand")
        elif parent.sales_id in self.held:
            done = holds.clear_hold(self.app.uow, self.clock, parent.sales_id, "model: cleared", ANN)
            assert done["status"] == "open"
            del self.held[parent.sales_id]
            event("hold cleared")
        else:
            try:
                holds.clear_hold(self.app.uow, self.clock, parent.sales_id, "model: cleared", ANN)
            except DomainError as exc:
                assert exc.code == "hold_code_not_manual" and held_code, (held_code, exc.code)
                assert snapshot(self.app, ALL_TABLES) == before, "a refused clear wrote something"
                event("payment hold not cleared by hand")
            else:
                raise AssertionError(f"a payment hold ({held_code}) was cleared by hand")

    def retryable(self) -> list[tuple[str, int, int]]:
        return [
            (r[0], r[1], r[2])
            for r in self.q(
                "SELECT sales_id, line_no, seq FROM installments WHERE status IN ('declined', 'unknown') "
                "ORDER BY sales_id, line_no, seq"
            )
        ]

    @precondition(lambda self: self.retryable())
    @rule(pick=st.integers(0, 63))
    def agent_retries(self, pick) -> None:  # type: ignore[no-untyped-def]
        """From the payment review an agent retries a declined installment now (or looks up an unknown one):
        claimed as the nightly claims it, so never a second charge of one installment."""
        sales_id, line_no, seq = self.retryable()[pick % len(self.retryable())]
        keys = {r[0] for r in self.q("SELECT idempotency_key FROM payment_attempts")}
        try:
            done = payment_review.retry_now(self.deps(), sales_id, line_no, seq, ANN)
        except DomainError as exc:
            assert exc.code == "installment_not_retryable", exc.code
            assert {r[0] for r in self.q("SELECT idempotency_key FROM payment_attempts")} == keys
            event("agent retry refused")
            return
        self.agent_attempts |= {r[0] for r in self.q("SELECT idempotency_key FROM payment_attempts")} - keys
        event(f"agent retry: {done['action']} {done['outcome']}")

    @invariant()
    def no_retry_after_a_hard_decline_and_no_card_beyond_its_budget(self) -> None:
        """Dunning: a card that answered a hard decline is charged by no later run (nor an agent's retry),
        for any order; no card takes more than its budget of retries in any BUDGET_DAYS."""
        after_hard = self.q(
            "SELECT a.idempotency_key FROM payment_attempts h JOIN payment_attempts a ON a.card_token = h.card_token "
            "AND a.as_of > h.as_of AND a.subject = 'installment' AND a.operation IN ('capture', 'authorize') "
            f"WHERE h.status = 'declined' AND h.decline_code IN ({HARD_CODES})"
        )
        assert not after_hard, f"charged after a hard decline of its card: {after_hard}"
        retries: dict[str, list[date]] = {}
        for token, day in self.q("SELECT card_token, as_of FROM payment_attempts WHERE retry_no > 0"):
            retries.setdefault(token, []).append(_day(day))
        for token, days in retries.items():
            for end in days:
                taken = sum(1 for d in days if end - timedelta(days=BUDGET_DAYS) < d <= end)
                assert taken <= BUDGET, f"card {token[:14]}… took {taken} retries in {BUDGET_DAYS} days to {end}"
        for (code,) in self.q("SELECT DISTINCT decline_code FROM payment_attempts WHERE decline_code <> ''"):
            event(f"declined: {code}")

    @invariant()
    def one_hold_model_and_held_orders_are_not_charged(self) -> None:
        """Every held order names its hold code, and no other order has one; a parent held by hand is charged
        by no job while held (only an agent's retry), and its children made meanwhile are on hold with its code."""
        wrong = self.q(
            "SELECT sales_id, status, hold_code FROM sales_orders WHERE (status = 'on_hold') <> (hold_code <> '')"
        )
        assert not wrong, f"holds without a code, or codes without a hold: {wrong}"
        for sales_id, (code, since) in self.held.items():
            charged = [
                r[0]
                for r in self.q(
                    "SELECT idempotency_key, created_at FROM payment_attempts WHERE sales_id = :s "
                    "AND operation IN ('capture', 'authorize') AND subject = 'installment'",
                    s=sales_id,
                )
                if _instant(r[1]) >= since and r[0] not in self.agent_attempts
            ]
            assert not charged, f"{sales_id} held by hand ({code}) and charged by a job: {charged}"
            made = [
                (r[0], r[1], r[2])
                for r in self.q(
                    "SELECT sales_id, status, hold_code, created_at FROM sales_orders WHERE parent_sales_id = :s",
                    s=sales_id,
                )
                if _instant(r[3]) >= since
            ]
            assert all(status == "on_hold" and held == code for _, status, held in made), (sales_id, code, made)

    @rule(
        region=st.sampled_from(["NO", "NL"]),
        group=st.sampled_from(["books", "food"]),
        rate=st.sampled_from(["0", "6", "12.5", "25"]),
        offset=st.sampled_from([0, 10, 40]),
        shipping=st.sampled_from([None, ("per_order", 250), ("per_unit", 75), ("none", 0)]),
    )
    def change_tax_rate(self, region, group, rate, offset, shipping) -> None:  # type: ignore[no-untyped-def]
        """A rate changes from a day (and sometimes the book club's shipping charge): the tax-rate-change
        dry run writes nothing, then its run re-prices the open orders (unpaid installments re-shared)."""
        valid_from = self.clock.today() + timedelta(days=offset)
        taxes.set_tax_rate(self.app.uow, TaxRate(group, region, parse_rate(rate), valid_from))
        if shipping is not None:
            charge = ShippingCharge(ChargeKind(shipping[0]), shipping[1])
            taxes.set_program_shipping(self.app.uow, "BOOKCLUB", charge, self.clock.today())
        before = snapshot(self.app, ALL_TABLES)
        dry = run_job(self.deps(), "tax-rate-change", JobRequest(self.clock.today(), dry_run=True))
        assert dry["status"] == "succeeded" and snapshot(self.app, ALL_TABLES) == before, dry
        record = run_job(self.deps(), "tax-rate-change", JobRequest(self.clock.today()))
        assert record["status"] == "succeeded" and record["counts"] == dry["counts"], (record, dry)
        event(f"tax rate changed: {'orders re-priced' if record['counts']['orders'] else 'nothing to change'}")

    # -- the clock and the batch jobs ------------------------------------------------------------------
    @rule(days=st.integers(1, 40), every_day=st.booleans())
    def advance_and_run_nightly(self, days, every_day) -> None:  # type: ignore[no-untyped-def]
        """Move the business date on and run the nightly sequence once for the new day (the jobs catch
        up) or for each day (at most the last 12: the first of them catches up the days before)."""
        target = self.clock.today() + timedelta(days=days)
        nights = [target - timedelta(days=k) for k in range(min(days, 12) - 1, -1, -1)] if every_day else [target]
        for night in nights:
            self.set_day(night)
            self.nightly(night)
        event(f"nights run: {'each day' if every_day else 'once'}")
        self.caught_up(target)

    def has_work(self) -> bool:
        """An open parent with something left to ship or to charge (a crash then likely hits work)."""
        return bool(
            self.q(
                "SELECT 1 FROM sales_orders so WHERE so.is_continuity_parent AND so.status = 'open' AND ("
                "EXISTS (SELECT 1 FROM schedule_occurrences o WHERE o.sales_id = so.sales_id AND o.status = 'pending') "
                "OR EXISTS (SELECT 1 FROM installments i WHERE i.parent_sales_id = so.sales_id "
                "AND i.status NOT IN ('paid', 'cancelled'))) LIMIT 1"
            )
        )

    @precondition(lambda self: self.has_work())
    @rule(
        job=st.sampled_from(
            ["create-child-orders", "process-payments-before", "process-payments-after", "record-outcomes"]
        ),
        days=st.sampled_from([31, 14, 3, 0]),
        fail_at=st.sampled_from([1, 1, 2]),
        chunk_size=st.integers(1, 3),
        killed=st.booleans(),
        wait_minutes=st.sampled_from([0, 2, 20]),
    )
    def crash_a_worker(
        self,
        job,
        days,
        fail_at,
        chunk_size,
        killed,  # type: ignore[no-untyped-def]
        wait_minutes,
    ) -> None:
        """The nightly for a (new) day with small chunks, in which ``job`` dies in the middle (the
        record-outcomes fault hits whichever of reconcile-payments and process-payments records first);
        the error is swallowed, the state left as it is. The next worker starts ``wait_minutes`` later."""
        self.set_day(self.clock.today() + timedelta(days=days))
        exc: BaseException = WorkerKilled("kill -9") if killed else RuntimeError("disk on fire")
        deps = self.deps()
        fault: object
        if job == "create-child-orders":
            fault = deps.child_orders = FaultyChildOrders(deps.child_orders, fail_at, exc)
        elif job == "record-outcomes":
            fault = deps.payments = FaultyPayments(deps.payments, exc)
        else:
            fault = deps.gateway = FaultyGateway(deps.gateway, fail_at, job.endswith("after"), exc)
        latest = self.q("SELECT COALESCE(MAX(run_id), 0) FROM job_runs")[0][0]
        try:
            self.nightly(self.clock.today(), deps=deps, chunk_size=chunk_size)
        except (RuntimeError, WorkerKilled) as raised:
            assert raised is exc and fault.fired  # type: ignore[attr-defined]
            crashed = self.q(
                "SELECT run_id, status FROM job_runs WHERE run_id > :r ORDER BY run_id DESC LIMIT 1", r=latest
            )[0]
            assert crashed[1] == ("running" if killed else "failed"), crashed
            self.crashed_runs.add(crashed[0])
            event(f"crashed: {job}, {'killed' if killed else 'raised'}")
        else:
            if fault.fired:  # type: ignore[attr-defined]
                # call_gateway may take an exception from the gateway client as "no answer" (UNKNOWN,
                # looked up later under the same key) instead of dying: as good as a crash here
                assert isinstance(fault, FaultyGateway) and isinstance(exc, Exception), job
                event(f"gateway fault taken as no answer: {job}")
            else:
                event(f"crash point not reached: {job}")
        self.clock.wait(timedelta(minutes=wait_minutes))

    @rule()
    def nightly_twice_for_the_same_day(self) -> None:
        """Run the nightly for today until it leaves no charge in flight; the next run for the same day
        must then leave the work tables exactly as they were. (A charge that timed out is looked up by
        the next run, which may then release, ship and invoice its child: new work, not a repeat.)"""
        today = self.clock.today()
        for _ in range(3):
            self.nightly(today)
            if self.in_flight() == 0:
                break
        else:
            raise AssertionError("charges still in flight after three nightly runs for one day")
        before = snapshot(self.app, WORK_TABLES + ("continuity_lines",))
        self.nightly(today)
        assert snapshot(self.app, WORK_TABLES + ("continuity_lines",)) == before, "a second nightly wrote"
        self.caught_up(today)

    # -- what a finished nightly leaves behind --------------------------------------------------------
    def caught_up(self, as_of: date) -> None:
        """After a nightly that ran to its end: no due occurrence of an open parent is left pending, no
        charge due is left unclaimed, no orphaned attempt old enough to look up is left pending, and
        every paid child order whose date has come is shipped and invoiced."""
        due_until = as_of + timedelta(days=LEAD_DAYS)
        left = self.q(
            "SELECT o.sales_id, o.seq, o.ship_date FROM schedule_occurrences o "
            "JOIN continuity_lines cl ON cl.sales_id = o.sales_id AND cl.line_no = o.line_no "
            "JOIN sales_orders so ON so.sales_id = o.sales_id "
            "WHERE o.status = 'pending' AND o.ship_date <= :d AND cl.status = 'open' AND so.status = 'open' "
            "AND NOT EXISTS (SELECT 1 FROM cards c WHERE c.token = cl.card_token "
            "AND c.expiry_year * 12 + c.expiry_month < :month)",  # an expired card: skipped and counted
            d=due_until,
            month=as_of.year * 12 + as_of.month,
        )
        assert not left, f"due occurrences left pending after the nightly of {as_of}: {left}"
        older = self.clock.instant - RECONCILE_AFTER
        orphans = [
            r
            for r in self.q("SELECT idempotency_key, created_at FROM payment_attempts WHERE status = 'pending'")
            if _instant(r[1]) < older - timedelta(seconds=5)
        ]
        assert not orphans, f"orphaned attempts not looked up: {orphans}"
        unclaimed = self.q(
            "SELECT i.sales_id, i.seq, i.status FROM installments i "
            "JOIN sales_orders so ON so.sales_id = i.sales_id "
            "JOIN continuity_lines cl ON cl.sales_id = i.parent_sales_id AND cl.line_no = i.parent_line_no "
            "WHERE i.due_date <= :d AND i.status IN ('not_submitted', 'authorized') AND cl.card_token IS NOT NULL "
            "AND so.status NOT IN ('draft', 'cancelled') "
            "AND (so.parent_sales_id IS NOT NULL OR so.status IN ('open', 'closed')) "
            f"AND so.hold_code NOT IN ({MANUAL_CODES}) "  # an order held by hand is not charged
            "AND NOT EXISTS (SELECT 1 FROM payment_attempts h WHERE h.card_token = cl.card_token "  # nor a card
            f"AND h.status = 'declined' AND h.decline_code IN ({HARD_CODES})) "  # with a hard decline (dunning)
            "AND NOT EXISTS (SELECT 1 FROM payment_attempts a WHERE a.subject = 'installment' "
            "AND a.sales_id = i.sales_id AND a.line_no = i.line_no AND a.seq = i.seq "
            "AND a.status IN ('pending', 'unknown'))",
            d=as_of,
        )
        assert not unclaimed, f"installments due and not charged after the nightly of {as_of}: {unclaimed}"
        unshipped = self.q(
            "SELECT so.sales_id, so.status FROM sales_orders so WHERE so.parent_sales_id IS NOT NULL "
            "AND so.status NOT IN ('invoiced', 'on_hold') "
            "AND NOT EXISTS (SELECT 1 FROM installments i WHERE i.sales_id = so.sales_id "
            "AND i.status NOT IN ('paid', 'authorized')) "
            "AND NOT EXISTS (SELECT 1 FROM schedule_occurrences o WHERE o.child_sales_id = so.sales_id "
            "AND o.ship_date > :d)",
            d=as_of,
        )
        assert not unshipped, f"paid child orders not shipped and invoiced by {as_of}: {unshipped}"

    # -- invariants ---------------------------------------------------------------------------------
    @invariant()
    def children_match_occurrences(self) -> None:
        """At most one child line per (parent line, seq); an occurrence is child_created/invoiced exactly
        when a child line points at it, and its child_sales_id is that existing child of its parent;
        invoiced occurrences belong to invoiced children; no child is created before its occurrence is
        due (ship date − delivery_lead_days); skipped, cancelled, paused and pending ones have none."""
        dupes = self.q(
            "SELECT parent_sales_id, parent_line_no, parent_seq FROM sales_lines "
            "WHERE parent_sales_id IS NOT NULL AND parent_seq IS NOT NULL GROUP BY 1, 2, 3 HAVING COUNT(*) > 1"
        )
        assert not dupes, f"two child lines for one occurrence: {dupes}"
        wrong = self.q(
            "SELECT o.sales_id, o.seq, o.status, o.child_sales_id, sl.sales_id, so.parent_sales_id, so.status "
            "FROM schedule_occurrences o "
            "LEFT JOIN sales_lines sl ON sl.parent_sales_id = o.sales_id AND sl.parent_line_no = o.line_no "
            " AND sl.parent_seq = o.seq "
            "LEFT JOIN sales_orders so ON so.sales_id = o.child_sales_id "
            "WHERE CASE WHEN o.status IN ('child_created', 'invoiced') THEN "
            " (sl.sales_id IS NULL OR so.sales_id IS NULL OR o.child_sales_id <> sl.sales_id "
            "  OR so.parent_sales_id <> o.sales_id OR (o.status = 'invoiced') <> (so.status = 'invoiced')) "
            "ELSE (o.child_sales_id IS NOT NULL OR sl.sales_id IS NOT NULL) END"
        )
        assert not wrong, f"occurrences and child orders disagree: {wrong}"
        orphans = self.q(
            "SELECT sl.sales_id, sl.parent_sales_id, sl.parent_seq FROM sales_lines sl "
            "WHERE sl.parent_sales_id IS NOT NULL AND EXISTS (SELECT 1 FROM continuity_lines cl "
            "WHERE cl.sales_id = sl.parent_sales_id AND cl.line_no = sl.parent_line_no) "
            "AND NOT EXISTS (SELECT 1 FROM schedule_occurrences o "
            "WHERE o.sales_id = sl.parent_sales_id AND o.line_no = sl.parent_line_no "
            "AND o.seq = sl.parent_seq) "
            "AND NOT EXISTS (SELECT 1 FROM credit_notes cn WHERE cn.replacement_sales_id = sl.sales_id)"
        )
        # a mixed order's ordinary lines aside, and a return's replacement (no occurrence: a re-shipment)
        assert not orphans, f"child lines for no occurrence: {orphans}"
        empty = self.q(
            "SELECT so.sales_id FROM sales_orders so WHERE so.parent_sales_id IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM sales_lines sl WHERE sl.sales_id = so.sales_id)"
        )
        assert not empty, f"child orders without lines: {empty}"
        for sid, seq, ship, created in self.q(
            "SELECT o.sales_id, o.seq, o.ship_date, so.order_date FROM schedule_occurrences o "
            "JOIN sales_orders so ON so.sales_id = o.child_sales_id"
        ):
            assert _day(ship) - timedelta(days=LEAD_DAYS) <= _day(created), (sid, seq, ship, created)

    @invariant()
    def model_skips_pauses_and_cancels_hold(self) -> None:
        """Skipped occurrences stay skipped, with no child; held ones get no child while paused, nor one
        made before the resume; a cancelled parent gets children after the cancel only for occurrences
        shipping before the cancel date."""
        for p in self.parents:
            occ = {seq: (status, _day(ship), child) for seq, status, ship, _, child in self.occurrences(p.sales_id)}
            children = {
                r[0]: _day(r[1])
                for r in self.q(
                    "SELECT sales_id, order_date FROM sales_orders WHERE parent_sales_id = :s AND sales_id NOT IN "
                    "(SELECT replacement_sales_id FROM credit_notes WHERE replacement_sales_id IS NOT NULL) "
                    "AND sales_id NOT IN (SELECT sl.sales_id FROM sales_lines sl WHERE sl.parent_sales_id = :s "
                    "AND NOT EXISTS (SELECT 1 FROM continuity_lines cl WHERE cl.sales_id = sl.parent_sales_id "
                    "AND cl.line_no = sl.parent_line_no))",
                    s=p.sales_id,
                )
            }  # a return's replacement re-ships a shipped occurrence, and the ordinary lines of a mixed order
            # ship as a child of their own made at submit (a submit again may come after a cancel): none of these
            for seq in p.skipped:
                assert occ[seq][0] == "skipped", (p.sales_id, seq, occ[seq])
            for pause in p.pauses:
                for seq in pause["held"]:
                    status, _, child = occ[seq]
                    if pause["resumed"] is None:
                        assert status in ("paused", "skipped", "cancelled"), (p.sales_id, seq, status)
                    elif child is not None:
                        assert children[child] >= pause["resumed"], (p.sales_id, seq, child, children[child])
            if p.cancel is not None:
                for child in set(children) - p.cancel["children"]:
                    ships = [ship for status, ship, c in occ.values() if c == child]
                    assert ships and max(ships) < p.cancel["from"], (
                        f"child {child} of {p.sales_id} made after its cancel from {p.cancel['from']}: {ships}"
                    )

    @invariant()
    def money_matches_the_gateway_ledger(self) -> None:
        """Every ledger row is one of our attempts (same key, operation, card, amount); no installment has
        two approved captures; an installment with no charge in flight is paid exactly when the ledger
        holds one approved capture for it, of its amount, so Σ paid = Σ approved captures settled, to the
        cent; refunds are the cancels' (paid − kept) and nothing is captured for a cancelled parent
        beyond what it still owed at the cancel."""
        strangers = self.q(
            "SELECT g.idempotency_key, g.operation, a.operation FROM test_gateway_ledger g "
            "LEFT JOIN payment_attempts a ON a.idempotency_key = g.idempotency_key "
            "WHERE a.attempt_id IS NULL OR a.operation <> g.operation OR a.card_token <> g.card_token "
            "OR (g.operation <> 'void' AND a.amount_minor <> g.amount_minor)"
        )
        assert not strangers, f"ledger rows that are not our attempts: {strangers}"
        captured = (
            "(SELECT {what} FROM payment_attempts a JOIN test_gateway_ledger g ON g.idempotency_key = "
            "a.idempotency_key WHERE a.subject = 'installment' AND a.sales_id = i.sales_id AND a.line_no = "
            "i.line_no AND a.seq = i.seq AND g.operation = 'capture' AND g.outcome = 'approved')"
        )
        paid_total = settled_captures = 0
        for sid, line, seq, status, amount, captures, amount_captured, flying in self.q(
            "SELECT i.sales_id, i.line_no, i.seq, i.status, i.amount_minor, "
            + captured.format(what="COUNT(*)")
            + ", "
            + captured.format(what="COALESCE(SUM(g.amount_minor), 0)")
            + ", (SELECT COUNT(*) FROM payment_attempts a WHERE a.subject = 'installment' AND a.sales_id = "
            "i.sales_id AND a.line_no = i.line_no AND a.seq = i.seq AND a.operation IN ('capture', 'authorize') "
            "AND a.status IN ('pending', 'unknown')) FROM installments i"
        ):
            key = (sid, line, seq, status)
            assert captures <= 1, f"installment {key} captured {captures} times"
            if flying or status == "unknown":
                continue
            assert (status == "paid") == (captures == 1), f"installment {key}: ledger captures {captures}"
            if status == "paid":
                assert amount_captured == amount, f"installment {key} is paid {amount}, captured {amount_captured}"
                paid_total += amount
                settled_captures += amount_captured
        assert paid_total == settled_captures
        refunded = self.q(
            "SELECT COALESCE(SUM(g.amount_minor), 0) FROM test_gateway_ledger g JOIN payment_attempts a "
            "ON a.idempotency_key = g.idempotency_key WHERE g.operation = 'refund' AND g.outcome = 'approved' "
            "AND a.subject = 'refund'"
        )[0][0]
        assert refunded == sum(p.cancel["refund"] for p in self.parents if p.cancel), "refunds the cancels did not make"
        for p in self.parents:
            refunds = self.q(
                "SELECT a.status, a.amount_minor, g.outcome FROM payment_attempts a LEFT JOIN "
                "test_gateway_ledger g ON g.idempotency_key = a.idempotency_key "
                "WHERE a.subject = 'refund' AND a.sales_id = :s",
                s=p.sales_id,
            )
            if p.cancel is None:
                assert not refunds, (p.sales_id, refunds)
                continue
            assert [r[1] for r in refunds] == ([p.cancel["refund"]] if p.cancel["refund"] else []), refunds
            late = self.q(
                "SELECT COALESCE(SUM(g.amount_minor), 0) FROM payment_attempts a JOIN test_gateway_ledger g "
                "ON g.idempotency_key = a.idempotency_key WHERE a.subject = 'installment' "
                "AND a.sales_id = :s AND g.operation = 'capture' AND g.outcome = 'approved' "
                "AND a.attempt_id > :w",
                s=p.sales_id,
                w=p.cancel["watermark"],
            )[0][0]
            owed = self.owed_after_cancel(p)
            assert late <= owed, f"{p.sales_id} charged {late} after its cancel, owed {owed}"

    @invariant()
    def tax_is_the_sum_of_line_tax_and_installments_the_total(self) -> None:
        """Taxes, to the cent: each child line's stored tax is the domain's (goods and charge each half-up at
        the rate of its ship date in the customer's region) while its charge is unsettled; a child's own
        charge is its total (goods + charges + Σ line tax); an order's tax is Σ its lines' tax; the
        installments of an open, uncancelled installment-billed parent with some left unpaid (and none at
        the gateway) sum to its total to the cent."""
        with self.app.uow() as uow:
            table = uow.setup.tax_rates()
            groups = {p.item_id: p.tax_group for p in uow.setup.products()}
        for child, item, goods, charge, tax, ship, parent_item, region in self.q(
            "SELECT sl.sales_id, sl.item_id, sl.unit_price_minor * sl.quantity, sl.charge_minor, sl.tax_minor, "
            "o.ship_date, cl.item_id, (SELECT a.country FROM addresses a WHERE a.account = so.account "
            "ORDER BY CASE WHEN a.purpose = 'delivery' THEN 0 ELSE 1 END, a.id LIMIT 1) "
            "FROM sales_lines sl JOIN sales_orders so ON so.sales_id = sl.sales_id "
            "JOIN schedule_occurrences o ON o.sales_id = sl.parent_sales_id AND o.line_no = sl.parent_line_no "
            "AND o.seq = sl.parent_seq JOIN continuity_lines cl ON cl.sales_id = sl.parent_sales_id "
            "AND cl.line_no = sl.parent_line_no WHERE so.status IN ('open', 'on_hold', 'released') "
            "AND NOT EXISTS (SELECT 1 FROM installments i WHERE i.sales_id = so.sales_id "
            "AND i.status IN ('paid', 'authorized', 'in_flight', 'unknown'))"
        ):
            day = _day(ship)
            expected = tax_minor(goods, table.rate_on(groups[item], region, day), False) + tax_minor(
                charge, table.rate_on(groups[parent_item], region, day), False
            )
            assert tax == expected, f"child {child} line tax {tax}, the rate table says {expected}"
        for child, charged, lines_total in self.q(
            "SELECT i.sales_id, i.amount_minor, (SELECT SUM(sl.unit_price_minor * sl.quantity + sl.charge_minor "
            "+ sl.tax_minor) FROM sales_lines sl WHERE sl.sales_id = i.sales_id) FROM installments i "
            "JOIN sales_orders so ON so.sales_id = i.sales_id WHERE so.parent_sales_id IS NOT NULL "
            "AND i.line_no = 0 AND i.status <> 'cancelled'"
        ):
            if charged and not child.endswith("-R1"):  # a return's replacement ships at no charge
                assert charged == lines_total, f"child {child} charges {charged}, its lines total {lines_total}"
        for p in self.parents:
            if p.pay_per_shipment or p.cancel is not None:
                continue
            view = views.order_view(self.app.uow, p.sales_id)
            assert Decimal(view["tax"]) == sum(Decimal(ln["tax"]) for ln in view["lines"]), view["sales_id"]
            if view["status"] not in ("open", "on_hold") or any(ln["status"] != "open" for ln in view["lines"]):
                continue
            kept = [Decimal(i["amount"]) for i in view["installments"] if i["status"] != "cancelled"]
            line_totals = sum(Decimal(ln["total"]) for ln in view["lines"] if ln["continuity"])
            settled = sum(
                Decimal(i["amount"]) for i in view["installments"] if i["status"] in ("paid", "authorized", "in_flight")
            )
            statuses = {i["status"] for i in view["installments"]}
            unpaid = statuses & {"not_submitted", "declined"}
            # re-shared only while some are unpaid and none is at the gateway (its amount is fixed)
            if unpaid and not statuses & {"in_flight", "unknown"} and settled <= line_totals:
                assert sum(kept) == line_totals, (
                    f"{p.sales_id}: installments {kept} sum to {sum(kept)}, not {line_totals}"
                )

    @invariant()
    def refunds_never_exceed_captures(self) -> None:
        """Per order, from the gateway's own ledger: Σ approved refunds ≤ Σ approved captures; every refund of
        a return is its credit note's amount, under the key the credit note names, and no return refund is
        made twice (one ledger row per credit note)."""
        per_order = self.q(
            "SELECT a.sales_id, SUM(CASE WHEN g.operation = 'capture' THEN g.amount_minor ELSE 0 END), "
            "SUM(CASE WHEN g.operation = 'refund' THEN g.amount_minor ELSE 0 END) FROM test_gateway_ledger g "
            "JOIN payment_attempts a ON a.idempotency_key = g.idempotency_key WHERE g.outcome = 'approved' "
            "GROUP BY a.sales_id"
        )
        assert not [r for r in per_order if r[2] > r[1]], f"refunded more than captured: {per_order}"
        wrong = self.q(
            "SELECT a.idempotency_key, g.amount_minor, cn.amount_minor FROM payment_attempts a "
            "JOIN test_gateway_ledger g ON g.idempotency_key = a.idempotency_key "
            "LEFT JOIN credit_notes cn ON cn.refund_key = a.idempotency_key "
            "WHERE a.subject = 'return' AND (cn.credit_note_id IS NULL OR cn.amount_minor <> g.amount_minor)"
        )
        assert not wrong, f"return refunds that are not their credit note's: {wrong}"
        twice = self.q(
            "SELECT cn.credit_note_id FROM credit_notes cn JOIN payment_attempts a ON a.sales_id = cn.refund_sales_id "
            "AND a.subject = 'return' AND a.seq = cn.serial GROUP BY cn.credit_note_id HAVING COUNT(*) > 1"
        )
        assert not twice, f"credit notes refunded under more than one key: {twice}"
        over = self.q(
            "SELECT cn.sales_id, cl.line_no, SUM(cl.quantity), MAX(sl.quantity) FROM credit_note_lines cl "
            "JOIN credit_notes cn ON cn.credit_note_id = cl.credit_note_id "
            "JOIN sales_lines sl ON sl.sales_id = cn.sales_id AND sl.line_no = cl.line_no "
            "GROUP BY cn.sales_id, cl.line_no HAVING SUM(cl.quantity) > MAX(sl.quantity)"
        )
        assert not over, f"returned more than shipped: {over}"

    @invariant()
    def no_run_left_running(self) -> None:
        """Only a killed run stays 'running', and only until a later run started after its heartbeat went
        stale (the reaper then marks it 'abandoned'); only crashed runs failed."""
        runs = self.q("SELECT run_id, status, started_at, heartbeat_at FROM job_runs")
        starts = [_instant(r[2]) for r in runs]
        for run_id, status, started, beat in runs:
            if status in ("running", "failed", "abandoned"):
                assert run_id in self.crashed_runs, (run_id, status)
            if status == "running":
                stale_at = _instant(beat or started) + STALE_RUN
                assert not [s for s in starts if s > stale_at + timedelta(seconds=1)], (
                    f"run {run_id} is still running after a later run passed its stale time"
                )

    @invariant()
    def authorizations_end_captured_or_released(self) -> None:
        """From the gateway's ledger: no authorization is captured or released beyond its amount (checked in
        open_authorizations), a closed order holds none, and every capture or release of an authorization
        went to the card that made it; no parent closes with an ordinary line still open."""
        held = open_authorizations(self.app)
        closed = {r[0] for r in self.q("SELECT sales_id FROM sales_orders WHERE status = 'closed'")}
        assert not closed & set(held), f"closed orders still holding authorizations: {closed & set(held)}"
        assert self.q(CAPTURES_ON_ANOTHER_CARD)[0][0] == 0
        open_lines = self.q(
            "SELECT sl.sales_id, sl.line_no FROM sales_lines sl JOIN sales_orders so "
            "ON so.sales_id = sl.sales_id WHERE so.status = 'closed' AND sl.status = 'open' "
            "AND NOT EXISTS "
            "(SELECT 1 FROM continuity_lines cl WHERE cl.sales_id = sl.sales_id "
            "AND cl.line_no = sl.line_no)"
        )
        assert not open_lines, f"closed orders with open lines: {open_lines}"

    @invariant()
    def closed_parents_are_done(self) -> None:
        """A closed parent has nothing left to ship or to pay."""
        left = self.q(
            "SELECT so.sales_id FROM sales_orders so WHERE so.is_continuity_parent AND so.status = 'closed' AND ("
            "EXISTS (SELECT 1 FROM schedule_occurrences o WHERE o.sales_id = so.sales_id "
            " AND o.status IN ('pending', 'paused', 'child_created')) OR "
            "EXISTS (SELECT 1 FROM installments i WHERE i.parent_sales_id = so.sales_id "
            " AND i.status NOT IN ('paid', 'cancelled')))"
        )
        assert not left, f"closed parents with work left: {left}"


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("stateful") / "template.db"
    app = bootstrap(Settings(f"sqlite:///{path}", None, None), clock=SimClock(START))
    upgrade(app.engine)
    create_ledger(app.engine)  # the test connector's own table: the invariants read it from the first step
    load_demo(app.uow, START)
    # what a return does: TRILOGY ships the goods again, REPLENISH cancels the rest, BOOKCLUB continues
    programs = demo_programs()
    set_up(
        app,
        {
            "programs": [
                programs["TRILOGY"] | {"return_action": "replace"},
                programs["REPLENISH"] | {"return_action": "cancel_remaining"},
            ]
        },
    )
    app.engine.dispose()
    return str(path)


def _machine(template: str, workdir: str) -> type[LifecycleMachine]:
    class Machine(LifecycleMachine):
        TEMPLATE = template
        WORKDIR = workdir

    return Machine


def test_order_life_cycle_with_batch_jobs_keeps_its_invariants(demo_template, tmp_path) -> None:
    Machine = _machine(demo_template, str(tmp_path))  # noqa: N806

    run = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        print_blob=True,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    test = get_state_machine_test(Machine, settings=run)
    if SEED is not None:
        test = seed(int(SEED))(test)
    SEEN.clear()
    test()
    print("\nR8 steps taken:", *(f"  {n:4d}  {what}" for what, n in sorted(SEEN.items())), sep="\n")


#: What the machine found, shrunk (see test_installment_charge_in_flight.py): a payment worker dies
#: after committing the attempt of installment 2 and before recording the gateway's answer; an agent
#: (or a program change) then changes that installment; the next night's reconcile-payments records the
#: capture of the attempt's amount. Replayed step by step, with every invariant after each step.
CHARGE_IN_FLIGHT = [
    ("first_orders", {"orders": [(("88000", "3X"), APPROVE)]}),
    ("nightly_twice_for_the_same_day", {}),
    (
        "crash_a_worker",
        {
            "job": "process-payments-before",
            "days": 31,
            "fail_at": 1,
            "chunk_size": 1,
            "killed": True,
            "wait_minutes": 0,
        },
    ),
]
SERVICE = {"pick": 0, "arg": 0, "card": APPROVE, "following": False}
FOUND = {
    "skip": [
        *CHARGE_IN_FLIGHT,
        ("service", {**SERVICE, "kind": "skip"}),
        ("advance_and_run_nightly", {"days": 1, "every_day": False}),
    ],
    "cancel": [
        *CHARGE_IN_FLIGHT,
        ("service", {**SERVICE, "kind": "cancel"}),
        ("advance_and_run_nightly", {"days": 1, "every_day": False}),
    ],
    "price": [
        *CHARGE_IN_FLIGHT[:2],
        ("crash_a_worker", {**CHARGE_IN_FLIGHT[2][1], "job": "record-outcomes", "killed": False}),
        ("change_book_club_price", {"event_no": 6, "price": "11.11"}),
        ("advance_and_run_nightly", {"days": 1, "every_day": False}),
    ],
    # a price change while the order is paused: the paused occurrences keep their stored price (the
    # projection counts them so) and continuity-update re-shares the installments on that, not the new one
    "paused_price": [
        ("first_orders", {"orders": [(("88000", "3X"), APPROVE)]}),
        ("service", {**SERVICE, "kind": "pause", "arg": 2}),
        ("change_book_club_price", {"event_no": 4, "price": "11.11"}),
    ],
    # a return that cancels the rest (REPLENISH) refunds what was paid less the kept shipment with its tax
    "return_cancel_with_tax": [
        ("first_orders", {"orders": [(("88000", "3X"), DECLINE), (("88000", None), DECLINE)]}),
        ("hold_or_clear", {"code": "fraud_review", "pick": 52}),
        ("advance_and_run_nightly", {"days": 22, "every_day": True}),
        ("change_tax_rate", {"group": "food", "offset": 0, "rate": "25", "region": "NL", "shipping": ("none", 0)}),
        (
            "enter_order",
            {"account": "004020", "card": TIMEOUT, "mixed": False, "product": ("0021", "3X"), "start": None},
        ),
        ("nightly_twice_for_the_same_day", {}),
        (
            "crash_a_worker",
            {"chunk_size": 2, "days": 14, "fail_at": 2, "job": "record-outcomes", "killed": True, "wait_minutes": 20},
        ),
        ("return_goods", {"more": 0, "pick": 3, "reason": "WRONG_ITEM"}),
    ],
    # a cancel keeps shipments with their tax: a rate change after it re-prices those not shipped yet, and
    # the nightly then charges them with the new tax (the model's 'owed' was goods only)
    "rate_after_cancel": [
        ("first_orders", {"orders": [(("88000", "3X"), DECLINE), (("88000", None), APPROVE)]}),
        ("submit_again_with_another_card", {"pick": 0}),
        (
            "enter_order",
            {"account": "004007", "card": APPROVE, "mixed": True, "product": ("88000", None), "start": None},
        ),
        ("service", {"arg": 3, "card": APPROVE, "following": True, "kind": "cancel", "pick": 33}),
        ("change_tax_rate", {"group": "books", "offset": 0, "rate": "25", "region": "NO", "shipping": None}),
        ("nightly_twice_for_the_same_day", {}),
        ("advance_and_run_nightly", {"days": 34, "every_day": False}),
    ],
}


@pytest.mark.parametrize("name", list(FOUND))
def test_what_the_machine_found_stays_fixed(demo_template, tmp_path, name) -> None:
    machine = _machine(demo_template, str(tmp_path))()
    checks = [
        getattr(machine, n)
        for n in (
            "children_match_occurrences",
            "model_skips_pauses_and_cancels_hold",
            "money_matches_the_gateway_ledger",
            "no_run_left_running",
            "closed_parents_are_done",
            "tax_is_the_sum_of_line_tax_and_installments_the_total",
        )
    ]
    try:
        for step, arguments in FOUND[name]:
            getattr(machine, step)(**arguments)
            for check in checks:
                check()
    finally:
        machine.teardown()
