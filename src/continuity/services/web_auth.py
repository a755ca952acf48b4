"""Web UI logins: passwords (argon2 hashes), a throttle on failed logins, sessions with an idle timeout
and an absolute lifetime. A session id exists in clear only in the user's cookie; the database keeps its
SHA-256.

Every refused login — unknown name, wrong password, disabled user, throttled client — does the same
work (the throttle read, the login read, one argon2 verify, the failure write) and raises the same
LoginRefused: the answer tells nothing about which names exist or whether a client is being held back."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from continuity.domain.errors import NotFound, ValidationFailed
from continuity.domain.login_throttle import ThrottlePolicy
from continuity.domain.users import User
from continuity.services.ports import Clock, Session, ThrottleKeys, WebAuthStore

THROTTLE = ThrottlePolicy()
IDLE_TIMEOUT = timedelta(minutes=30)
MAX_AGE = timedelta(hours=12)  # a session ends this long after its login, however active
MIN_PASSWORD = 8
MAX_PASSWORD = 200
MAX_NAME = 100
TOUCH_EVERY = timedelta(seconds=30)  # last_seen_at is written at most this often
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")  # same parameters as every real hash


class LoginRefused(Exception):
    """Wrong name or password, a disabled user or a throttled client: deliberately one kind."""

    def __init__(self) -> None:
        super().__init__("wrong user name or password")


@dataclass(frozen=True)
class NewSession:
    session_id: str  # for the cookie only
    session: Session


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def throttle_keys(client_address: str, name: str) -> ThrottleKeys:
    return ThrottleKeys(hashlib.sha256(client_address.encode()).hexdigest(), hashlib.sha256(name.encode()).hexdigest())


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationFailed(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters", "password_invalid")


def set_password(store: WebAuthStore, clock: Clock, name: str, password: str) -> User:
    """Give an existing user a web password. A new one replaces the old and ends the user's web sessions
    and API token (the first password of a user ends nothing)."""
    check_password(password)
    user = store.user_named(name)
    if user is None:
        raise NotFound(f"there is no user named {name!r}", "user_not_found")
    if store.replace_password(user.user_id, _hasher.hash(password), clock.now()):
        return store.user_named(name) or user
    return user


def log_in(
    store: WebAuthStore, clock: Clock, name: str, password: str, language: str | None, client_address: str = ""
) -> NewSession:
    """Check the password and open a session; raises LoginRefused, the same way for every refusal."""
    now = clock.now()
    name, password = name[:MAX_NAME], password[:MAX_PASSWORD]
    keys = throttle_keys(client_address, name)
    held = THROTTLE.refuses(*store.failures(keys), now)
    login = store.login(name)
    right = _verify(login.password_hash if login else _DUMMY_HASH, password)
    if held or login is None or login.user.disabled or not right:
        store.record_failure(keys, now, now - THROTTLE.forget_after)
        raise LoginRefused()
    store.clear_failures(keys)
    if _hasher.check_needs_rehash(login.password_hash):
        store.rehash_password(login.user.user_id, _hasher.hash(password), now)
    session_id = secrets.token_urlsafe(32)
    lang = login.language or language
    session = Session(session_hash(session_id), login.user, secrets.token_urlsafe(32), lang, now, now)
    store.add_session(session.session_hash, login.user.user_id, session.csrf_token, lang, now)
    return NewSession(session_id, session)


def current_session(
    store: WebAuthStore,
    clock: Clock,
    session_id: str | None,
    idle_timeout: timedelta = IDLE_TIMEOUT,
    max_age: timedelta = MAX_AGE,
) -> Session | None:
    """The live session of a cookie, or None; an idle or too old one is deleted (the user logs in again)."""
    if not session_id or len(session_id) > 100:
        return None
    session = store.session(session_hash(session_id))
    if session is None:
        return None
    now = clock.now()
    if now - session.last_seen_at > idle_timeout or now - session.created_at > max_age:
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
