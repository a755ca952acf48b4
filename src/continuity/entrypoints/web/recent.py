"""The customers this agent opened recently in this session (issue 18 item 9), shown beside the search
box of every page: a cookie holding their accounts, newest first, signed with the session (a new login
starts with none; a cookie of another session is not read). Their names are read from the database."""

from __future__ import annotations

import hashlib
import hmac
import re

from fastapi import Request, Response

from continuity.entrypoints.web.session import SESSION_COOKIE, is_https

RECENT_COOKIE = "continuity_recent"
KEPT = 5
_ACCOUNT = re.compile(r"^[\w.-]{1,40}$")


def accounts(request: Request) -> list[str]:
    """The accounts opened recently, newest first (none when the cookie is not this session's)."""
    changed = getattr(request.state, "recent", None)
    if isinstance(changed, list):
        return changed
    raw, key = request.cookies.get(RECENT_COOKIE, ""), _key(request)
    body, _, signature = raw.rpartition(".")
    if not body or key is None or not hmac.compare_digest(signature, _sign(key, body)):
        return []
    return [a for a in body.split(",") if _ACCOUNT.match(a)][:KEPT]


def remember(request: Request, account: str) -> None:
    """This customer was opened: first of the list (the page rendered next writes the cookie)."""
    if _ACCOUNT.match(account):
        request.state.recent = [account, *(a for a in accounts(request) if a != account)][:KEPT]


def keep(request: Request, response: Response) -> None:
    """Write the list ``remember`` changed into the answer (called by every rendered page)."""
    changed, key = getattr(request.state, "recent", None), _key(request)
    if isinstance(changed, list) and key is not None:
        body = ",".join(changed)
        response.set_cookie(
            RECENT_COOKIE,
            f"{body}.{_sign(key, body)}",
            httponly=True,
            samesite="lax",
            secure=is_https(request),
            path="/",
        )


def _key(request: Request) -> bytes | None:
    session = request.cookies.get(SESSION_COOKIE)
    return session.encode() if session else None


def _sign(key: bytes, body: str) -> str:
    return hmac.new(key, b"recent:" + body.encode(), hashlib.sha256).hexdigest()
