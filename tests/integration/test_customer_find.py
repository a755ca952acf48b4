"""The agent's search in the database (SQLite and PostgreSQL): names in any order, one typo per word,
found through the name keys (issue 18 item 9); a customer changed or added is found by its new name."""

from __future__ import annotations

from sqlalchemy import func, select

from continuity.adapters import orm
from continuity.domain.customer import Customer
from continuity.services import customers


def _names(app, text: str, limit: int = 25) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.name for c in customers.find(app.uow, text, limit)]


def test_surname_first_and_one_typo_find_karen(demo_app):
    assert _names(demo_app, "Karen Berg") == ["Karen Berg"]
    assert _names(demo_app, "Berg Karen") == ["Karen Berg"]
    assert _names(demo_app, "Karen Bereg") == ["Karen Berg"]
    assert _names(demo_app, "bereg") == ["Karen Berg"]
    assert _names(demo_app, "Lindqvst erik") == ["Erik Lindqvist"]
    assert _names(demo_app, "Karen Bregg") == []  # two typos in one word


def test_phone_account_and_order_number_still_work(demo_app):
    assert _names(demo_app, "004007") == ["Karen Berg"]
    assert _names(demo_app, "22 33 44") == ["Karen Berg"]
    assert _names(demo_app, "karen.berg@") == ["Karen Berg"]


def test_exact_names_come_before_typos(demo_app):
    customers.create_customer(demo_app.uow, Customer("900001", "Karin Berg"))
    customers.create_customer(demo_app.uow, Customer("900002", "Karen Bergström"))
    assert _names(demo_app, "Karen Berg") == ["Karen Berg", "Karen Bergström", "Karin Berg"]
    assert _names(demo_app, "Karen Berg", limit=2) == ["Karen Berg", "Karen Bergström"]


def test_the_keys_follow_the_name_when_a_customer_is_saved(demo_app):
    with demo_app.uow() as uow:
        karen = uow.customers.get("004007")
        karen.name = "Karen Solberg"
        uow.customers.save(karen)
        uow.commit()
    assert _names(demo_app, "solbreg karen") == ["Karen Solberg"]
    assert _names(demo_app, "Berg Karen") == []
    with demo_app.engine.connect() as conn:
        keys = conn.execute(
            select(func.count()).select_from(orm.customer_name_keys).where(orm.customer_name_keys.c.account == "004007")
        ).scalar_one()
    assert keys == len({"karen", "aren", "kren", "kaen", "karn", "kare"} | {"solberg"} | _deletions("solberg"))


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def test_the_candidates_come_from_the_keys_not_from_the_names(demo_app):
    """Without its keys a customer is not a candidate: the search reads the key index, not every name."""
    with demo_app.engine.begin() as conn:
        conn.execute(orm.customer_name_keys.delete().where(orm.customer_name_keys.c.account == "004007"))
    assert _names(demo_app, "Berg Karen") == []
