"""Errors shown to agents: one clear line in the agent's language, chosen by the error's stable code
(the English message of the service is the fallback for a code without a translation here)."""

from __future__ import annotations

from fastapi import Request

from continuity.domain.errors import DomainError, ValidationFailed
from continuity.entrypoints.web import i18n
from continuity.entrypoints.web.session import language_of


def N_(text: str) -> str:
    """Marks a msgid; translated when shown."""
    return text


MESSAGES = {
    "item_unknown": N_("There is no item with that number. Check the number and type it again."),
    "customer_not_found": N_("There is no such customer."),
    "sales_order_not_found": N_("There is no such sales order."),
    "quantity_invalid": N_("The quantity must be between 1 and 9999."),
    "currency_mismatch": N_("That item is priced in another currency than this order."),
    "program_inactive": N_("The continuity program of this item is inactive: it cannot be sold."),
    "program_not_found": N_("The continuity program of this item does not exist."),
    "payment_schedule_not_found": N_("There is no such payment schedule."),
    "card_number_invalid": N_("The card number is not valid. Check the digits with the caller and type it again."),
    "card_expiry_invalid": N_("The expiry date is not valid: type it as MM/YY, for example 12/30."),
    "card_expired": N_("The card has expired. Ask the caller for another card."),
    "card_not_found": N_("That card cannot be used for this customer."),
    "card_required": N_("Enter the card number and expiry date (or pick a saved card) to pay for the order."),
    "start_date_invalid": N_("The start date is not a valid date."),
    "order_not_editable": N_("This order has already been submitted; it cannot be changed here."),
    "order_empty": N_("The order has no lines: add an item first."),
    "payment_required": N_("Add a card payment before submitting the order."),
    "payment_insufficient": N_("The payments do not cover what is due now."),
    "payment_outcome_unknown": N_(
        "A card authorization of this order got no answer yet. It is resolved by the "
        "reconcile-payments job: do not take the payment again."
    ),
    "search_text_empty": N_("Type at least one letter or digit to search."),
    "text_control_character": N_("Remove the control or text-direction character from this text."),
    "card_number_in_text": N_("This looks like a card number. A card number goes only in the card field."),
    "hold_code_not_found": N_("There is no such hold code."),
    "hold_code_not_manual": N_("This hold is put on and cleared by the payments, not by hand."),
    "hold_note_required": N_("Write a note: why the order is put on hold, or why the hold is cleared."),
    "note_too_long": N_("The note is too long (500 characters at most)."),
    "order_not_holdable": N_("Only an open or released order can be put on hold."),
    "order_not_on_hold": N_("The order is not on hold."),
    "installment_not_found": N_("There is no such installment."),
    "installment_not_retryable": N_(
        "This installment cannot be charged now: it is not due, already settled, its charge is at the card "
        "gateway, or its order is not charged."
    ),
    "installment_not_open": N_("This installment is already settled or cancelled."),
    "payment_method_invalid": N_("Pick how the customer paid."),
    "reason_required": N_("Write why (500 characters at most)."),
    "reference_required": N_("Write the payment's reference (500 characters at most)."),
    # issue 18 items 2 and 13 (their words are in customers.po)
    "start_date_format": N_("Type the start date as YYYY-MM-DD, for example 2026-12-01."),
    "start_date_out_of_range": N_("The start date must be from %(earliest)s to %(latest)s (YYYY-MM-DD)."),
    "duplicate_continuity_order": N_(
        "This customer already has order %(orders)s of this item. Ask the caller, then tick "
        "“The caller wants another one” to go on."
    ),
    "customer_name_required": N_("Type the customer's name."),
    "email_invalid": N_("The e-mail address is not valid: type it as name@example.com."),
    "address_incomplete": N_("Each address needs a street, a postal code and a city (or clear the whole row)."),
    "country_invalid": N_("The country is two letters, for example NO, SE or NL."),
    "text_too_long": N_("A field is too long: shorten it."),
    "language_invalid": N_("Pick one of the languages in the list."),
    "too_many_addresses": N_("A customer has at most five addresses."),
    "address_purpose_invalid": N_("Pick delivery or invoice for each address."),
    "ship_to_required": N_("Choose where the order ships, or type the address."),
}

#: The built-in hold codes in words (a code a manager adds is shown by its description).
HOLD_CODE_TEXTS = {
    "fraud_review": N_("Fraud review"),
    "address_check": N_("Address check"),
    "customer_request": N_("Customer request"),
    "payment_review": N_("Payment review"),
    "payment_declined": N_("Card payment declined at submit"),
    "payment_unanswered": N_("Card payment unanswered at submit"),
    "charge_declined": N_("Charge of this shipment declined or unresolved"),
    "parent_payment": N_("Installment of the parent order declined or unresolved"),
}


class EntryInput(ValidationFailed):
    """A web form input that is missing or malformed (codes in MESSAGES)."""

    def __init__(self, code: str) -> None:
        super().__init__(MESSAGES.get(code, code), code)


def error_text(request: Request, exc: DomainError) -> str:
    msgid = MESSAGES.get(exc.code)
    if msgid is None:
        return exc.message
    words = i18n.translations(language_of(request)).gettext(msgid)
    if "%(" not in msgid:
        return words
    try:
        return words % exc.params
    except (KeyError, ValueError, TypeError):  # an error raised without the parameters its words need
        return exc.message
