"""What an agent notes about a call with a customer (issue 18 item 11): free text, checked as the other
free text is (no control or text-direction character but line breaks; a card number masked), kept short."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from continuity.domain.errors import ValidationFailed
from continuity.domain.free_text import masked_reason

MAX_NOTE = 2000


@dataclass(frozen=True)
class CallNote:
    account: str
    author: str
    written_at: datetime
    body: str
    note_id: int | None = None


def checked_note(text: str) -> str:
    """The note as stored: lines kept (\\r\\n → \\n), each checked as a reason, a card number masked;
    refused when empty or longer than MAX_NOTE characters."""
    lines = [
        masked_reason(line.rstrip(), "note") for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    body = "\n".join(lines).strip()
    if not body:
        raise ValidationFailed("note: write what the call was about", "note_empty")
    if len(body) > MAX_NOTE:
        raise ValidationFailed(f"note: at most {MAX_NOTE} characters", "note_too_long")
    return body
