"""One database transaction with its repositories; rolls back unless committed."""

from __future__ import annotations

from sqlalchemy import Engine

from continuity.adapters.audit_repository import AuditRepository
from continuity.adapters.authorization_repository import AuthorizationRepository
from continuity.adapters.customer_repository import CustomerRepository
from continuity.adapters.hold_code_repository import HoldCodeRepository
from continuity.adapters.idempotency_repository import IdempotencyRepository
from continuity.adapters.order_repository import OrderRepository, ServicingRepository
from continuity.adapters.returns_repository import ReturnsRepository
from continuity.adapters.sales_order_queries import SalesOrderQueries
from continuity.adapters.setup_repository import SetupRepository
from continuity.adapters.user_repository import UserRepository
from continuity.services import ports


class SqlUnitOfWork:
    """The unit of work of services.ports: each repository is typed by its port, so mypy checks that
    the adapter implements it."""

    setup: ports.SetupRepo
    customers: ports.CustomerRepo
    orders: ports.OrderRepo
    order_queries: ports.OrderQueries
    users: ports.UserRepo
    idempotency: ports.IdempotencyRepo
    audit: ports.AuditRepo
    servicing: ports.ServicingRepo
    authorizations: ports.AuthorizationRepo
    returns: ports.ReturnsRepo
    hold_codes: ports.HoldCodeRepo

    def __init__(self, engine: Engine, clock: ports.Clock) -> None:
        self.engine = engine
        self.clock = clock  # the audit trail's time when a service gives none

    def __enter__(self) -> SqlUnitOfWork:
        self.conn = self.engine.connect()
        self.tx = self.conn.begin()
        self.setup = SetupRepository(self.conn)
        self.customers = CustomerRepository(self.conn)
        self.orders = OrderRepository(self.conn)
        self.order_queries = SalesOrderQueries(self.conn)
        self.users = UserRepository(self.conn)
        self.idempotency = IdempotencyRepository(self.conn)
        self.audit = AuditRepository(self.conn, self.clock)
        self.servicing = ServicingRepository(self.conn)
        self.authorizations = AuthorizationRepository(self.conn)
        self.returns = ReturnsRepository(self.conn)
        self.hold_codes = HoldCodeRepository(self.conn)
        return self

    def commit(self) -> None:
        self.tx.commit()

    def __exit__(self, *exc: object) -> None:
        if self.tx.is_active:
            self.tx.rollback()
        self.conn.close()
