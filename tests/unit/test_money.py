"""Money: a Decimal amount with a currency; never a float; splits that add back up exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from continuity.domain.errors import ValidationFailed
from continuity.domain.money import Money, parse_amount, total

PROPERTY = settings(deadline=None, max_examples=200)


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


# --- never a float ------------------------------------------------------------------------------


def test_money_refuses_a_float_amount():
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]


def test_parse_amount_refuses_a_float():
    with pytest.raises(TypeError):
        parse_amount(0.1)  # type: ignore[arg-type]


def test_money_is_multiplied_by_whole_quantities_only():
    assert usd("2.50") * 3 == usd("7.50")
    with pytest.raises(TypeError):
        usd("2.50") * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        usd("2.50") * Decimal("1.5")  # type: ignore[operator]


# --- currency -----------------------------------------------------------------------------------


def test_the_currency_code_is_kept_in_upper_case():
    assert Money(Decimal("1"), "usd").currency == "USD"
    assert Money(Decimal("1"), "usd") == usd("1")


@pytest.mark.parametrize("code", ["US", "USDX", "U$D", "", "12 "])
def test_a_currency_that_is_not_three_letters_is_refused(code):
    with pytest.raises(ValidationFailed) as caught:
        Money(Decimal("1"), code)
    assert caught.value.code == "currency_invalid"


@pytest.mark.parametrize(
    "combine",
    [
        pytest.param(lambda a, b: a + b, id="adding"),
        pytest.param(lambda a, b: a - b, id="subtracting"),
        pytest.param(lambda a, b: a < b, id="comparing_less"),
        pytest.param(lambda a, b: a <= b, id="comparing_less_or_equal"),
        pytest.param(lambda a, b: a > b, id="comparing_greater"),
        pytest.param(lambda a, b: total([a, b], "USD"), id="totalling"),
    ],
)
def test_combining_two_currencies_raises_currency_mismatch(combine):
    with pytest.raises(ValidationFailed) as caught:
        combine(usd("1.00"), eur("1.00"))
    assert caught.value.code == "currency_mismatch"
    assert "USD" in caught.value.message and "EUR" in caught.value.message


def test_same_currency_arithmetic_and_comparison():
    assert usd("10.10") + usd("0.95") == usd("11.05")
    assert usd("10.10") - usd("10.15") == usd("-0.05")
    assert usd("1.00") < usd("1.01")
    assert not usd("1.01") < usd("1.00")
    assert usd("1.00") <= usd("1.00")
    assert usd("2") > usd("1.99")
    assert total([usd("1.10"), usd("2.20"), usd("3.30")], "USD") == usd("6.60")
    assert total([], "USD") == Money.zero("USD")


def test_amounts_are_kept_in_cents():
    assert usd("12.5").amount == Decimal("12.50")
    assert str(usd("12.5")) == "12.50 USD"
    assert usd("12.5") == usd("12.50")
    assert Money.from_minor(1234, "USD") == usd("12.34")
    assert usd("12.34").minor == 1234
    assert usd("-0.07").minor == -7


@PROPERTY
@given(minor=st.integers(-(10**15), 10**15))
def test_minor_units_round_trip(minor):
    assert Money.from_minor(minor, "USD").minor == minor


# --- split --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "parts", "expected"),
    [
        pytest.param("100.00", 3, ["33.33", "33.33", "33.34"], id="100_in_3_puts_the_extra_cent_last"),
        pytest.param("0.02", 3, ["0.00", "0.00", "0.02"], id="fewer_cents_than_parts_all_go_last"),
        pytest.param("10.00", 4, ["2.50", "2.50", "2.50", "2.50"], id="an_even_split_has_no_remainder"),
        pytest.param("99.99", 1, ["99.99"], id="one_part_is_the_whole_amount"),
        pytest.param("1.00", 7, ["0.14"] * 6 + ["0.16"], id="the_whole_remainder_not_one_cent_goes_last"),
    ],
)
def test_split_puts_the_remainder_on_the_last_installment(amount, parts, expected):
    assert usd(amount).split(parts) == [usd(x) for x in expected]


@pytest.mark.parametrize("parts", [0, -1])
def test_split_into_fewer_than_one_part_is_refused(parts):
    with pytest.raises(ValidationFailed) as caught:
        usd("10.00").split(parts)
    assert caught.value.code == "installments_invalid"


@PROPERTY
@given(minor=st.integers(-(10**13), 10**13), parts=st.integers(1, 60))
def test_split_sums_back_exactly_to_the_amount(minor, parts):
    amount = Money.from_minor(minor, "NOK")
    pieces = amount.split(parts)
    assert len(pieces) == parts
    assert total(pieces, "NOK") == amount
    assert {p.currency for p in pieces} == {"NOK"}


@PROPERTY
@given(minor=st.integers(0, 10**13), parts=st.integers(1, 60))
def test_split_is_even_except_for_a_remainder_smaller_than_the_parts_on_the_last(minor, parts):
    pieces = [p.minor for p in Money.from_minor(minor, "SEK").split(parts)]
    assert len(set(pieces[:-1])) <= 1
    assert 0 <= pieces[-1] - pieces[0] < parts
    assert pieces[0] == minor // parts


# --- parse_amount -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("12.5", Decimal("12.50"), id="one_decimal"),
        pytest.param(" 7 ", Decimal("7.00"), id="whole_with_spaces"),
        pytest.param("0.01", Decimal("0.01"), id="one_cent"),
        pytest.param("1.230", Decimal("1.23"), id="a_trailing_zero_third_decimal"),
        pytest.param(12, Decimal("12.00"), id="an_int"),
        pytest.param(Decimal("3.1"), Decimal("3.10"), id="a_decimal"),
    ],
)
def test_parse_amount_accepts(text, expected):
    parsed = parse_amount(text)
    assert parsed == expected
    assert parsed.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("1.234", id="three_decimals"),
        pytest.param("0.001", id="a_tenth_of_a_cent"),
        pytest.param("abc", id="letters"),
        pytest.param("", id="empty"),
        pytest.param("1,50", id="a_decimal_comma"),
        pytest.param("NaN", id="nan"),
        pytest.param("nan", id="nan_lower_case"),
        pytest.param("sNaN", id="signalling_nan"),
        pytest.param("Infinity", id="infinity"),
        pytest.param("-inf", id="minus_infinity"),
        pytest.param(Decimal("NaN"), id="a_nan_decimal"),
        pytest.param("1e30", id="more_digits_than_decimal_precision"),
    ],
)
def test_parse_amount_refuses(text):
    with pytest.raises(ValidationFailed) as caught:
        parse_amount(text)
    assert caught.value.code == "amount_invalid"


@PROPERTY
@given(minor=st.integers(-(10**15), 10**15))
def test_parse_amount_reads_back_any_amount_in_cents(minor):
    money = Money.from_minor(minor, "USD")
    assert parse_amount(str(money.amount)) == money.amount
