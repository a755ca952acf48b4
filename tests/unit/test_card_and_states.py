"""Cards (number check, expiry, brand) and the state tables of orders and payments."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from continuity.domain.card import Card, Expiry, brand_of, validate_card_number
from continuity.domain.errors import CardExpired, CardInvalid, InvalidTransition
from continuity.domain.money import Money
from continuity.domain.payments import PaymentStatus, check_payment_transition
from continuity.domain.sales_order import BillingMode, OrderStatus, SalesLine, SalesOrder, check_transition

PROPERTY = settings(deadline=None, max_examples=200)


def with_check_digit(body: str) -> str:
    """``body`` plus the one digit that makes the whole number pass the Luhn check."""
    for digit in "0123456789":
        number = body + digit
        doubled = "".join(str(int(c) * (1 + i % 2)) for i, c in enumerate(reversed(number)))
        if sum(int(c) for c in doubled) % 10 == 0:
            return number
    raise AssertionError("unreachable")


#: Published test numbers of the card networks (and of PRODUCT.md §4's test connector).
KNOWN_VALID = [
    "4111111111111111",
    "4000000000000002",
    "4000000000000119",
    "5555555555554444",
    "378282246310005",
    "4222222222222",
    "6011111111111117",
    "2223003122003222",
]


def test_the_check_digit_helper_agrees_with_the_published_test_numbers():
    assert [with_check_digit(n[:-1]) for n in KNOWN_VALID] == KNOWN_VALID


# --- validate_card_number -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        pytest.param("4111111111111111", "4111111111111111", id="visa_16_digits"),
        pytest.param("4111 1111 1111 1111", "4111111111111111", id="grouped_with_spaces"),
        pytest.param("4111-1111-1111-1111", "4111111111111111", id="grouped_with_dashes"),
        pytest.param(" 5555 5555-5555 4444 ", "5555555555554444", id="mixed_separators_and_padding"),
        pytest.param("378282246310005", "378282246310005", id="amex_15_digits"),
        pytest.param("4222222222222", "4222222222222", id="13_digits_the_shortest"),
        pytest.param(
            with_check_digit("411111111111111111"), with_check_digit("411111111111111111"), id="19_digits_the_longest"
        ),
    ],
)
def test_a_card_number_is_accepted_and_reduced_to_its_digits(text, digits):
    assert validate_card_number(text) == digits


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("4111111111111112", id="luhn_check_fails"),
        pytest.param(with_check_digit("41111111111"), id="12_digits_too_short_though_luhn_valid"),
        pytest.param(with_check_digit("4111111111111111111"), id="20_digits_too_long_though_luhn_valid"),
        pytest.param("4111x11111111111", id="a_letter"),
        pytest.param("4111.1111.1111.1111", id="dots_are_not_separators"),
        pytest.param("", id="empty"),
        pytest.param("                ", id="only_spaces"),
        pytest.param("٤١١١١١١١١١١١١١١١", id="arabic_indic_digits"),
        pytest.param("411111111111111²", id="a_superscript_digit"),
    ],
)
def test_a_card_number_is_refused(text):
    with pytest.raises(CardInvalid) as caught:
        validate_card_number(text)
    assert caught.value.code == "card_number_invalid"


@pytest.mark.parametrize("number", KNOWN_VALID)
def test_every_single_mistyped_digit_is_caught(number):
    for position, digit in itertools.product(range(len(number)), "0123456789"):
        if number[position] == digit:
            continue
        typo = number[:position] + digit + number[position + 1 :]
        with pytest.raises(CardInvalid):
            validate_card_number(typo)


def _refusal(text: str) -> CardInvalid | None:
    try:
        validate_card_number(text)
    except CardInvalid as exc:
        return exc
    return None


@PROPERTY
@given(
    body=st.text(alphabet="0123456789", min_size=12, max_size=18),
    bad=st.integers(1, 9),
    separator=st.sampled_from(["", " ", "-"]),
)
def test_the_error_message_never_contains_the_card_number(body, bad, separator):
    good = with_check_digit(body)
    number = good[:-1] + str((int(good[-1]) + bad) % 10)  # a wrong check digit
    typed = separator.join(number[i : i + 4] for i in range(0, len(number), 4))
    exc = _refusal(typed)
    assert exc is not None
    shown = " ".join([str(exc), exc.message, repr(exc.args)])
    for text in (number, typed, number[:6], number[-8:]):
        assert text not in shown


@PROPERTY
@given(text=st.text(max_size=25))
def test_any_text_is_either_ascii_digits_of_a_valid_length_or_refused(text):
    try:
        digits = validate_card_number(text)
    except CardInvalid as exc:
        assert exc.code == "card_number_invalid"
        digits_in_text = "".join(c for c in text if c in "0123456789")
        assert len(digits_in_text) < 6 or digits_in_text not in str(exc)
        return
    assert digits.isascii() and digits.isdigit() and 13 <= len(digits) <= 19


@PROPERTY
@given(body=st.text(alphabet="0123456789", min_size=12, max_size=18))
def test_any_luhn_valid_number_of_13_to_19_digits_is_accepted(body):
    number = with_check_digit(body)
    assume(len(number) >= 13)
    assert validate_card_number(number) == number


# --- brand ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "brand"),
    [
        ("4111111111111111", "visa"),
        ("4222222222222", "visa"),
        ("5105105105105100", "mastercard"),
        ("5555555555554444", "mastercard"),
        ("2221000000000009", "mastercard"),
        ("2720999999999996", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("2220990000000000", "card"),
        ("2721000000000000", "card"),
        ("5655555555554444", "card"),
        ("5011111111111111", "card"),
        ("378282246310005", "amex"),
        ("341111111111111", "amex"),
        ("351111111111111", "card"),
        ("6011111111111117", "card"),
    ],
)
def test_the_brand_of_a_card_number(digits, brand):
    assert brand_of(digits) == brand


# --- expiry ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "month", "year"),
    [
        ("12/29", 12, 2029),
        ("1/2030", 1, 2030),
        ("01/30", 1, 2030),
        (" 03 / 27 ", 3, 2027),
        ("9/2031", 9, 2031),
        ("1229", 12, 2029),
        ("12 / 2030", 12, 2030),
        ("122030", 12, 2030),  # issue 18 item 3: as agents type it
    ],
)
def test_an_expiry_is_read_as_month_and_four_digit_year(text, month, year):
    assert Expiry.parse(text) == Expiry(month, year)


@pytest.mark.parametrize(
    "text",
    [
        "13/29",
        "0/29",
        "00/29",
        "12/2",
        "12/029",
        "12/20299",
        "1329",
        "0029",
        "12-29",
        "",
        "ab/cd",
        "12/",
        "/29",
        "123/29",
        "123",
        "12345",
    ],
)
def test_a_bad_expiry_is_refused_with_card_expiry_invalid(text):
    with pytest.raises(CardInvalid) as caught:
        Expiry.parse(text)
    assert caught.value.code == "card_expiry_invalid"


def test_an_expiry_prints_as_mm_yy():
    assert str(Expiry(3, 2027)) == "03/27"
    assert str(Expiry.parse("11/2030")) == "11/30"


@pytest.mark.parametrize(
    ("expiry", "day", "expired"),
    [
        pytest.param("02/28", "2028-02-29", False, id="valid_through_the_leap_day_ending_its_month"),
        pytest.param("02/28", "2028-03-01", True, id="expired_the_day_after_its_month"),
        pytest.param("02/27", "2027-02-28", False, id="valid_through_feb_28_in_a_common_year"),
        pytest.param("02/27", "2027-03-01", True, id="expired_on_mar_1_in_a_common_year"),
        pytest.param("04/26", "2026-04-01", False, id="valid_on_the_first_of_its_month"),
        pytest.param("12/26", "2026-12-31", False, id="valid_through_dec_31"),
        pytest.param("12/26", "2027-01-01", True, id="expired_on_new_year"),
        pytest.param("06/25", "2026-01-01", True, id="long_expired"),
        pytest.param("12/9999", "2026-01-01", False, id="a_far_future_expiry_does_not_overflow"),
    ],
)
def test_a_card_is_valid_through_the_last_day_of_its_expiry_month(expiry, day, expired):
    assert Expiry.parse(expiry).is_expired_on(date.fromisoformat(day)) is expired


def test_an_expired_card_is_refused_by_ensure_usable_on():
    card = Card("tok_1", "visa", "1111", Expiry(2, 2028))
    card.ensure_usable_on(date(2028, 2, 29))
    with pytest.raises(CardExpired) as caught:
        card.ensure_usable_on(date(2028, 3, 1))
    assert caught.value.code == "card_expired"
    assert "1111" in caught.value.message and "02/28" in caught.value.message


def test_a_card_is_shown_masked_with_brand_and_last_4():
    assert Card("tok_1", "visa", "1111", Expiry(2, 2028)).masked == "visa •••• 1111"


# --- sales order transitions --------------------------------------------------------------------

OS = OrderStatus
#: The order life cycle as the product expects it (parent and child orders).
ORDER_MOVES = {
    OS.DRAFT: {OS.SUBMITTING, OS.OPEN, OS.ON_HOLD, OS.CANCELLED},
    OS.SUBMITTING: {OS.OPEN, OS.ON_HOLD},  # one submit holds the order while the gateway answers
    OS.ON_HOLD: {OS.SUBMITTING, OS.OPEN, OS.CANCELLED},
    OS.OPEN: {OS.ON_HOLD, OS.RELEASED, OS.CLOSED, OS.CANCELLED},
    OS.RELEASED: {OS.ON_HOLD, OS.SHIPPED, OS.CANCELLED},
    OS.SHIPPED: {OS.INVOICED},
    OS.INVOICED: set(),
    OS.CLOSED: set(),
    OS.CANCELLED: set(),
}
ALLOWED_ORDER_MOVES = [(a, b) for a, targets in ORDER_MOVES.items() for b in sorted(targets)]
REFUSED_ORDER_MOVES = [(a, b) for a in OS for b in OS if a != b and b not in ORDER_MOVES[a]]


@pytest.mark.parametrize(("current", "target"), ALLOWED_ORDER_MOVES, ids=lambda s: s.value)
def test_an_order_may_move(current, target):
    check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), REFUSED_ORDER_MOVES, ids=lambda s: s.value)
def test_an_order_may_not_move(current, target):
    with pytest.raises(InvalidTransition) as caught:
        check_transition(current, target)
    assert caught.value.code == "invalid_transition"
    assert (caught.value.current, caught.value.target) == (current.value, target.value)


@pytest.mark.parametrize("status", list(OS), ids=lambda s: s.value)
def test_moving_an_order_to_its_own_status_is_a_no_op(status):
    check_transition(status, status)


def test_an_invoiced_order_cannot_be_reopened_and_the_error_names_both_states():
    with pytest.raises(InvalidTransition) as caught:
        check_transition(OS.INVOICED, OS.OPEN, "child order")
    assert caught.value.code == "invalid_transition"
    assert caught.value.message == "child order cannot move from invoiced to open"


def test_the_order_table_covers_every_status_pair():
    assert len(ALLOWED_ORDER_MOVES) + len(REFUSED_ORDER_MOVES) + len(OS) == len(OS) ** 2


def _order(status: OrderStatus) -> SalesOrder:
    return SalesOrder("SO-1", "004007", date(2026, 1, 1), "USD", status=status)


def test_move_to_keeps_the_hold_reason_only_while_on_hold():
    order = _order(OS.DRAFT)
    order.move_to(OS.ON_HOLD, "card declined")
    assert (order.status, order.hold_reason) == (OS.ON_HOLD, "card declined")
    order.move_to(OS.OPEN, "ignored")
    assert (order.status, order.hold_reason) == (OS.OPEN, "")


def test_a_refused_move_leaves_the_order_as_it_was():
    order = _order(OS.SHIPPED)
    with pytest.raises(InvalidTransition):
        order.move_to(OS.CANCELLED, "too late")
    assert (order.status, order.hold_reason) == (OS.SHIPPED, "")


# --- payment transitions --------------------------------------------------------------------------

PS = PaymentStatus
#: One table for order payments and installments. A declined payment may be retried (and decline again).
#: A charge is in flight from its attempt's commit until its answer is recorded (never cancelled meanwhile);
#: an unknown one stays unknown while lookups get no answer.
PAYMENT_MOVES = {
    PS.NOT_SUBMITTED: {PS.IN_FLIGHT, PS.AUTHORIZED, PS.DECLINED, PS.UNKNOWN, PS.PAID, PS.CANCELLED},
    PS.DECLINED: {PS.IN_FLIGHT, PS.AUTHORIZED, PS.DECLINED, PS.UNKNOWN, PS.PAID, PS.CANCELLED},
    PS.IN_FLIGHT: {PS.AUTHORIZED, PS.DECLINED, PS.UNKNOWN, PS.PAID},
    PS.UNKNOWN: {PS.AUTHORIZED, PS.DECLINED, PS.UNKNOWN, PS.PAID, PS.CANCELLED},
    PS.AUTHORIZED: {PS.IN_FLIGHT, PS.PAID, PS.CANCELLED},
    PS.PAID: set(),
    PS.CANCELLED: set(),
}
ALLOWED_PAYMENT_MOVES = [(a, b) for a, targets in PAYMENT_MOVES.items() for b in sorted(targets)]
REFUSED_PAYMENT_MOVES = [(a, b) for a in PS for b in PS if b not in PAYMENT_MOVES[a]]


@pytest.mark.parametrize(("current", "target"), ALLOWED_PAYMENT_MOVES, ids=lambda s: s.value)
def test_a_payment_may_move(current, target):
    check_payment_transition(current, target)


@pytest.mark.parametrize(("current", "target"), REFUSED_PAYMENT_MOVES, ids=lambda s: s.value)
def test_a_payment_may_not_move(current, target):
    with pytest.raises(InvalidTransition) as caught:
        check_payment_transition(current, target, "installment")
    assert caught.value.code == "invalid_transition"
    assert caught.value.message == f"installment cannot move from {current.value} to {target.value}"


def test_paid_and_cancelled_payments_are_final():
    for final in (PS.PAID, PS.CANCELLED):
        for target in PS:
            with pytest.raises(InvalidTransition):
                check_payment_transition(final, target)


# --- billing mode ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bill_up_front", "schedule", "mode"),
    [
        pytest.param(False, None, BillingMode.PAY_ALL_LATER, id="not_up_front_without_schedule_pays_per_child"),
        pytest.param(False, "PS3", BillingMode.INSTALLMENTS, id="not_up_front_with_schedule_pays_installments"),
        pytest.param(True, None, BillingMode.PAY_ALL_NOW, id="up_front_without_schedule_pays_all_at_submit"),
        pytest.param(True, "PS3", BillingMode.INSTALLMENTS, id="up_front_with_schedule_pays_installments"),
        pytest.param(True, "", BillingMode.PAY_ALL_NOW, id="an_empty_schedule_id_means_no_schedule"),
    ],
)
def test_the_billing_mode_of_the_four_cases(bill_up_front, schedule, mode):
    assert BillingMode.of(bill_up_front, schedule) == mode


def test_money_on_a_sales_line_is_unit_price_times_quantity():
    assert SalesLine(1, "0013", 3, Money(Decimal("9.99"), "USD")).amount == Money(Decimal("29.97"), "USD")
