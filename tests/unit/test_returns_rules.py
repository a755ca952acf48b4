"""The rules of a return (domain/returns.py): what a partial return gives back adds up to the line's total
to the cent however the line is split; never more back than shipped; never a refund beyond what was
captured; reason codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from continuity.domain.errors import DomainError
from continuity.domain.money import Money
from continuity.domain.returns import ReturnReason, check_quantity, check_refund, refundable, returned_share


@given(
    total=st.integers(0, 10_000_000),
    parts=st.lists(st.integers(1, 5), min_size=1, max_size=8),
)
def test_the_shares_of_partial_returns_add_up_to_the_line_total_to_the_cent(total, parts):
    shipped = sum(parts)
    money = Money.from_minor(total, "EUR")
    returned, shares = 0, []
    for quantity in parts:
        shares.append(returned_share(money, shipped, returned, quantity))
        returned += quantity
    assert sum(s.minor for s in shares) == total
    assert all(s.minor >= 0 for s in shares)
    # no share is more than one cent from its exact proportion
    for quantity, share in zip(parts, shares):
        assert abs(share.minor * shipped - total * quantity) < shipped


@given(unit=st.integers(0, 100_000), shipped=st.integers(1, 20), data=st.data())
def test_without_charge_or_tax_a_share_is_the_unit_price_times_the_quantity(unit, shipped, data):
    returned = data.draw(st.integers(0, shipped - 1))
    quantity = data.draw(st.integers(1, shipped - returned))
    total = Money.from_minor(unit, "EUR") * shipped
    assert returned_share(total, shipped, returned, quantity) == Money.from_minor(unit, "EUR") * quantity


def test_a_return_never_takes_back_more_than_shipped_and_not_returned():
    check_quantity("SO-1", 1, 2, shipped=3, returned=1)
    with pytest.raises(DomainError) as more:
        check_quantity("SO-1", 1, 3, shipped=3, returned=1)
    assert (more.value.code, more.value.params["returnable"]) == ("return_quantity_exceeds_shipped", 2)
    with pytest.raises(DomainError) as none:
        check_quantity("SO-1", 1, 0, shipped=3, returned=0)
    assert none.value.code == "return_quantity_invalid"


@given(captured=st.integers(0, 10_000), refunded=st.integers(0, 10_000), amount=st.integers(1, 10_000))
def test_a_refund_is_refused_exactly_when_it_exceeds_what_is_left_of_the_captures(captured, refunded, amount):
    c, r, a = (Money.from_minor(v, "EUR") for v in (captured, refunded, amount))
    left = refundable(c, r)
    assert left.minor == max(captured - refunded, 0)
    if amount <= left.minor:
        check_refund("SO-1", a, c, r)
    else:
        with pytest.raises(DomainError) as refused:
            check_refund("SO-1", a, c, r)
        assert refused.value.code == "refund_exceeds_captured"


@pytest.mark.parametrize("code", ["", "bad code", "X" * 21, "DAMAGED!"])
def test_a_reason_code_is_1_to_20_letters_digits_or_underscores(code):
    with pytest.raises(DomainError) as refused:
        ReturnReason(code, "Something").validate()
    assert refused.value.code == "return_reason_invalid"
    ReturnReason("WRONG_ITEM2", "Wrong item").validate()
