"""The batch jobs in the catalogs' words: each job's name (the registry's, also the CLI command) as the pages
show it, and what it does (msgids; manager.po translates them)."""

from __future__ import annotations


def N_(text: str) -> str:
    """Marks a msgid; translated when shown."""
    return text


JOB_NAMES = {
    "update-event-period": N_("Update event period"),
    "create-child-orders": N_("Create child orders"),
    "process-payments": N_("Process payments"),
    "extend-lines": N_("Extend lines"),
    "continuity-update": N_("Continuity update"),
    "tax-rate-change": N_("Tax rate change"),
    "close-orders": N_("Close orders"),
    "reconcile-payments": N_("Reconcile payments"),
    "send-notifications": N_("Send notifications"),
    "invoice-shipped": N_("Invoice shipped orders"),
    "fulfil-children": N_("Fulfil child orders"),
}
JOB_TEXTS = {
    "update-event-period": N_("Set each program's current event from its events' start dates."),
    "create-child-orders": N_("Create a child sales order for every due shipment of open parent orders."),
    "process-payments": N_("Charge the installments due on or before the as-of date and write the notices."),
    "extend-lines": N_("Add the next repeats of events beyond the repeat threshold."),
    "continuity-update": N_(
        "Push program changes into the pending shipments of open orders (dry run: only list them)."
    ),
    "tax-rate-change": N_(
        "Re-price open orders after a tax rate change: their tax and unpaid installments (dry run: only list them)."
    ),
    "close-orders": N_("Close parent orders whose shipments are all invoiced, skipped or cancelled."),
    "reconcile-payments": N_("Ask the gateway about payments whose outcome is unknown."),
    "send-notifications": N_("Send the customer notifications waiting in the outbox."),
    "invoice-shipped": N_("Invoice the child orders shipped on or before the as-of date."),
    "fulfil-children": N_("Warehouse stand-in: release and ship paid child orders whose date has come."),
}
