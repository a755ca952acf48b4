"""Notifications: written to the outbox by process-payments, delivered by send-notifications to a real
SMTP server (aiosmtpd, started by the test on a free local port), each exactly once."""

from __future__ import annotations

import socket
from datetime import date
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from jobs_support import DECLINE, START, enter_order, job, nightly, rows, use_card

from continuity.adapters.smtp_mailer import SmtpMailer


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.hostname, controller.port, inbox
    controller.stop()


def _outbox(app) -> list[tuple]:  # type: ignore[no-untyped-def]
    return rows(
        app, "SELECT notification_id, kind, email, delivered_at, attempts FROM notifications ORDER BY notification_id"
    )


def test_upcoming_paid_and_declined_notices_are_delivered_by_smtp_once_each_and_a_second_run_sends_nothing(
    demo_app, smtp_server
):
    app = demo_app
    host, port, inbox = smtp_server
    enter_order(app, "0021")  # Karen: installments, paid
    use_card(app, enter_order(app, "88000", account="004020"), DECLINE)  # Sofie: her book's charge declines
    nightly(app, START)
    job(app, "process-payments", date(2026, 12, 21))  # the 2nd installment (due 2026-12-23) is 2 days away
    outbox = _outbox(app)
    assert {kind for _, kind, *_ in outbox} == {"paid", "payment_declined", "upcoming_charge"}
    assert all(delivered is None for *_, delivered, _ in outbox)
    deps = app.job_deps(mailer=SmtpMailer(host, port))

    sent = job(app, "send-notifications", date(2026, 12, 21), deps=deps)

    assert sent["counts"] == {"sent": len(outbox), "failed": 0}
    assert sorted(m["Message-ID"] for _, m in inbox.messages) == sorted(
        f"<notification-{nid}@continuity>" for nid, *_ in outbox
    )
    assert sorted(to[0] for to, _ in inbox.messages) == sorted(email for _, _, email, _, _ in outbox)
    to_sofie = [m["Subject"] for to, m in inbox.messages if to == ["sofie.devries@example.com"]]
    assert to_sofie and all("geweigerd" in subject for subject in to_sofie)  # in her language (nl)
    assert all(delivered is not None and tries == 1 for *_, delivered, tries in _outbox(app))

    again = job(app, "send-notifications", date(2026, 12, 21), deps=app.job_deps(mailer=SmtpMailer(host, port)))

    assert again["counts"] == {"sent": 0, "failed": 0}
    assert len(inbox.messages) == len(outbox)


def test_a_notice_that_cannot_be_delivered_stays_in_the_outbox_and_goes_out_on_the_next_run(demo_app, smtp_server):
    app = demo_app
    host, port, inbox = smtp_server
    enter_order(app, "0021")
    job(app, "process-payments", START)
    [(nid, kind, _, _, _)] = _outbox(app)
    assert kind == "paid"

    down = job(app, "send-notifications", START, deps=app.job_deps(mailer=SmtpMailer("127.0.0.1", _free_port())))

    assert down["counts"] == {"sent": 0, "failed": 1}
    assert [(d, tries) for *_, d, tries in _outbox(app)] == [(None, 1)]
    assert inbox.messages == []

    up = job(app, "send-notifications", START, deps=app.job_deps(mailer=SmtpMailer(host, port)))

    assert up["counts"] == {"sent": 1, "failed": 0}
    assert [m["Message-ID"] for _, m in inbox.messages] == [f"<notification-{nid}@continuity>"]
    assert _outbox(app)[0][3] is not None
