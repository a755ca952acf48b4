"""The test connector's decline cards (adapters/test_gateway.py): each answers its decline code, also
when the answer is looked up again."""

from __future__ import annotations

from datetime import date

import pytest

from continuity.adapters.db import make_engine
from continuity.adapters.test_gateway import TestConnector
from continuity.domain.card import Expiry
from continuity.domain.dunning import DeclineClass, decline_class
from continuity.domain.money import Money
from continuity.services.ports import GatewayOutcome


@pytest.mark.parametrize(
    ("number", "code", "klass"),
    [
        ("4000000000000002", "generic", "soft"),
        ("4000000000009995", "insufficient_funds", "soft"),
        ("4000000000009987", "lost_card", "hard"),
        ("4000000000009979", "stolen_card", "hard"),
        ("4000000000000069", "expired_card", "hard"),
        ("4111111111111111", "", None),
    ],
)
def test_each_test_card_answers_its_decline_code(empty_database_url, number, code, klass):
    gateway = TestConnector(make_engine(empty_database_url))
    card = gateway.tokenize(number, Expiry(12, 2030), "Karen", date(2026, 11, 23))

    answer = gateway.capture(card.token, Money.from_minor(1980, "EUR"), f"key-{number}")
    again = gateway.lookup(f"key-{number}")

    assert answer.decline_code == again.decline_code == code
    assert answer.outcome == (GatewayOutcome.APPROVED if klass is None else GatewayOutcome.DECLINED)
    if klass:
        assert decline_class(answer.decline_code) == DeclineClass(klass)
