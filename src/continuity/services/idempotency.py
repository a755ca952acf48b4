"""The Idempotency-Key contract of every POST (RELIABILITY-REFERENCE R4).

The first request with a key claims it (a committed ``running`` record) and runs; its response is
stored and replayed for 24 hours to a retry with the same key and the same request; the same key
with another request is refused; a retry while the first still runs is told so. Keys are per user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from enum import StrEnum

from continuity.services.ports import IdempotencyRecord, UowFactory

#: How long a stored response is replayed.
RETENTION = timedelta(hours=24)
#: A request still marked running after this long is taken as lost (its process died); the key may run again.
LEASE = timedelta(minutes=10)


class Begin(StrEnum):
    RUN = "run"  # the key is ours: run the request, then finish() or abandon()
    REPLAY = "replay"  # the stored response is the answer
    RUNNING = "running"  # the first request with this key has not finished
    MISMATCH = "mismatch"  # the key was used for a different request
    UNSTORED = "unstored"  # the first response was not kept (it held a secret)


def request_hash(secret: str, method: str, path: str, body: bytes) -> str:
    """HMAC-SHA256 of the request keyed by the caller's bearer token (which is never stored):
    a body that holds a card number leaves no hash behind that could be brute-forced."""
    digest = hmac.new(secret.encode(), method.encode() + b"\n" + path.encode() + b"\n" + body, hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def begin(
    uow_factory: UowFactory, user_id: int, key: str, req_hash: str, method: str, path: str, now: datetime
) -> tuple[Begin, IdempotencyRecord | None]:
    with uow_factory() as uow:
        uow.idempotency.purge(user_id, now - RETENTION)
        record = uow.idempotency.get(user_id, key)
        if record is not None and record.status == "running" and record.created_at < now - LEASE:
            uow.idempotency.delete(user_id, key)
            record = None
        if record is None:
            if uow.idempotency.claim(user_id, key, req_hash, method, path, now):
                uow.commit()
                return Begin.RUN, None
            record = uow.idempotency.get(user_id, key)  # another request claimed it just now
        uow.commit()
    if record is None:  # claimed and released again in between: ask the caller to retry
        return Begin.RUNNING, None
    if not hmac.compare_digest(record.request_hash, req_hash):
        return Begin.MISMATCH, record
    if record.status == "running":
        return Begin.RUNNING, record
    if record.status == "unstored":
        return Begin.UNSTORED, record
    return Begin.REPLAY, record


def finish(
    uow_factory: UowFactory,
    user_id: int,
    key: str,
    status: int,
    content_type: str | None,
    body: str | None,
    store: bool = True,
) -> None:
    """Keep the response for replay (or only the fact that the request ran when ``store`` is False)."""
    with uow_factory() as uow:
        if store:
            uow.idempotency.finish(user_id, key, "completed", status, content_type, body)
        else:
            uow.idempotency.finish(user_id, key, "unstored", status, None, None)
        uow.commit()


def abandon(uow_factory: UowFactory, user_id: int, key: str) -> None:
    """The request failed before an answer worth replaying (a server error): the key may be retried."""
    with uow_factory() as uow:
        uow.idempotency.delete(user_id, key)
        uow.commit()
