"""Web logins (password hash), web sessions and the failed-login counts of the throttle; each call is
its own transaction. The counts live in the database, so every worker process sees the same ones."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, case, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from continuity.adapters import orm
from continuity.adapters.orm_web import login_throttles, web_logins, web_sessions
from continuity.adapters.user_repository import end_credentials, user_of
from continuity.domain.login_throttle import Failures
from continuity.domain.users import User
from continuity.services.ports import Login, Session, ThrottleKeys

ADDRESS, ACCOUNT = "address", "account"


class WebAuthStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def user_named(self, name: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(orm.users).where(orm.users.c.name == name)).first()
        return None if row is None else user_of(row)

    def login(self, name: str) -> Login | None:
        u, w = orm.users, web_logins
        query = select(u, w.c.password_hash, w.c.language).join(w, w.c.user_id == u.c.user_id).where(u.c.name == name)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return Login(user_of(row), row.password_hash, row.language)

    def replace_password(self, user_id: int, password_hash: str, now: datetime) -> bool:
        """Set the password; when it replaces one, the user's sessions and API token end with it. True then."""
        w = web_logins
        with self.engine.begin() as conn:
            done = conn.execute(
                update(w).where(w.c.user_id == user_id).values(password_hash=password_hash, updated_at=now)
            )
            if done.rowcount == 0:
                conn.execute(insert(w).values(user_id=user_id, password_hash=password_hash, updated_at=now))
                return False
            end_credentials(conn, user_id)
        return True

    def rehash_password(self, user_id: int, password_hash: str, now: datetime) -> None:
        """The same password under new argon2 parameters: nothing else changes."""
        w = web_logins
        with self.engine.begin() as conn:
            conn.execute(update(w).where(w.c.user_id == user_id).values(password_hash=password_hash, updated_at=now))

    def failures(self, keys: ThrottleKeys) -> tuple[Failures | None, Failures | None]:
        t = login_throttles
        query = select(t).where(
            ((t.c.scope == ADDRESS) & (t.c.key_hash == keys.address))
            | ((t.c.scope == ACCOUNT) & (t.c.key_hash == keys.account))
        )
        with self.engine.connect() as conn:
            rows = {r.scope: Failures(r.failures, _aware(r.last_failure_at)) for r in conn.execute(query)}
        return rows.get(ADDRESS), rows.get(ACCOUNT)

    def record_failure(self, keys: ThrottleKeys, now: datetime, forget_before: datetime) -> None:
        """One more failure for the address and for the name (a count older than ``forget_before`` starts
        again at 1), in one statement each, safe against concurrent logins; old counts are pruned."""
        t = login_throttles
        with self.engine.begin() as conn:
            for scope, key in ((ADDRESS, keys.address), (ACCOUNT, keys.account)):
                _count_failure(conn, scope, key, now, forget_before)
            conn.execute(delete(t).where(t.c.last_failure_at < forget_before))

    def clear_failures(self, keys: ThrottleKeys) -> None:
        """After a good login: the name's count ends; the address's stays (one good account must not wipe
        a client's failures on others)."""
        t = login_throttles
        with self.engine.begin() as conn:
            conn.execute(delete(t).where(t.c.scope == ACCOUNT, t.c.key_hash == keys.account))

    def add_session(
        self, session_hash: str, user_id: int, csrf_token: str, language: str | None, now: datetime
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(web_sessions).values(
                    session_hash=session_hash,
                    user_id=user_id,
                    csrf_token=csrf_token,
                    language=language,
                    created_at=now,
                    last_seen_at=now,
                )
            )

    def session(self, session_hash: str) -> Session | None:
        """A session of a user who is not disabled."""
        s, u = web_sessions, orm.users
        query = (
            select(s, u.c.name, u.c.role, u.c.token_hash, u.c.disabled_at)
            .join(u, u.c.user_id == s.c.user_id)
            .where(s.c.session_hash == session_hash, u.c.disabled_at.is_(None))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return Session(
            row.session_hash,
            user_of(row),
            row.csrf_token,
            row.language,
            _aware(row.created_at),
            _aware(row.last_seen_at),
        )

    def touch_session(self, session_hash: str, now: datetime) -> None:
        s = web_sessions
        with self.engine.begin() as conn:
            conn.execute(update(s).where(s.c.session_hash == session_hash).values(last_seen_at=now))

    def delete_session(self, session_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.session_hash == session_hash))

    def set_language(self, session_hash: str, user_id: int, language: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(web_sessions).where(web_sessions.c.session_hash == session_hash).values(language=language)
            )
            conn.execute(update(web_logins).where(web_logins.c.user_id == user_id).values(language=language))


def _count_failure(conn: Connection, scope: str, key: str, now: datetime, forget_before: datetime) -> None:
    t = login_throttles
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stale = t.c.last_failure_at < forget_before
    statement = dialect.insert(t).values(scope=scope, key_hash=key, failures=1, last_failure_at=now)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[t.c.scope, t.c.key_hash],
            set_={"failures": case((stale, 1), else_=t.c.failures + 1), "last_failure_at": now},
        )
    )


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns: they were stored in UTC."""
    if value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
