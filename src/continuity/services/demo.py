"""Demo data like the seed's USRT company: Karen Berg, three books, parents 0016 and 88000."""

from __future__ import annotations

from datetime import date
from typing import Any

from continuity.domain.calendar import add_months
from continuity.domain.customer import Address, Customer
from continuity.domain.errors import RuleViolation
from continuity.domain.holds import BUILT_IN
from continuity.domain.returns import ReturnReason
from continuity.services.ports import UowFactory
from continuity.services.setup import apply_setup
from continuity.services.setup_documents import parse_setup

CUSTOMERS = [
    Customer(
        "004007",
        "Karen Berg",
        "+47 22 33 44 55",
        "karen.berg@example.com",
        "nb",
        [Address("delivery", "Storgata 12", "Oslo", "0155", "NO")],
    ),
    Customer(
        "004011",
        "Lars Nilsen",
        "+47 91 23 45 67",
        "lars.nilsen@example.com",
        "nb",
        [Address("delivery", "Bryggen 3", "Bergen", "5003", "NO")],
    ),
    Customer(
        "004020",
        "Sofie de Vries",
        "+31 20 555 0101",
        "sofie.devries@example.com",
        "nl",
        [Address("delivery", "Keizersgracht 8", "Amsterdam", "1015 CS", "NL")],
    ),
    Customer(
        "004031",
        "Marco Rossi",
        "+39 02 555 0199",
        "marco.rossi@example.com",
        "it",
        [Address("delivery", "Via Roma 1", "Milano", "20121", "IT")],
    ),
    Customer(
        "004042",
        "Claire Dubois",
        "+33 1 55 50 10 20",
        "claire.dubois@example.com",
        "fr",
        [Address("delivery", "12 rue de Rivoli", "Paris", "75004", "FR")],
    ),
    Customer(
        "004053",
        "Erik Lindqvist",
        "+46 8 555 012 34",
        "erik.lindqvist@example.com",
        "sv",
        [Address("delivery", "Drottninggatan 5", "Stockholm", "111 51", "SE")],
    ),
]

#: The return reason codes of the demo (set-up data).
RETURN_REASONS = [
    ReturnReason("DAMAGED", "Arrived damaged"),
    ReturnReason("WRONG_ITEM", "Wrong item shipped"),
    ReturnReason("NOT_WANTED", "No longer wanted"),
]

BOOKS = [
    ("0013", "The Northern Lights", "14.95"),
    ("0014", "Fjord Tales", "16.50"),
    ("0015", "Winter Harbour", "12.99"),
    ("0017", "The Lighthouse Keeper", "15.25"),
    ("0018", "Midnight Sun", "13.75"),
    ("0019", "Salt and Stone", "17.00"),
]


def demo_document(today: date) -> dict[str, Any]:
    """The demo setup; book-club events start one per month so that event 3 is current today."""
    month_start = today.replace(day=1)
    book_club_events = [
        {
            "event_id": i + 1,
            "item_id": item,
            "quantity": 1,
            "times_to_repeat": 1,
            "interval": "1 month",
            "start_date": add_months(month_start, i - 2).isoformat(),
        }
        for i, (item, _, _) in enumerate(BOOKS)
    ]
    return {
        "parameters": {
            "repeat_threshold": 3,
            "delivery_lead_days": 5,
            "max_child_orders_per_run": 0,
            "authorize_child_orders": False,
            "reauthorization_limit": 3,
            "upcoming_charge_notice_days": 3,
        },
        "payment_schedules": [
            {
                "payment_schedule_id": "3X",
                "description": "Three monthly installments",
                "number_of_payments": 3,
                "interval": "1 month",
            },
            {
                "payment_schedule_id": "6X",
                "description": "Six monthly installments",
                "number_of_payments": 6,
                "interval": "1 month",
            },
        ],
        "products": [{"item_id": i, "name": n, "price": p, "tax_group": "books"} for i, n, p in BOOKS]
        + [
            {"item_id": "0022", "name": "Vitamin D3 (90 capsules)", "price": "9.90", "tax_group": "food"},
            {
                "item_id": "88000",
                "name": "Book of the month club",
                "price": "0.00",
                "continuity_program_id": "BOOKCLUB",
                "tax_group": "books",
            },
            {
                "item_id": "0016",
                "name": "Northern trilogy series",
                "price": "0.00",
                "continuity_program_id": "TRILOGY",
                "tax_group": "books",
            },
            {
                "item_id": "0021",
                "name": "Vitamin D3 replenishment",
                "price": "0.00",
                "continuity_program_id": "REPLENISH",
                "tax_group": "food",
            },
        ],
        # one country has rates (Sweden: books 6 %, food 12 %); the other customers' orders are untaxed
        "tax_rates": [
            {"tax_group": "books", "region": "SE", "rate": "6", "valid_from": "2020-01-01"},
            {"tax_group": "food", "region": "SE", "rate": "12", "valid_from": "2020-01-01"},
        ],
        "programs": [
            {
                "program_id": "BOOKCLUB",
                "description": "Book of the month club: a different book each month",
                "order_start": "current_event",
                "days_after_order": 3,
                "prompt_for_payment_schedule": True,
                "events": book_club_events,
            },
            {
                "program_id": "TRILOGY",
                "description": "Northern trilogy, one book every 30 days",
                "order_start": "first_event",
                "days_after_order": 3,
                "events": [
                    {"event_id": 1, "item_id": "0013", "days_from_last_event": 30},
                    {"event_id": 2, "item_id": "0014", "days_from_last_event": 30},
                    {"event_id": 3, "item_id": "0015", "days_from_last_event": 30, "action": "end"},
                ],
            },
            {
                "program_id": "REPLENISH",
                "description": "Vitamin D3 every 30 days, six shipments, billed up front in three installments",
                "order_start": "first_event",
                "bill_up_front": True,
                "payment_schedule_id": "3X",
                "prompt_for_payment_schedule": True,
                "days_after_order": 2,
                "events": [{"event_id": 1, "item_id": "0022", "times_to_repeat": 6, "days_from_last_event": 30}],
            },
        ],
    }


def load_demo(uow_factory: UowFactory, today: date) -> dict[str, int]:
    """Load the demo data into an empty database."""
    with uow_factory() as uow:
        if uow.setup.products() or uow.customers.any():
            raise RuleViolation("the database already holds data; demo load needs an empty one", "database_not_empty")
        for customer in CUSTOMERS:
            uow.customers.save(customer)
        counts = apply_setup(uow, parse_setup(demo_document(today)), today)
        for reason in RETURN_REASONS:
            uow.returns.save_reason(reason)
        # the built-in hold codes (migration 0021 lists them; a database emptied since gets them back)
        codes = sum(uow.hold_codes.add(code) for code in BUILT_IN)
        uow.commit()
    return {"customers": len(CUSTOMERS), **counts, "return_reasons": len(RETURN_REASONS), "hold_codes": codes}
