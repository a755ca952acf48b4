"""Money: a Decimal amount plus an ISO-4217 currency code; never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from continuity.domain.errors import ValidationFailed

#: Only currencies with two minor digits are supported; storage is in minor units.
MINOR_DIGITS = 2
_CENT = Decimal(1).scaleb(-MINOR_DIGITS)


def parse_amount(text: str | int | Decimal) -> Decimal:
    """Parse a decimal amount given as text; refuse floats, NaN and more than 2 decimals."""
    if isinstance(text, float):
        raise TypeError("money is never a float")
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValidationFailed(f"not an amount: {text!r}", "amount_invalid") from None
    try:
        exact = value.is_finite() and value == value.quantize(_CENT)
    except InvalidOperation:  # too many digits for the decimal context, e.g. '1e30'
        exact = False
    if not exact:
        raise ValidationFailed(f"not an amount with at most 2 decimals: {text!r}", "amount_invalid")
    return value.quantize(_CENT)


@dataclass(frozen=True, order=False)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, float):
            raise TypeError("money is never a float")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValidationFailed(f"not a currency code: {self.currency!r}", "currency_invalid")
        object.__setattr__(self, "amount", Decimal(self.amount).quantize(_CENT, ROUND_HALF_EVEN))
        object.__setattr__(self, "currency", self.currency.upper())

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(Decimal(minor).scaleb(-MINOR_DIGITS), currency)

    @property
    def minor(self) -> int:
        return int(self.amount.scaleb(MINOR_DIGITS))

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValidationFailed(f"cannot combine {self.currency} with {other.currency}", "currency_mismatch")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int):
            raise TypeError("money is multiplied by whole quantities only")
        return Money(self.amount * factor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def split(self, parts: int) -> list[Money]:
        """Split evenly into ``parts`` installments; the remainder goes on the last one."""
        if parts < 1:
            raise ValidationFailed("an installment plan needs at least one payment", "installments_invalid")
        share = self.minor // parts
        last = self.minor - share * (parts - 1)
        return [Money.from_minor(share, self.currency)] * (parts - 1) + [Money.from_minor(last, self.currency)]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def total(amounts: list[Money], currency: str) -> Money:
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
