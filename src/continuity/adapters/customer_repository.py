"""Customers (with search) and their cards."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, delete, func, insert, literal, or_, select, tuple_, update

from continuity.adapters import orm
from continuity.adapters.number_sequence import next_number
from continuity.domain import name_match
from continuity.domain.call_note import CallNote
from continuity.domain.card import Card, Expiry, LastCharge
from continuity.domain.customer import Address, Customer
from continuity.domain.errors import NotFound, ValidationFailed
from continuity.domain.payments import CHARGES, AttemptStatus
from continuity.domain.sales_order import LineStatus

MAX_RESULTS = 50


class CustomerRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, account: str) -> Customer:
        row = self.conn.execute(select(orm.customers).where(orm.customers.c.account == account)).first()
        if row is None:
            raise NotFound(f"no customer with account {account!r}", "customer_not_found")
        return self._customer(row)

    def any(self) -> bool:
        return self.conn.execute(select(orm.customers.c.account).limit(1)).first() is not None

    def save(self, c: Customer) -> None:
        self.conn.execute(delete(orm.customer_name_keys).where(orm.customer_name_keys.c.account == c.account))
        self.conn.execute(delete(orm.addresses).where(orm.addresses.c.account == c.account))
        self.conn.execute(delete(orm.customers).where(orm.customers.c.account == c.account))
        self.add(c)

    def update(self, c: Customer) -> None:
        """The customer's name, contact details, language and addresses as given (its cards and orders stay)."""
        t = orm.customers
        self.conn.execute(
            update(t)
            .where(t.c.account == c.account)
            .values(
                name=c.name,
                name_search=c.name.lower(),
                phone=c.phone,
                phone_digits=_digits(c.phone),
                email=c.email.lower(),
                language=c.language,
            )
        )
        self.conn.execute(delete(orm.addresses).where(orm.addresses.c.account == c.account))
        self.conn.execute(delete(orm.customer_name_keys).where(orm.customer_name_keys.c.account == c.account))
        self._add_addresses(c)
        self._add_name_keys(c)

    def next_account(self) -> str:
        """A new account number (six digits, from the "customer" number sequence), never one in use."""
        while True:
            account = f"{next_number(self.conn, 'customer'):06d}"
            if (
                self.conn.execute(select(orm.customers.c.account).where(orm.customers.c.account == account)).first()
                is None
            ):
                return account

    def add(self, c: Customer) -> None:
        """A new customer; the primary key refuses a second one with the same account (even at once)."""
        self.conn.execute(
            insert(orm.customers).values(
                account=c.account,
                name=c.name,
                name_search=c.name.lower(),
                phone=c.phone,
                phone_digits=_digits(c.phone),
                email=c.email.lower(),
                language=c.language,
            )
        )
        self._add_addresses(c)
        self._add_name_keys(c)

    def _add_addresses(self, c: Customer) -> None:
        if c.addresses:
            self.conn.execute(insert(orm.addresses), [dict(account=c.account, **a.__dict__) for a in c.addresses])

    def _add_name_keys(self, c: Customer) -> None:
        keys = sorted(name_match.name_keys(c.name))
        if keys:
            self.conn.execute(insert(orm.customer_name_keys), [{"key": k, "account": c.account} for k in keys])

    def add_note(self, note: CallNote) -> int:
        t = orm.call_notes
        values = dict(account=note.account, author=note.author, written_at=note.written_at, body=note.body)
        return int(self.conn.execute(insert(t).values(**values).returning(t.c.note_id)).scalar_one())

    def notes(self, account: str) -> list[CallNote]:
        """The customer's call notes, newest first."""
        t = orm.call_notes
        rows = self.conn.execute(select(t).where(t.c.account == account).order_by(t.c.note_id.desc()))
        return [CallNote(r.account, r.author, r.written_at, r.body, r.note_id) for r in rows]

    def notices(self, account: str) -> list[tuple[str, str, date, datetime | None]]:
        """(kind, sales_id, as_of, delivered_at) of the notices made for the customer, newest first."""
        t = orm.notifications
        query = select(t.c.kind, t.c.sales_id, t.c.as_of, t.c.delivered_at).where(t.c.account == account)
        rows = self.conn.execute(query.order_by(t.c.notification_id.desc()))
        return [(r.kind, r.sales_id, r.as_of, r.delivered_at) for r in rows]

    def names(self, accounts: list[str]) -> dict[str, str]:
        """The names of these customers (an unknown account is left out)."""
        if not accounts:
            return {}
        t = orm.customers
        rows = self.conn.execute(select(t.c.account, t.c.name).where(t.c.account.in_(accounts)))
        return {r.account: r.name for r in rows}

    def name_candidates(self, typed: list[str], limit: int) -> list[tuple[str, str]]:
        """(name, account) of up to ``limit`` customers (by name) having, for every typed word, a key that
        starts with it or is one of its typo keys: a superset of the names it matches (name_match.match
        decides). Index look-ups only: per typed word a key range and a few equal keys of the primary key."""
        k = orm.customer_name_keys
        t = orm.customers
        query = select(t.c.name, t.c.account)
        for word in typed[: name_match.MAX_WORDS]:
            hits = k.c.key.in_(sorted(name_match.typo_keys(word))) | ((k.c.key >= word) & (k.c.key < _after(word)))
            query = query.where(t.c.account.in_(select(k.c.account).where(hits)))
        rows = self.conn.execute(query.order_by(t.c.name, t.c.account).limit(limit))
        return [(r.name, r.account) for r in rows]

    def search(self, text: str, limit: int = MAX_RESULTS, after: tuple[str, str] | None = None) -> list[Customer]:
        """Name (any word), phone, email, account or sales order; prefix match, '*' wildcard.
        Ordered by name and account; ``after`` = the (name, account) of the previous page's last one."""
        pattern = _pattern(text)
        t = orm.customers
        conditions = [
            func.lower(t.c.account).like(pattern, escape="\\"),
            t.c.name_search.like(pattern, escape="\\"),
            t.c.name_search.like("% " + pattern, escape="\\"),
            t.c.email.like(pattern, escape="\\"),
            t.c.account.in_(
                select(orm.sales_orders.c.account).where(
                    func.lower(orm.sales_orders.c.sales_id).like(pattern, escape="\\")
                )
            ),
        ]
        digits = _digits(text)
        if len(digits) >= 4 and not re.search(r"[a-zA-Z]", text):  # local number without country code too
            conditions.append(t.c.phone_digits.like("%" + digits + "%"))
        return self._page(select(t).where(or_(*conditions)), after, limit)

    def page(self, after: tuple[str, str] | None, limit: int) -> list[Customer]:
        """All customers by name and account, a page at a time."""
        return self._page(select(orm.customers), after, limit)

    def _page(self, query: Select[Any], after: tuple[str, str] | None, limit: int) -> list[Customer]:
        t = orm.customers
        if after is not None:
            query = query.where(tuple_(t.c.name, t.c.account) > tuple_(literal(after[0]), literal(after[1])))
        rows = self.conn.execute(query.order_by(t.c.name, t.c.account).limit(limit))
        return [self._customer(r) for r in rows]

    def _customer(self, row: Row[Any]) -> Customer:
        addresses = self.conn.execute(
            select(orm.addresses).where(orm.addresses.c.account == row.account).order_by(orm.addresses.c.id)
        )
        return Customer(
            row.account,
            row.name,
            row.phone,
            row.email,
            row.language,
            [Address(a.purpose, a.street, a.city, a.postal_code, a.country) for a in addresses],
        )

    # -- cards --------------------------------------------------------------------------
    def save_card(self, account: str, card: Card) -> None:
        self.conn.execute(
            insert(orm.cards).values(
                token=card.token,
                account=account,
                brand=card.brand,
                last4=card.last4,
                expiry_month=card.expiry.month,
                expiry_year=card.expiry.year,
                holder=card.holder,
            )
        )

    def card(self, token: str) -> Card:
        row = self.conn.execute(select(orm.cards).where(orm.cards.c.token == token)).first()
        if row is None:
            raise NotFound("no such card token", "card_not_found")
        return _card(row)

    def cards(self, account: str) -> list[Card]:
        return [_card(r) for r in self.conn.execute(select(orm.cards).where(orm.cards.c.account == account))]

    def default_card(self, account: str) -> str | None:
        t = orm.cards
        query = select(t.c.token).where(t.c.account == account, t.c.is_default, t.c.removed_at.is_(None))
        return self.conn.execute(query.limit(1)).scalar()

    def removed_cards(self, account: str) -> set[str]:
        t = orm.cards
        return set(
            self.conn.execute(select(t.c.token).where(t.c.account == account, t.c.removed_at.is_not(None))).scalars()
        )

    def set_default_card(self, account: str, token: str | None) -> None:
        t = orm.cards
        self.conn.execute(
            update(t).where(t.c.account == account).values(is_default=t.c.token == token if token else False)
        )

    def remove_cards(self, tokens: tuple[str, ...], now: datetime) -> None:
        t = orm.cards
        self.conn.execute(update(t).where(t.c.token.in_(tokens)).values(removed_at=now, is_default=False))

    def open_orders_paying_with(self, tokens: tuple[str, ...]) -> list[str]:
        """The orders with an open continuity line charged on one of these cards."""
        t = orm.continuity_lines
        query = select(t.c.sales_id).where(t.c.card_token.in_(tokens), t.c.status == LineStatus.OPEN.value)
        return sorted(set(self.conn.execute(query).scalars()))

    def last_charges(self, account: str) -> dict[str, LastCharge]:
        """Per card token of the customer: its last answered charge (authorize or capture) attempt."""
        a = orm.payment_attempts
        answered = (
            a.c.card_token.in_(select(orm.cards.c.token).where(orm.cards.c.account == account)),
            a.c.operation.in_([op.value for op in CHARGES]),
            a.c.status.in_([AttemptStatus.APPROVED.value, AttemptStatus.DECLINED.value]),
        )
        last = select(func.max(a.c.attempt_id).label("attempt_id")).where(*answered).group_by(a.c.card_token)
        rows = self.conn.execute(
            select(a.c.card_token, a.c.attempt_id, a.c.status).where(a.c.attempt_id.in_(last.scalar_subquery()))
        )
        return {r.card_token: (r.attempt_id, r.status == AttemptStatus.DECLINED.value) for r in rows}


def _card(row: Row[Any]) -> Card:
    return Card(row.token, row.brand, row.last4, Expiry(row.expiry_month, row.expiry_year), row.holder)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _after(prefix: str) -> str:
    """The least string above every string starting with ``prefix`` (bytewise, as the keys compare)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _pattern(text: str) -> str:
    cleaned = text.strip().lower()
    if not cleaned or cleaned.strip("*") == "":
        raise ValidationFailed("type at least one letter or digit to search", "search_text_empty")
    escaped = cleaned.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%") + "%"  # always a prefix match; '*' matches anything inside
