"""Customers and their addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from continuity.domain.errors import ValidationFailed
from continuity.domain.free_text import TextRefused, checked_name

LANGUAGES = ("en", "nb", "nl", "it", "fr", "sv")
PURPOSES = ("delivery", "invoice")
MAX_ADDRESSES = 5
#: the longest each text may be (the columns' sizes)
MAX_LENGTH = {"name": 200, "phone": 40, "email": 200, "street": 200, "city": 100, "postal_code": 20}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class Address:
    purpose: str  # "delivery" or "invoice"
    street: str
    city: str
    postal_code: str
    country: str

    def checked(self, where: str = "address") -> Address:
        """Refuses an address with a missing part, a text too long, a country that is not two capital
        letters (ISO 3166), or a card number or control character in it."""
        if self.purpose not in PURPOSES:
            raise ValidationFailed(f"{where}.purpose: one of {', '.join(PURPOSES)}", "address_purpose_invalid")
        for name in ("street", "city", "postal_code"):
            value = getattr(self, name)
            if not value.strip():
                raise TextRefused(f"{where}.{name}", "is required", "address_incomplete")
            _bounded(value, name, f"{where}.{name}")
        if not _COUNTRY.fullmatch(self.country):
            raise TextRefused(f"{where}.country", "two capital letters, e.g. NO", "country_invalid")
        return self

    @property
    def one_line(self) -> str:
        return f"{self.street}, {self.postal_code} {self.city}, {self.country}"


@dataclass
class Customer:
    account: str
    name: str
    phone: str = ""
    email: str = ""
    language: str = "en"
    addresses: list[Address] = field(default_factory=list)

    def checked(self) -> Customer:
        """Refuses a missing name, a text too long, an e-mail that is not one, an unknown language, more than
        five addresses, an incomplete address, or a card number or a control character anywhere."""
        if not self.name.strip():
            raise TextRefused("name", "is required", "customer_name_required")
        for name, value in (("name", self.name), ("phone", self.phone), ("email", self.email)):
            _bounded(value, name, name)
        if self.email and not _EMAIL.fullmatch(self.email):
            raise TextRefused("email", "is not an e-mail address (name@example.com)", "email_invalid")
        if self.language not in LANGUAGES:
            raise ValidationFailed(f"language: one of {', '.join(LANGUAGES)}", "language_invalid")
        if len(self.addresses) > MAX_ADDRESSES:
            raise ValidationFailed(f"a customer has at most {MAX_ADDRESSES} addresses", "too_many_addresses")
        for n, address in enumerate(self.addresses):
            address.checked(f"addresses[{n}]")
        return self

    def ship_to(self) -> Address | None:
        """Where an order ships unless the agent picks another address: the first delivery address (else
        the first address)."""
        delivery = [a for a in self.addresses if a.purpose == "delivery"]
        return next(iter(delivery or self.addresses), None)


def _bounded(value: str, name: str, where: str) -> None:
    checked_name(value, where)
    if len(value) > MAX_LENGTH[name]:
        raise TextRefused(where, f"is longer than {MAX_LENGTH[name]} characters", "text_too_long")
