"""Faults between the Stripe adapter and localstripe, injected by a loopback proxy (fault_proxy.py).

localstripe does not replay Idempotency-Key: a request sent twice is two charges there. So these tests
prove our replay logic, not Stripe's: after a lost answer the adapter finds the object by the key in its
metadata before anything is sent again, and a request is re-sent (same key) only once localstripe shows
nothing under that key. Checked against localstripe's records: at most one successful capture per
installment, no refund without its capture, everything settled after reconcile-payments.
"""

from __future__ import annotations

import time
import uuid
from datetime import date
from urllib.parse import parse_qs

import pytest
from fault_proxy import Fault, FaultProxy
from localstripe_support import API, KAREN, PUBLISHABLE_KEY, SECRET_KEY, VISA, api_client, attempts, nightly
from sqlalchemy import text

from continuity.adapters.stripe_gateway import StripeGateway
from continuity.domain.calendar import add_months
from continuity.services import order_entry, payment_entry
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_job

START = date(2026, 11, 23)
INTENTS = "/v1/payment_intents"


@pytest.fixture
def faulty(make_stripe_app, localstripe):  # type: ignore[no-untyped-def]
    from continuity.services.demo import load_demo

    proxy = FaultProxy(localstripe.url)
    url = proxy.start()
    gateway = StripeGateway(
        SECRET_KEY,
        PUBLISHABLE_KEY,
        url,
        f"{url}/js.stripe.com/v3/",
        timeout=5.0,  # a loaded machine's localstripe can take over a second; the delay fault is longer
        key_prefix=f"t{uuid.uuid4().hex[:8]}:",
    )  # keys repeat across test databases
    app = make_stripe_app(api_base=url, gateway=gateway)
    load_demo(app.uow, app.clock.today())
    yield app, proxy, localstripe
    proxy.stop()


def _order(app, server, number: str = VISA) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A REPLENISH order (three installments of 19.80, the first authorized at submit), paid by a new card."""
    sales_id = order_entry.create_order_with_line(app.uow, app.clock, KAREN, "0021")
    pm = server.payment_method(number)
    payment_entry.add_payment_method_payment(app.uow, app.gateway, app.clock, sales_id, pm)
    return sales_id, pm


def _submit(app, sales_id: str):  # type: ignore[no-untyped-def]
    return payment_entry.submit(app.uow, app.gateway, app.clock, sales_id)


def _reconcile(app, day: date = START) -> dict:  # type: ignore[no-untyped-def]
    return run_job(app.job_deps(stale_after_seconds=0), "reconcile-payments", JobRequest(day))


def _settled(app, server, sales_id: str, pm: str) -> None:  # type: ignore[no-untyped-def]
    """Nothing left unknown; localstripe's successful captures are exactly our approved ones, at most one
    per installment; every refund is on a capture that took at least as much."""
    ours = attempts(app, sales_id)
    assert [a["idempotency_key"] for a in ours if a["status"] in ("unknown", "pending")] == []
    intents = server.intents(server.customer_of(pm))
    taken = [i for i in intents if server.captured(i) > 0]
    approved = [a for a in ours if a["operation"] == "capture" and a["status"] == "approved"]
    assert sorted(i.id for i in taken) == sorted(a["gateway_reference"] for a in approved)
    per_installment = [(a["line_no"], a["seq"]) for a in approved]
    assert len(per_installment) == len(set(per_installment)), "two captures for one installment"
    assert {i.id: server.captured(i) for i in taken} == {a["gateway_reference"]: a["amount_minor"] for a in approved}
    for intent in intents:
        refunded = sum(r.amount for r in server.refunds(intent.id))
        assert refunded == 0 or refunded <= server.captured(intent) + refunded and intent.status == "succeeded"


def test_lost_answers_are_found_by_their_key_and_never_sent_again(faulty):
    app, proxy, server = faulty
    sales_id, pm = _order(app, server)
    proxy.add(Fault("drop", "POST", INTENTS))  # the authorization is made at localstripe, its answer lost
    assert _submit(app, sales_id).status == "open"
    [held] = server.intents(server.customer_of(pm))
    assert (held.status, held.amount) == ("requires_capture", 1980)
    proxy.add(Fault("drop", "POST", f"{INTENTS}/{held.id}/capture"), Fault("drop", "POST", INTENTS, times=2))

    for day in (START, add_months(START, 1), add_months(START, 2)):
        nightly(app, day)

    creates = proxy.sent("POST", INTENTS)
    assert [(s.fault, s.forwarded) for s in creates] == [("drop", True)] * 3  # never re-sent
    assert len({s.key for s in creates}) == 3
    assert [s.fault for s in proxy.sent("POST", f"{INTENTS}/{held.id}/capture")] == ["drop"]
    with app.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT status FROM installments WHERE sales_id = :s ORDER BY seq"), {"s": sales_id})
            .scalars()
            .all()
            == ["paid"] * 3
        )
    assert sorted(server.captured(i) for i in server.intents(server.customer_of(pm))) == [1980] * 3
    _settled(app, server, sales_id, pm)


def test_a_reset_before_forwarding_is_unknown_then_sent_again_under_the_same_key(faulty):
    app, proxy, server = faulty
    sales_id, pm = _order(app, server)
    assert _submit(app, sales_id).status == "open"
    [held] = server.intents(server.customer_of(pm))
    capture = f"{INTENTS}/{held.id}/capture"
    proxy.add(Fault("reset", "POST", capture))
    run_job(app.job_deps(), "process-payments", JobRequest(START))  # the nightly's reconcile comes later
    [attempt] = [a for a in attempts(app, sales_id) if a["operation"] == "capture"]
    assert attempt["status"] == "unknown"
    assert server.captured(server.client().v1.payment_intents.retrieve(held.id)) == 0

    _reconcile(app)

    sent = proxy.sent("POST", capture)
    assert [(s.fault, s.forwarded) for s in sent] == [("reset", False), ("", True)]
    assert sent[0].key == sent[1].key == app.gateway.key_prefix + attempt["idempotency_key"]
    assert [server.captured(i) for i in server.intents(server.customer_of(pm))] == [1980]
    _settled(app, server, sales_id, pm)


def test_an_answer_slower_than_the_timeout_is_looked_up_later_not_charged_twice(faulty):
    app, proxy, server = faulty
    sales_id, pm = _order(app, server)
    assert _submit(app, sales_id).status == "open"
    nightly(app, START)
    proxy.add(Fault("delay", "POST", INTENTS, seconds=12))  # the second installment's sale: 5 s timeout
    run_job(app.job_deps(), "process-payments", JobRequest(add_months(START, 1)))
    late = next(a for a in attempts(app, sales_id) if a["seq"] == 2 and a["operation"] == "capture")
    assert late["status"] == "unknown"
    deadline = time.monotonic() + 20
    while not proxy.sent("POST", INTENTS)[-1].forwarded and time.monotonic() < deadline:
        time.sleep(0.1)

    _reconcile(app, add_months(START, 1))

    assert [s.key for s in proxy.sent("POST", INTENTS)].count(app.gateway.key_prefix + late["idempotency_key"]) == 1
    assert sorted(server.captured(i) for i in server.intents(server.customer_of(pm))) == [1980, 1980]
    _settled(app, server, sales_id, pm)


def test_too_many_requests_is_sent_again_under_the_same_key(faulty):
    app, proxy, server = faulty
    sales_id, pm = _order(app, server)
    proxy.add(Fault("busy", "POST", INTENTS, times=2))
    assert _submit(app, sales_id).status == "open"
    sent = proxy.sent("POST", INTENTS)
    assert [(s.fault, s.forwarded) for s in sent] == [("busy", False), ("busy", False), ("", True)]
    assert len({s.key for s in sent}) == 1 and len({s.body for s in sent}) == 1  # the very same request
    fields = parse_qs(sent[0].body)
    assert fields["capture_method"] == ["manual"] and fields["off_session"] == ["true"]
    assert fields["confirm"] == ["true"] and fields["payment_method_types[0]"] == ["card"]  # no return_url needed
    assert fields["metadata[idempotency_key]"] == [sent[0].key]
    assert len(server.intents(server.customer_of(pm))) == 1


def test_a_lost_refund_answer_is_found_and_the_refund_not_made_twice(faulty):
    app, proxy, server = faulty
    sales_id, pm = _order(app, server)
    assert _submit(app, sales_id).status == "open"
    nightly(app, START)
    [captured] = server.intents(server.customer_of(pm))
    proxy.add(Fault("drop", "POST", "/v1/refunds"))
    c, h = api_client(app)
    done = c.post(f"{API}/continuity-orders/{sales_id}/cancel", headers=h, json={"reason": "moved"})
    assert done.status_code == 200, done.text
    [refund] = server.refunds(captured.id)
    assert refund.amount == round(float(done.json()["refund"]) * 100)
    assert [(s.fault, s.forwarded) for s in proxy.sent("POST", "/v1/refunds")] == [("drop", True)]
    [attempt] = [a for a in attempts(app, sales_id) if a["operation"] == "refund"]
    assert (attempt["status"], attempt["gateway_reference"]) == ("approved", refund.id)
    _reconcile(app)
    assert len(server.refunds(captured.id)) == 1
    _settled(app, server, sales_id, pm)


def test_a_server_error_after_the_charge_is_looked_up_not_charged_again(faulty):
    app, proxy, server = faulty
    sales_id, pm = _order(app, server)
    assert _submit(app, sales_id).status == "open"
    nightly(app, START)
    proxy.add(Fault("fail", "POST", INTENTS))  # the second installment's sale is made, Stripe answers 500
    run_job(app.job_deps(), "process-payments", JobRequest(add_months(START, 1)))
    sent = proxy.sent("POST", INTENTS)
    assert [(s.fault, s.forwarded) for s in sent[-1:]] == [("fail", True)]
    second = next(a for a in attempts(app, sales_id) if a["seq"] == 2 and a["operation"] == "capture")
    assert second["status"] == "approved"  # found by its key at once
    assert sorted(server.captured(i) for i in server.intents(server.customer_of(pm))) == [1980, 1980]
    _settled(app, server, sales_id, pm)
