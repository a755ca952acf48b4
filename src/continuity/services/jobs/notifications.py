"""send-notifications: deliver the outbox by SMTP, each message at least once."""

from __future__ import annotations

import logging

from continuity.services.jobs.context import JobDeps, JobOutcome, JobRequest, Progress
from continuity.services.notification_texts import render

log = logging.getLogger(__name__)


def send_notifications(deps: JobDeps, req: JobRequest, progress: Progress) -> JobOutcome:
    """Deliver the notification outbox by SMTP (CONTINUITY_SMTP_HOST); each message at least once."""
    if deps.mailer is None:
        return JobOutcome({"sent": 0, "failed": 0, "pending": deps.outbox.undelivered()})
    progress.start("send-notifications", deps.outbox.undelivered())
    sent = failed = 0
    try:
        while True:
            ok, bad = deps.outbox.deliver_chunk(
                min(req.chunk_size, 200), lambda row: _send(deps, row), deps.clock.now()
            )
            sent, failed = sent + ok, failed + bad
            progress.advance(ok + bad)
            if ok + bad == 0 or ok == 0:
                break
    finally:
        deps.mailer.close()
    return JobOutcome({"sent": sent, "failed": failed})


def _send(deps: JobDeps, row: dict) -> str | None:
    subject, body = render(row["kind"], row["language"], row["sales_id"], row["payload"])
    try:
        deps.mailer.send(row["email"], subject, body, f"notification-{row['notification_id']}")
    except OSError as exc:  # smtplib errors are OSErrors
        log.warning("notification %s not delivered: %s", row["notification_id"], exc)
        return str(exc)[:200]
    return None
