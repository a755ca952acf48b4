"""Cards are kept as gateway tokens with brand, last 4 digits and expiry — never a PAN or CVV."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from continuity.domain.calendar import end_of_month
from continuity.domain.errors import CardExpired, CardInvalid

#: MM/YY or MM/YYYY (spaces around the slash allowed), or the digits alone: MMYY or MMYYYY
_EXPIRY = re.compile(r"^\s*(?:(\d{1,2})\s*/\s*(\d{2}|\d{4})|(\d{2})(\d{2}|\d{4}))\s*$")


@dataclass(frozen=True)
class Expiry:
    month: int
    year: int

    @classmethod
    def parse(cls, text: str) -> Expiry:
        """``12/30``, ``12 / 2030``, ``1230`` or ``122030``; anything else is refused."""
        match = _EXPIRY.match(str(text))
        month, year = (match.group(1) or match.group(3), match.group(2) or match.group(4)) if match else ("0", "0")
        if not match or not 1 <= int(month) <= 12:
            raise CardInvalid(f"not a card expiry: {text!r} (use MM/YY)", "card_expiry_invalid")
        return cls(int(month), int(year) + 2000 if len(year) == 2 else int(year))

    def last_day(self) -> date:
        return end_of_month(self.year, self.month)

    def is_expired_on(self, day: date) -> bool:
        return is_expired(self.year, self.month, day)

    def __str__(self) -> str:
        return f"{self.month:02d}/{self.year % 100:02d}"


def month_index(year: int, month: int) -> int:
    """Months since year 0: a card valid through its expiry month compares by this number."""
    return year * 12 + month


def is_expired(expiry_year: int, expiry_month: int, day: date) -> bool:
    """A card is expired on ``day`` once its expiry month has ended (the SQL form: adapters/sql_rules.py)."""
    return month_index(expiry_year, expiry_month) < month_index(day.year, day.month)


@dataclass(frozen=True)
class Card:
    token: str
    brand: str
    last4: str
    expiry: Expiry
    holder: str = ""

    @property
    def masked(self) -> str:
        return f"{self.brand} •••• {self.last4}"

    def ensure_usable_on(self, day: date) -> None:
        if self.expiry.is_expired_on(day):
            raise CardExpired(f"the card ending {self.last4} expired {self.expiry}")


def validate_card_number(number: str) -> str:
    """Digits of a card number when it is 13–19 digits and passes the Luhn check.

    The error message never repeats the number."""
    digits = re.sub(r"[\s-]", "", str(number))
    if not (digits.isascii() and digits.isdigit()) or not 13 <= len(digits) <= 19 or not luhn_ok(digits):
        raise CardInvalid("the card number is not valid (check the digits)")
    return digits


def looks_like_card_number(text: str) -> bool:
    """True when ``text`` would pass as a card number (13–19 digits, Luhn): such text typed into a
    search box is neither searched nor shown again."""
    try:
        validate_card_number(text)
    except CardInvalid:
        return False
    return True


def luhn_ok(digits: str) -> bool:
    """The Luhn check of a string of (any script's) decimal digits."""
    checksum = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        checksum += value - 9 if value > 9 else value
    return checksum % 10 == 0


def brand_of(digits: str) -> str:
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in {"51", "52", "53", "54", "55"} or "2221" <= digits[:4] <= "2720":
        return "mastercard"
    if digits[:2] in {"34", "37"}:
        return "amex"
    return "card"
