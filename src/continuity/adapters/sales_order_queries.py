"""Read-side queries of sales orders for lists (keyset pages by sales_id)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from continuity.adapters import orm
from continuity.domain.sales_order import STILL_ORDERED, LineStatus

T = orm.sales_orders


class SalesOrderQueries:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def sales_ids(self, parent: str | None, account: str | None, after: str | None, limit: int) -> list[str]:
        query = select(T.c.sales_id).order_by(T.c.sales_id).limit(limit)
        if parent is not None:
            query = query.where(T.c.parent_sales_id == parent)
        if account is not None:
            query = query.where(T.c.account == account)
        if after is not None:
            query = query.where(T.c.sales_id > after)
        return list(self.conn.execute(query).scalars())

    def statuses(self, sales_ids: list[str]) -> dict[str, str]:
        if not sales_ids:
            return {}
        rows = self.conn.execute(select(T.c.sales_id, T.c.status).where(T.c.sales_id.in_(sales_ids)))
        return {r.sales_id: r.status for r in rows}

    def still_ordered(self, account: str, item_id: str) -> list[str]:
        lines = orm.sales_lines
        with_item = select(lines.c.sales_id).where(lines.c.item_id == item_id, lines.c.status == LineStatus.OPEN.value)
        query = select(T.c.sales_id).where(
            T.c.account == account,
            T.c.status.in_(sorted(s.value for s in STILL_ORDERED)),
            T.c.sales_id.in_(with_item),
        )
        return list(self.conn.execute(query.order_by(T.c.sales_id)).scalars())
