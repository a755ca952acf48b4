"""Services return codes and parameters; every entrypoint words each code itself, and none parses what a
service returns back with a regular expression."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import continuity.entrypoints
from continuity.domain.servicing import Explanation, Why
from continuity.entrypoints import wording
from continuity.entrypoints.web.routes import order_servicing
from continuity.services.projection import ChargeFor, ChargeSubject

ENTRYPOINTS = Path(continuity.entrypoints.__file__).parent
#: modules that check what a caller typed or sent (never what a service returned) with a regex
CHECK_INPUT = {
    "api/idempotency.py",  # the Idempotency-Key header
    "api/problems.py",  # digit runs masked out of a request path before it is logged
    "api/schemas.py",  # a request's dates
    "web/recent.py",  # an account number read back from the recent-customers cookie
    "web/routes/customer_form.py",  # whether a search the agent typed looks like a phone number
    "web/routes/program_editor.py",  # the item IDs pasted into the event editor, split on blanks and commas
    "web/routes/setup_forms.py",  # the IDs typed into a setup form
    "web/security.py",  # the inline scripts of our own templates (CSP hashes)
}


def test_every_code_has_words_in_the_cli_and_api_and_on_the_web():
    assert set(wording.WHY) == set(Why) == set(order_servicing.WHY)
    assert set(order_servicing.CHARGE_TEXTS) == set(ChargeFor)


def test_only_input_checks_use_regular_expressions_in_the_entrypoints():
    users = set()
    for path in ENTRYPOINTS.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if "re" in names or (isinstance(node, ast.ImportFrom) and node.module == "re"):
                users.add(path.relative_to(ENTRYPOINTS).as_posix())
    assert users <= CHECK_INPUT


@pytest.mark.parametrize(
    ("subject", "english", "web"),
    [
        (ChargeSubject(ChargeFor.INSTALLMENT, (2,), of=3), "installment 2 of 3", "rata 2 di 3"),
        (ChargeSubject(ChargeFor.CHILD_ORDER, sales_id="0042"), "child order 0042", "ordine figlio 0042"),
        (ChargeSubject(ChargeFor.SHIPMENT, (4,), ("0022",)), "shipment 4 (0022)", "spedizione 4 (0022)"),
        (
            ChargeSubject(ChargeFor.SHIPMENTS, (1, 2), ("0022", "0023")),
            "shipments 1, 2 (0022, 0023) in one child order",
            "spedizioni 1, 2 (0022, 0023) in un solo ordine figlio",
        ),
    ],
)
def test_a_charge_is_worded_by_each_entrypoint(subject, english, web):
    from continuity.entrypoints.web import i18n

    assert wording.charge_for(subject) == english
    assert order_servicing.charge_text(i18n.translations("it").gettext, subject) == web
    assert (
        wording.charge_json(
            {"due_date": "2027-01-01", "amount": "1.00", "currency": "EUR", "subject": subject, "line_no": 1}
        )["for_code"]
        == subject.code.value
    )


def test_the_cli_and_api_sentence_of_an_explanation():
    why = Explanation(3, Why.RESCHEDULED, {"date": "2027-03-01", "from": "2027-02-26", "seq": 3})
    assert wording.why_text(why) == "Occurrence 3 ships on 2027-03-01: rescheduled from 2027-02-26."


def test_a_setup_form_places_a_refusal_by_its_parameters_not_by_its_words():
    from continuity.domain.errors import ValidationFailed
    from continuity.entrypoints.web.routes.setup_forms import refusal

    refused = refusal(
        ValidationFailed("whatever words", "parameters_invalid", {"field": "delivery_lead_days", "minimum": 0})
    )
    assert {name: e.message for name, e in refused.errors.items()} == {"delivery_lead_days": "Must not be negative."}
    at_least = refusal(ValidationFailed("…", "parameters_invalid", {"field": "repeat_threshold", "minimum": 1}))
    assert at_least.errors["repeat_threshold"].message == "Must be at least 1."
