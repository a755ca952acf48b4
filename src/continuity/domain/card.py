"""Cards are kept as gateway tokens with brand, last 4 digits and expiry — never a PAN or CVV."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from continuity.domain.calendar import end_of_month
from continuity.domain.errors import CardExpired, CardInvalid, NotFound, RuleViolation

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


# -- saved cards as the agent sees them ----------------------------------------------------------
#: The last answered charge (authorize or capture) on a token: its attempt number in the order attempts
#: were written (higher is later) and whether it was declined.
LastCharge = tuple[int, bool]


@dataclass(frozen=True)
class SavedCard:
    """One physical card of a customer, as offered and listed to the agent.

    A physical card is one brand and last 4 of one customer: the gateway gives each entry of the same
    number a new token and we keep no number nor fingerprint, so brand + last 4 is what tells two entries
    apart (the caller reads out the same). Every row stays in the database; the entry shows the newest
    expiry and lists the older rows as ``replaced``."""

    card: Card
    expired: bool  # expired on the day asked about (the listing's today)
    declined: bool  # the last answered charge on this card (its newest expiry) was declined
    replaced: tuple[Card, ...] = ()  # the same card's older expiries, newest first
    default: bool = False  # the customer's default card (any of its rows set as default)

    @property
    def tokens(self) -> tuple[str, ...]:
        return (self.card.token, *(c.token for c in self.replaced))


def physical_card(card: Card) -> tuple[str, str]:
    """What tells one physical card of a customer from another (see SavedCard)."""
    return (card.brand, card.last4)


def saved_cards(
    cards: list[Card], last_charges: dict[str, LastCharge], day: date, default: str | None = None
) -> list[SavedCard]:
    """One SavedCard per physical card, the default first, then in the order the cards were first given.

    The entry is the newest expiry; among rows with that expiry, the one charged last (else the last one
    saved). It is declined when the last answered charge on any row with that expiry was declined; a new
    expiry (the card reissued) starts clean."""
    groups: dict[tuple[str, str], list[Card]] = {}
    for card in cards:
        groups.setdefault(physical_card(card), []).append(card)
    entries = []
    for rows in groups.values():
        newest = max(month_index(c.expiry.year, c.expiry.month) for c in rows)
        current = [c for c in rows if month_index(c.expiry.year, c.expiry.month) == newest]
        charged = [last_charges[c.token] + (c,) for c in current if c.token in last_charges]
        last = max(charged, key=lambda t: t[0]) if charged else None
        card = last[2] if last else current[-1]
        replaced = sorted(
            (c for c in rows if c is not card),
            key=lambda c: month_index(c.expiry.year, c.expiry.month),
            reverse=True,
        )
        is_default = default is not None and any(c.token == default for c in rows)
        entries.append(
            SavedCard(card, card.expiry.is_expired_on(day), bool(last and last[1]), tuple(replaced), is_default)
        )
    return sorted(entries, key=lambda e: not e.default)


def find_saved(entries: list[SavedCard], token: str) -> SavedCard:
    """The entry (physical card) holding ``token`` among a customer's live cards."""
    found = next((e for e in entries if token in e.tokens), None)
    if found is None:
        raise NotFound("no such card for this customer (or it was removed)", "card_not_found")
    return found


def ensure_removable(entry: SavedCard, paying_orders: list[str]) -> None:
    """A card still paying for an open continuity line stays until the agent gives that line another card."""
    if paying_orders:
        raise RuleViolation(
            f"the card ending {entry.card.last4} still pays for order {', '.join(paying_orders)}: "
            "change that order's card first",
            "card_in_use",
        )
