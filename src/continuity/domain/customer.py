"""Customers and their addresses."""
from __future__ import annotations

from dataclasses import dataclass, field


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
