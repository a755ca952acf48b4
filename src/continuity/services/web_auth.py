"""Web UI logins: passwords (argon2 hashes), lockout after repeated failures, sessions with an idle
timeout. A session id exists in clear only in the user's cookie; the database keeps its SHA-256."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from continuity.domain.errors import NotFound, ValidationFailed
from continuity.domain.users import User
from continuity.services.ports import Clock

LOCK_AFTER_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
IDLE_TIMEOUT = timedelta(minutes=30)
MIN_PASSWORD = 8
MAX_PASSWORD = 200
TOUCH_EVERY = timedelta(seconds=30)  # last_seen_at is written at most this often
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class Login:
    user: User
    password_hash: str
    failed_attempts: int
    locked_until: datetime | None
    language: str | None


@dataclass(frozen=True)
class Session:
    session_hash: str
    user: User
    csrf_token: str
    language: str | None
    created_at: datetime
    last_seen_at: datetime


class WebAuthStore(Protocol):
    def user_named(self, name: str) -> User | None: ...
    def login(self, name: str) -> Login | None: ...
    def save_password(self, user_id: int, password_hash: str, now: datetime) -> None: ...
    def record_failure(self, user_id: int, lock_after: int, locked_until: datetime, now: datetime) -> bool: ...
    def record_success(self, user_id: int, now: datetime) -> None: ...
    def add_session(self, session_hash: str, user_id: int, csrf_token: str, language: str | None,
                    now: datetime) -> None: ...
    def session(self, session_hash: str) -> Session | None: ...
    def touch_session(self, session_hash: str, now: datetime) -> None: ...
    def delete_session(self, session_hash: str) -> None: ...
    def set_language(self, session_hash: str, user_id: int, language: str) -> None: ...


class LoginRefused(Exception):
    """Wrong name or password (``locked`` False), or the login is locked until ``until``."""

    def __init__(self, locked: bool = False, until: datetime | None = None) -> None:
        super().__init__("login locked" if locked else "wrong user name or password")
        self.locked, self.until = locked, until


@dataclass(frozen=True)
class NewSession:
    session_id: str  # for the cookie only
    session: Session


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationFailed(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters", "password_invalid")


def set_password(store: WebAuthStore, clock: Clock, name: str, password: str) -> User:
    """Give an existing user a web password (a new one replaces the old and unlocks the login)."""
    check_password(password)
    user = store.user_named(name)
    if user is None:
        raise NotFound(f"there is no user named {name!r}", "user_not_found")
    store.save_password(user.user_id, _hasher.hash(password), clock.now())
    return user


def log_in(store: WebAuthStore, clock: Clock, name: str, password: str, language: str | None) -> NewSession:
    """Check the password and open a session; raises LoginRefused (the same way for an unknown name)."""
    now = clock.now()
    login = store.login(name[:100]) if password else None
    if login is None:
        _verify(_DUMMY_HASH, password or "-")  # same work as for a real user: no name probing by timing
        raise LoginRefused()
    if login.locked_until is not None and login.locked_until > now:
        raise LoginRefused(locked=True, until=login.locked_until)
    if not _verify(login.password_hash, password[:MAX_PASSWORD]):
        if store.record_failure(login.user.user_id, LOCK_AFTER_FAILURES, now + LOCK_FOR, now):
            raise LoginRefused(locked=True, until=now + LOCK_FOR)
        raise LoginRefused()
    store.record_success(login.user.user_id, now)
    if _hasher.check_needs_rehash(login.password_hash):
        store.save_password(login.user.user_id, _hasher.hash(password), now)
    session_id = secrets.token_urlsafe(32)
    lang = login.language or language
    session = Session(session_hash(session_id), login.user, secrets.token_urlsafe(32), lang, now, now)
    store.add_session(session.session_hash, login.user.user_id, session.csrf_token, lang, now)
    return NewSession(session_id, session)


def current_session(store: WebAuthStore, clock: Clock, session_id: str | None,
                    idle_timeout: timedelta = IDLE_TIMEOUT) -> Session | None:
    """The live session of a cookie, or None; an idle one is deleted (the user logs in again)."""
    if not session_id or len(session_id) > 100:
        return None
    session = store.session(session_hash(session_id))
    if session is None:
        return None
    now = clock.now()
    if now - session.last_seen_at > idle_timeout:
        store.delete_session(session.session_hash)
        return None
    if now - session.last_seen_at > TOUCH_EVERY:
        store.touch_session(session.session_hash, now)
    return session


def log_out(store: WebAuthStore, session_id: str | None) -> None:
    if session_id:
        store.delete_session(session_hash(session_id))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
