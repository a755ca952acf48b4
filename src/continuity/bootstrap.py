"""Composition root: the only module that knows the concrete adapters."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from sqlalchemy import Engine

from continuity.adapters.clock import FixedClock, SystemClock
from continuity.adapters.db import make_engine
from continuity.adapters.test_gateway import TestConnector
from continuity.adapters.unit_of_work import SqlUnitOfWork
from continuity.config import Settings
from continuity.services.order_entry import UowFactory
from continuity.services.ports import Clock, PaymentGateway


@dataclass
class App:
    settings: Settings
    engine: Engine
    uow: UowFactory
    gateway: PaymentGateway
    clock: Clock


def bootstrap(settings: Settings | None = None, clock: Clock | None = None,
              gateway: PaymentGateway | None = None) -> App:
    settings = settings or Settings.from_env()
    _configure_logging(settings)
    engine = make_engine(settings.database_url)
    clock = clock or (FixedClock(settings.today) if settings.today else SystemClock())
    return App(settings, engine, partial(SqlUnitOfWork, engine), gateway or TestConnector(engine), clock)


def _configure_logging(settings: Settings) -> None:
    root = logging.getLogger("continuity")
    if settings.log_file and not any(isinstance(h, logging.FileHandler) for h in root.handlers):
        handler = logging.FileHandler(settings.log_file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
