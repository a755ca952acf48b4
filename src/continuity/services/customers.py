"""Customers for the API: create, get, search (the CLI's matching) page by page, and their cards."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from continuity.domain import name_match
from continuity.domain.audit import Actor, AuditEntry, Entity
from continuity.domain.card import Card, SavedCard, ensure_removable, find_saved, saved_cards
from continuity.domain.customer import Customer
from continuity.domain.errors import NotFound, RuleViolation, ValidationFailed
from continuity.services.ports import Clock, UnitOfWork, UowFactory


def create_customer(uow_factory: UowFactory, customer: Customer) -> Customer:
    customer.checked()
    with uow_factory() as uow:
        try:
            uow.customers.get(customer.account)
        except NotFound:
            uow.customers.add(customer)
            uow.commit()
            return customer
    raise RuleViolation(f"there is already a customer with account {customer.account!r}", "customer_exists")


def register_customer(uow_factory: UowFactory, clock: Clock, actor: Actor, customer: Customer) -> Customer:
    """A new customer with a new account number (the one given is ignored): the web's "New customer";
    audited."""
    customer.checked()
    with uow_factory() as uow:
        created = replace(customer, account=uow.customers.next_account())
        uow.customers.add(created)
        entry = AuditEntry(actor, Entity.CUSTOMER, created.account, "create_customer", None, _details(created))
        uow.audit.add(entry, clock.now())
        uow.commit()
        return created


def update_customer(uow_factory: UowFactory, clock: Clock, actor: Actor, customer: Customer) -> Customer:
    """Change a customer's name, contact details, language and addresses (the account stays); audited,
    before and after."""
    customer.checked()
    with uow_factory() as uow:
        before = uow.customers.get(customer.account)
        uow.customers.update(customer)
        entry = AuditEntry(
            actor, Entity.CUSTOMER, customer.account, "update_customer", _details(before), _details(customer)
        )
        uow.audit.add(entry, clock.now())
        uow.commit()
        return customer


def _details(c: Customer) -> dict[str, object]:
    return {
        "name": c.name,
        "phone": c.phone,
        "email": c.email,
        "language": c.language,
        "addresses": [f"{a.purpose}: {a.one_line}" for a in c.addresses],
    }


def customer(uow_factory: UowFactory, account: str) -> Customer:
    with uow_factory() as uow:
        return uow.customers.get(account)


def search(uow_factory: UowFactory, text: str | None, after_account: str | None, limit: int) -> list[Customer]:
    """By name (any word), phone, e-mail, account or sales order like `customers search`; all when no text.
    Ordered by name then account; ``after_account`` is the account of the last one seen."""
    with uow_factory() as uow:
        after = None
        if after_account is not None:
            try:
                after = (uow.customers.get(after_account).name, after_account)
            except NotFound:
                raise ValidationFailed(
                    "the cursor points at a customer that no longer exists", "cursor_invalid"
                ) from None
        return uow.customers.search(text, limit=limit, after=after) if text else uow.customers.page(after, limit)


#: the most customers whose names are compared with the typed words for one search
NAME_CANDIDATES = 200


def find(uow_factory: UowFactory, text: str, limit: int) -> list[Customer]:
    """The agent's search (as they type): what ``search`` finds (phone, e-mail, account, order number, the
    start of the name) and the names the typed words match in any order with one typo per word
    (name_match); exact matches first, then those with typos, each by name."""
    typed = name_match.words(text) if not re.search(r"[\d@*]", text) else []
    with uow_factory() as uow:
        found = {c.account: c for c in uow.customers.search(text, limit=limit)}
        names = uow.customers.name_candidates(typed, NAME_CANDIDATES) if typed else []
        ranked = name_match.ranked(typed, [(c.name, c.account) for c in found.values()] + names)
        typos = {account: cost for cost, _, account in ranked}
        order = sorted(found, key=lambda a: (typos.get(a, 0), found[a].name, a))
        order += [account for _, _, account in ranked if account not in found]
        return [found[a] if a in found else uow.customers.get(a) for a in order[:limit]]


def named(uow_factory: UowFactory, accounts: list[str]) -> list[tuple[str, str]]:
    """(account, name) of these customers in the order given; an account no longer known is left out."""
    with uow_factory() as uow:
        names = uow.customers.names(accounts)
    return [(a, names[a]) for a in accounts if a in names]


def cards(uow_factory: UowFactory, account: str) -> list[Card]:
    with uow_factory() as uow:
        uow.customers.get(account)
        return uow.customers.cards(account)


def saved(uow_factory: UowFactory, account: str, day: date) -> list[SavedCard]:
    """The customer's cards as offered and listed to the agent: one per physical card (its newest expiry,
    the older rows as replaced), marked expired on ``day``, declined when its last charge was, and default;
    a removed card is not among them."""
    with uow_factory() as uow:
        uow.customers.get(account)
        return _saved(uow, account, day)


def _saved(uow: UnitOfWork, account: str, day: date) -> list[SavedCard]:
    removed = uow.customers.removed_cards(account)
    live = [c for c in uow.customers.cards(account) if c.token not in removed]
    return saved_cards(live, uow.customers.last_charges(account), day, uow.customers.default_card(account))


def set_default_card(uow_factory: UowFactory, clock: Clock, actor: Actor, account: str, token: str) -> SavedCard:
    """Make the card (any of its entries' tokens) the customer's default; audited. Not an expired one."""
    with uow_factory() as uow:
        uow.customers.get(account)
        entry = find_saved(_saved(uow, account, clock.today()), token)
        entry.card.ensure_usable_on(clock.today())  # an expired card is no default
        before = uow.customers.default_card(account)
        uow.customers.set_default_card(account, entry.card.token)
        uow.audit.add(
            _card_entry(
                actor,
                account,
                entry,
                "set_default_card",
                {"default": before is not None and before in entry.tokens},
                {"default": True},
            ),
            clock.now(),
        )
        uow.commit()
        return replace(entry, default=True)


def remove_card(uow_factory: UowFactory, clock: Clock, actor: Actor, account: str, token: str) -> SavedCard:
    """Soft-remove the card (all its entries): never offered again, the rows kept for the orders that paid
    with it. Refused (card_in_use) while an open continuity line pays with it; audited."""
    with uow_factory() as uow:
        uow.customers.get(account)
        entry = find_saved(_saved(uow, account, clock.today()), token)
        ensure_removable(entry, uow.customers.open_orders_paying_with(entry.tokens))
        uow.customers.remove_cards(entry.tokens, clock.now())
        uow.audit.add(
            _card_entry(
                actor,
                account,
                entry,
                "remove_card",
                {"removed": False, "default": entry.default},
                {"removed": True, "default": False},
            ),
            clock.now(),
        )
        uow.commit()
        return entry


def orders_paying_with(uow_factory: UowFactory, clock: Clock, account: str, token: str) -> list[str]:
    """The orders whose open continuity line pays with this card (any of its entries)."""
    with uow_factory() as uow:
        entry = find_saved(_saved(uow, account, clock.today()), token)
        return uow.customers.open_orders_paying_with(entry.tokens)


def _card_entry(
    actor: Actor, account: str, entry: SavedCard, action: str, before: dict[str, object], after: dict[str, object]
) -> AuditEntry:
    card = {"card": entry.card.masked, "expiry": str(entry.card.expiry)}
    return AuditEntry(
        actor,
        Entity.CARD,
        f"{account}:{entry.card.brand}:{entry.card.last4}",
        action,
        {**card, **before},
        {**card, **after},
    )
