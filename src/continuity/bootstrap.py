"""Composition root: the only module that knows the concrete adapters."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import partial

from sqlalchemy import Engine

from continuity.adapters.batch.child_orders import ChildOrderStore
from continuity.adapters.batch.job_runs import JobRunStore
from continuity.adapters.batch.lifecycle import LifecycleStore
from continuity.adapters.batch.outbox import OutboxStore
from continuity.adapters.batch.payments import PaymentStore
from continuity.adapters.batch.schedules import ScheduleStore
from continuity.adapters.card_expiry_queries import CardExpiryQueries
from continuity.adapters.clock import FixedClock, SystemClock
from continuity.adapters.dashboard_queries import DashboardQueries
from continuity.adapters.db import make_engine
from continuity.adapters.payment_review_queries import PaymentReviewQueries
from continuity.adapters.smtp_mailer import SmtpMailer
from continuity.adapters.test_gateway import TestConnector
from continuity.adapters.unit_of_work import SqlUnitOfWork
from continuity.config import Settings
from continuity.services.gateway_pool import PooledGateway
from continuity.services.jobs.context import JobDeps
from continuity.services.jobs.ports import CardExpiryReads, Mailer, PaymentReviewReads
from continuity.services.order_entry import StartDateWindow
from continuity.services.ports import ChargeRow, ChildOrderRow, Clock, PaymentGateway, UowFactory, WebAuthStore


@dataclass
class App:
    settings: Settings
    engine: Engine
    uow: UowFactory
    gateway: PaymentGateway
    clock: Clock

    @property
    def start_date_window(self) -> StartDateWindow:
        """How far a continuity start date may lie from the order date (CONTINUITY_START_DATE_MAX_DAYS_*)."""
        return StartDateWindow(self.settings.start_date_max_days_back, self.settings.start_date_max_days_ahead)

    def check_gateway(self) -> None:
        """One cheap call proving the gateway's key (serve and worker start); the test connector has none."""
        check = getattr(self.gateway, "check", None)
        if callable(check):
            check()

    def upgrade_schema(self) -> None:
        """Create or upgrade the schema (Alembic migrations; Alembic loads only when needed)."""
        from continuity.adapters.migrate import upgrade

        upgrade(self.engine)

    def web_auth_store(self) -> WebAuthStore:
        """Web logins, sessions and the login throttle."""
        from continuity.adapters.web_auth_store import WebAuthStore as SqlWebAuthStore

        return SqlWebAuthStore(self.engine)

    @contextmanager
    def scratch_copy(self, sales_id: str | None = None) -> Iterator[str]:
        """The URL of a migrated SQLite copy of the data (or of one order's family), removed on exit;
        this database is only read."""
        from continuity.adapters.snapshot import scratch_copy  # Alembic loads only when needed

        with scratch_copy(self.engine, sales_id) as url:
            yield url

    def simulation_activity(self, first: date, last: date) -> tuple[list[ChildOrderRow], list[ChargeRow]]:
        """The child orders and charges the jobs made from ``first`` to ``last`` (a simulation's copy)."""
        from continuity.adapters.snapshot import read_activity

        return read_activity(self.engine, first, last)

    def card_expiry_reads(self) -> CardExpiryReads:
        return CardExpiryQueries(self.engine)

    def payment_review_reads(self) -> PaymentReviewReads:
        return PaymentReviewQueries(self.engine)

    def dashboard_reads(self) -> DashboardQueries:
        """The read side of the manager dashboard (weekly aggregates)."""
        return DashboardQueries(self.engine)

    def job_deps(self, mailer: Mailer | None = None, stale_after_seconds: int = 60) -> JobDeps:
        """The batch jobs' collaborators; the SMTP mailer only when CONTINUITY_SMTP_HOST is set."""
        if mailer is None and self.settings.smtp_host:
            mailer = SmtpMailer(self.settings.smtp_host, self.settings.smtp_port)
        return JobDeps(
            uow=self.uow,
            gateway=self.gateway,
            clock=self.clock,
            runs=JobRunStore(self.engine),
            child_orders=ChildOrderStore(self.engine),
            payments=PaymentStore(self.engine, self.clock),
            schedules=ScheduleStore(self.engine, self.clock),
            outbox=OutboxStore(self.engine),
            lifecycle=LifecycleStore(self.engine, self.clock),
            mailer=mailer,
            card_expiry=self.card_expiry_reads(),
            stale_after_seconds=stale_after_seconds,
            job_stale_minutes=self.settings.job_stale_minutes,
            max_as_of_days=self.settings.max_as_of_days,
        )


def bootstrap(
    settings: Settings | None = None, clock: Clock | None = None, gateway: PaymentGateway | None = None
) -> App:
    settings = settings or Settings.from_env()
    _configure_logging(settings)
    engine = make_engine(settings.database_url)
    clock = clock or (FixedClock(settings.today) if settings.today else SystemClock())
    return App(settings, engine, partial(SqlUnitOfWork, engine, clock), gateway or _gateway(settings, engine), clock)


def _gateway(settings: Settings, engine: Engine) -> PaymentGateway:
    """The worker's gateway client: every request paced under CONTINUITY_GATEWAY_RATE, batches of calls
    CONTINUITY_GATEWAY_CONCURRENCY at once (a gateway passed in by a test or the bench is used as it is)."""
    connector = (
        _stripe(settings)
        if settings.gateway == "stripe"
        else TestConnector(engine, settings.test_gateway_latency_ms, settings.test_gateway_jitter_ms)
    )
    return PooledGateway(connector, settings.gateway_concurrency, settings.gateway_rate)


def _stripe(settings: Settings) -> PaymentGateway:
    """CONTINUITY_GATEWAY=stripe: the official SDK against CONTINUITY_STRIPE_API_BASE."""
    from continuity.adapters.stripe_gateway import StripeGateway

    return StripeGateway(
        settings.stripe_api_key or "",
        settings.stripe_publishable_key or "",
        settings.stripe_api_base,
        settings.stripe_js_url,
        key_prefix=settings.stripe_key_prefix,
    )


def _configure_logging(settings: Settings) -> None:
    root = logging.getLogger("continuity")
    if settings.log_file and not any(isinstance(h, logging.FileHandler) for h in root.handlers):
        handler = logging.FileHandler(settings.log_file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
