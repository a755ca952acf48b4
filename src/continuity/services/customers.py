"""Customers for the API: create, get, search (the CLI's matching) page by page, and their cards."""

from __future__ import annotations

from datetime import date

from continuity.domain.card import Card, SavedCard, saved_cards
from continuity.domain.customer import Customer
from continuity.domain.errors import NotFound, RuleViolation, ValidationFailed
from continuity.services.ports import UowFactory


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


def cards(uow_factory: UowFactory, account: str) -> list[Card]:
    with uow_factory() as uow:
        uow.customers.get(account)
        return uow.customers.cards(account)


def saved(uow_factory: UowFactory, account: str, day: date) -> list[SavedCard]:
    """The customer's cards as offered and listed to the agent: one per physical card (its newest expiry,
    the older rows as replaced), marked expired on ``day`` and declined when its last charge was."""
    with uow_factory() as uow:
        uow.customers.get(account)
        return saved_cards(uow.customers.cards(account), uow.customers.last_charges(account), day)
