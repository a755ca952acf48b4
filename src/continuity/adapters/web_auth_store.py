"""Web logins (password hash, failed attempts, lock) and web sessions, each call its own transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update

from continuity.adapters import orm
from continuity.adapters.orm_web import web_logins, web_sessions
from continuity.domain.users import Role, User
from continuity.services.web_auth import Login, Session


class WebAuthStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def user_named(self, name: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(orm.users).where(orm.users.c.name == name)).first()
        return None if row is None else User(row.user_id, row.name, Role(row.role))

    def login(self, name: str) -> Login | None:
        u, w = orm.users, web_logins
        query = select(u, w.c.password_hash, w.c.failed_attempts, w.c.locked_until, w.c.language).join(
            w, w.c.user_id == u.c.user_id).where(u.c.name == name)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return Login(User(row.user_id, row.name, Role(row.role)), row.password_hash, row.failed_attempts,
                     _aware(row.locked_until), row.language)

    def save_password(self, user_id: int, password_hash: str, now: datetime) -> None:
        w = web_logins
        with self.engine.begin() as conn:
            done = conn.execute(update(w).where(w.c.user_id == user_id).values(
                password_hash=password_hash, failed_attempts=0, locked_until=None, updated_at=now))
            if done.rowcount == 0:
                conn.execute(insert(w).values(user_id=user_id, password_hash=password_hash, failed_attempts=0,
                                              updated_at=now))

    def record_failure(self, user_id: int, lock_after: int, locked_until: datetime, now: datetime) -> bool:
        """Count a failed attempt; lock the login when it is the ``lock_after``-th. True when now locked."""
        w = web_logins
        with self.engine.begin() as conn:
            failed = conn.execute(update(w).where(w.c.user_id == user_id).values(
                failed_attempts=w.c.failed_attempts + 1, updated_at=now).returning(w.c.failed_attempts)).scalar_one()
            if failed >= lock_after:
                conn.execute(update(w).where(w.c.user_id == user_id).values(failed_attempts=0,
                                                                            locked_until=locked_until))
                return True
        return False

    def record_success(self, user_id: int, now: datetime) -> None:
        w = web_logins
        with self.engine.begin() as conn:
            conn.execute(update(w).where(w.c.user_id == user_id).values(failed_attempts=0, locked_until=None,
                                                                        updated_at=now))

    def add_session(self, session_hash: str, user_id: int, csrf_token: str, language: str | None,
                    now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(web_sessions).values(session_hash=session_hash, user_id=user_id,
                                                     csrf_token=csrf_token, language=language, created_at=now,
                                                     last_seen_at=now))

    def session(self, session_hash: str) -> Session | None:
        s, u = web_sessions, orm.users
        query = select(s, u.c.name, u.c.role).join(u, u.c.user_id == s.c.user_id).where(
            s.c.session_hash == session_hash)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return Session(row.session_hash, User(row.user_id, row.name, Role(row.role)), row.csrf_token,
                       row.language, _aware(row.created_at), _aware(row.last_seen_at))

    def touch_session(self, session_hash: str, now: datetime) -> None:
        s = web_sessions
        with self.engine.begin() as conn:
            conn.execute(update(s).where(s.c.session_hash == session_hash).values(last_seen_at=now))

    def delete_session(self, session_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.session_hash == session_hash))

    def set_language(self, session_hash: str, user_id: int, language: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(web_sessions).where(web_sessions.c.session_hash == session_hash)
                         .values(language=language))
            conn.execute(update(web_logins).where(web_logins.c.user_id == user_id).values(language=language))


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes for timezone-aware columns: they were stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    from datetime import UTC

    return value.replace(tzinfo=UTC)
