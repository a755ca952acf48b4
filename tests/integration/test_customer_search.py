"""Customer search on the demo data (SQLite and PostgreSQL): name, phone, email, account, sales order.

The tests share one demo database per engine (see conftest's shared_demo_database_url)."""

from __future__ import annotations

from datetime import date

import pytest

from continuity.adapters.clock import FixedClock
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.domain.errors import ValidationFailed
from continuity.services import order_entry


@pytest.fixture
def demo_app(shared_demo_database_url):
    app = bootstrap(Settings(shared_demo_database_url, None, None), clock=FixedClock(date(2026, 11, 23)))
    yield app
    app.engine.dispose()


def _search(app, text: str) -> list[tuple[str, str]]:
    with app.uow() as uow:
        return [(c.account, c.name) for c in uow.customers.search(text)]


KAREN = [("004007", "Karen Berg")]


KAREN_SEARCHES = [
    "Karen",  # first name
    "karen",  # any case
    "berg",  # surname, lower case
    "BERG",  # surname, upper case
    "Karen Berg",  # the full name
    "Kar*",  # wildcard at the end
    "*berg",  # wildcard at the start
    "K*n B*g",  # wildcards inside
    "4722334455",  # phone digits
    "+47 22 33 44 55",  # phone as written
    "47 22 33",  # phone prefix
    "*22334455",  # phone without the country code, by wildcard
    "karen.berg@",  # email prefix
    "KAREN.BERG@EXAMPLE.COM",  # whole email, any case
    "004007",  # account
]


def test_each_kind_of_search_finds_exactly_karen_berg(demo_app):
    # one database for the whole table of cases (a fresh demo load per case would be slow)
    found = {text: _search(demo_app, text) for text in KAREN_SEARCHES}
    assert found == {text: KAREN for text in KAREN_SEARCHES}


def test_a_surname_does_not_match_inside_another_word(demo_app):
    # "berg" is Karen's surname; the city Bergen or Lars' "Nilsen" must not pull anyone else in
    assert _search(demo_app, "nilsen") == [("004011", "Lars Nilsen")]
    assert _search(demo_app, "erg") == []


def test_an_account_prefix_finds_every_demo_customer_in_name_order(demo_app):
    found = _search(demo_app, "0040")
    assert len(found) == 6
    assert [name for _, name in found] == sorted(name for _, name in found)


def test_a_sales_order_id_finds_that_orders_customer(demo_app):
    app = demo_app
    lars = order_entry.create_order_with_line(app.uow, app.clock, "004011", "0013")
    karen = order_entry.create_order_with_line(app.uow, app.clock, "004007", "88000")
    assert _search(app, karen) == KAREN
    assert _search(app, karen.lower()) == KAREN
    assert _search(app, lars) == [("004011", "Lars Nilsen")]


def test_nothing_matches_an_unknown_name(demo_app):
    assert _search(demo_app, "Zebedee") == []


def test_wildcard_characters_of_sql_are_taken_literally(demo_app):
    assert _search(demo_app, "%") == []
    assert _search(demo_app, "_aren") == []


def test_empty_search_text_is_refused(demo_app):
    for text in ["", "   ", "*", "**"]:
        with pytest.raises(ValidationFailed) as err:
            _search(demo_app, text)
        assert err.value.code == "search_text_empty", text
