"""Sends e-mail through an SMTP server (CONTINUITY_SMTP_HOST / CONTINUITY_SMTP_PORT)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str = "continuity@example.com") -> None:
        self.host, self.port, self.sender = host, port, sender
        self._smtp: smtplib.SMTP | None = None

    def send(self, to: str, subject: str, body: str, message_id: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message["Message-ID"] = f"<{message_id}@continuity>"
        message.set_content(body)
        if self._smtp is None:
            self._smtp = smtplib.SMTP(self.host, self.port, timeout=30)
        self._smtp.send_message(message)

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except smtplib.SMTPException:
                pass
            self._smtp = None
