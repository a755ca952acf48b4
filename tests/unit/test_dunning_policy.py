"""The dunning policy (domain/dunning.py): decline classes, the retry schedule and its window, and the
decline codes of the connectors (the test connector's cards, Stripe's decline_code names)."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import stripe

from continuity.adapters.stripe_answers import declined, intent_result
from continuity.domain.dunning import (
    DeclineClass,
    DeclineCode,
    DunningPolicy,
    decline_class,
    decline_code,
    parse_retry_days,
)
from continuity.domain.errors import ValidationFailed
from continuity.domain.program import ContinuityParameters
from continuity.services.notification_texts import TEXTS, render

FIRST = date(2026, 11, 23)
DAY = timedelta(days=1)
POLICY = DunningPolicy()


@pytest.mark.parametrize(
    ("code", "klass"),
    [
        ("lost_card", "hard"),
        ("stolen_card", "hard"),
        ("invalid_account", "hard"),
        ("fraud", "hard"),
        ("expired_card", "hard"),
        ("insufficient_funds", "soft"),
        ("issuer_unavailable", "soft"),
        ("generic", "soft"),
        ("", "soft"),
        ("something_new", "soft"),
    ],
)
def test_every_code_has_a_class(code, klass):
    assert decline_class(code) == DeclineClass(klass)


def test_an_unknown_code_reads_as_generic():
    assert decline_code("whatever") == DeclineCode.GENERIC and decline_code("lost_card") == DeclineCode.LOST_CARD


def test_the_default_schedule_retries_on_days_1_3_5_and_7_after_the_first_decline():
    retried, declines = [], 1
    for k in range(20):
        day = FIRST + k * DAY
        if k and POLICY.may_retry(FIRST, declines, day, hard=False):
            retried.append(k)
            declines += 1
    assert retried == [1, 3, 5, 7]
    assert POLICY.exhausted(declines, hard=False)


def test_missed_days_are_caught_up_one_retry_a_day_but_never_after_the_window():
    assert POLICY.retries_due(FIRST, FIRST + 6 * DAY) == 3
    assert POLICY.may_retry(FIRST, 3, FIRST + 6 * DAY, hard=False)  # retries 1 and 2 made, 3 is due
    assert not POLICY.may_retry(FIRST, 4, FIRST + 6 * DAY, hard=False)  # retry 4 is on day 7
    assert POLICY.retries_due(FIRST, FIRST + 14 * DAY) == 4
    assert POLICY.retries_due(FIRST, FIRST + 15 * DAY) == 0


def test_a_hard_decline_is_never_retried_and_has_no_next_retry():
    assert not POLICY.may_retry(FIRST, 1, FIRST + 3 * DAY, hard=True)
    assert POLICY.next_retry(FIRST, 1, FIRST, hard=True) is None
    assert POLICY.exhausted(1, hard=True)


def test_the_next_retry_date_follows_the_schedule():
    assert POLICY.next_retry(FIRST, 1, FIRST, hard=False) == FIRST + DAY
    assert POLICY.next_retry(FIRST, 2, FIRST + DAY, hard=False) == FIRST + 3 * DAY
    assert POLICY.next_retry(FIRST, 3, FIRST + 6 * DAY, hard=False) == FIRST + 7 * DAY  # caught up next day
    assert POLICY.next_retry(FIRST, 5, FIRST + 7 * DAY, hard=False) is None


@pytest.mark.parametrize(
    "policy",
    [
        DunningPolicy(retry_days=(3, 1)),
        DunningPolicy(retry_days=(0, 1)),
        DunningPolicy(retry_days=(1, 1)),
        DunningPolicy(retry_days=(1, 20), window_days=14),
        DunningPolicy(card_budget=-1),
        DunningPolicy(retry_days=tuple(range(1, 13)), window_days=30),
    ],
)
def test_a_bad_schedule_is_refused(policy):
    with pytest.raises(ValidationFailed) as refused:
        policy.validate()
    assert refused.value.code == "parameters_invalid"


def test_the_parameters_carry_the_policy_and_validate_it():
    params = ContinuityParameters(retry_days=(2, 4), retry_window_days=10, card_retry_budget=5)
    assert params.dunning() == DunningPolicy((2, 4), 10, 5, 30)
    with pytest.raises(ValidationFailed):
        ContinuityParameters(retry_days=(2, 40)).validate()
    assert parse_retry_days(" 1, 3,5 ,7") == (1, 3, 5, 7)
    with pytest.raises(ValidationFailed):
        parse_retry_days("1, three")


# -- Stripe's decline codes ------------------------------------------------------------------------
def _card_error(code: str, decline: str | None) -> stripe.CardError:
    body = {"error": {"type": "card_error", "code": code, "message": "Your card was declined."}}
    if decline:
        body["error"]["decline_code"] = decline
    return stripe.CardError("Your card was declined.", None, code, json_body=body)


@pytest.mark.parametrize(
    ("code", "decline", "ours"),
    [
        ("card_declined", "insufficient_funds", DeclineCode.INSUFFICIENT_FUNDS),
        ("card_declined", "issuer_not_available", DeclineCode.ISSUER_UNAVAILABLE),
        ("card_declined", "try_again_later", DeclineCode.ISSUER_UNAVAILABLE),
        ("card_declined", "generic_decline", DeclineCode.GENERIC),
        ("card_declined", "do_not_honor", DeclineCode.GENERIC),
        ("card_declined", "lost_card", DeclineCode.LOST_CARD),
        ("card_declined", "stolen_card", DeclineCode.STOLEN_CARD),
        ("card_declined", "fraudulent", DeclineCode.FRAUD),
        ("card_declined", "pickup_card", DeclineCode.FRAUD),
        ("card_declined", "invalid_account", DeclineCode.INVALID_ACCOUNT),
        ("expired_card", None, DeclineCode.EXPIRED_CARD),
        ("incorrect_number", None, DeclineCode.INVALID_ACCOUNT),
        ("processing_error", None, DeclineCode.ISSUER_UNAVAILABLE),
    ],
)
def test_stripes_decline_codes_map_to_our_codes(code, decline, ours):
    assert declined(_card_error(code, decline)).decline_code == ours
    error = SimpleNamespace(code=code, decline_code=decline, message="declined")
    intent = SimpleNamespace(id="pi_1", status="requires_payment_method", last_payment_error=error)
    assert intent_result(intent).decline_code == ours


# -- the notices' texts ----------------------------------------------------------------------------
@pytest.mark.parametrize("language", sorted(TEXTS))
def test_every_payment_notice_has_its_text_in_every_language(language):
    kinds = {"upcoming_charge", "paid", "payment_declined", "retries_exhausted", "update_card", "card_expiring"}
    assert kinds <= set(TEXTS[language])
    subject, body = render("update_card", language, "SO-1", {"amount_minor": 1980, "currency": "EUR"})
    assert "SO-1" in subject and "19.80 EUR" in body
