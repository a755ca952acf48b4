"""send-notifications: deliver the outbox by SMTP, each message at least once."""

from __future__ import annotations

import logging

from continuity.services.jobs.context import JobDeps, JobOutcome, JobRequest, Progress
from continuity.services.jobs.ports import Mailer
from continuity.services.jobs.records import OutboxMessage
from continuity.services.notification_texts import render

log = logging.getLogger(__name__)


def send_notifications(deps: JobDeps, req: JobRequest, progress: Progress) -> JobOutcome:
    """Deliver the notification outbox by SMTP (CONTINUITY_SMTP_HOST); each message at least once."""
    mailer = deps.mailer
    if mailer is None:
        return JobOutcome({"sent": 0, "failed": 0, "pending": deps.outbox.undelivered()})
    progress.start("send-notifications", deps.outbox.undelivered())
    sent = failed = 0
    try:
        while True:
            ok, bad = deps.outbox.deliver_chunk(
                min(req.chunk_size, 200), lambda message: _send(mailer, message), deps.clock.now()
            )
            sent, failed = sent + ok, failed + bad
            progress.advance(ok + bad)
            if ok + bad == 0 or ok == 0:
                break
    finally:
        mailer.close()
    return JobOutcome({"sent": sent, "failed": failed})


def _send(mailer: Mailer, message: OutboxMessage) -> str | None:
    subject, body = render(message.kind, message.language, message.sales_id, message.payload)
    try:
        mailer.send(message.email, subject, body, f"notification-{message.notification_id}")
    except OSError as exc:  # smtplib errors are OSErrors
        log.warning("notification %s not delivered: %s", message.notification_id, exc)
        return str(exc)[:200]
    return None
