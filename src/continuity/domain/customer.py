"""Customers and their addresses."""

from __future__ import annotations

from dataclasses import dataclass, field

from continuity.domain.free_text import checked_name


@dataclass(frozen=True)
class Address:
    purpose: str  # "delivery" or "invoice"
    street: str
    city: str
    postal_code: str
    country: str


@dataclass
class Customer:
    account: str
    name: str
    phone: str = ""
    email: str = ""
    language: str = "en"
    addresses: list[Address] = field(default_factory=list)

    def checked(self) -> Customer:
        """Refuses a name, phone, e-mail or address that holds a card number or a control character."""
        for name, value in (("name", self.name), ("phone", self.phone), ("email", self.email)):
            checked_name(value, name)
        for n, address in enumerate(self.addresses):
            for name in ("street", "city", "postal_code"):
                checked_name(getattr(address, name), f"addresses[{n}].{name}")
        return self
