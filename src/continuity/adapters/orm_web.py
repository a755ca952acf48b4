"""Tables of the web change (migration 0004), on the shared metadata of continuity.adapters.orm:
password logins of the web UI, their sessions and the failed-login counts of the throttle (0011). A
password is kept only as an argon2 hash, a session id only as its SHA-256, a client address or a
tried name only as its SHA-256."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table

from continuity.adapters.orm import metadata

web_logins = Table(
    "web_logins",
    metadata,
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True),
    Column("password_hash", String(200), nullable=False),  # argon2id, with its own salt and parameters
    Column("language", String(10), nullable=True),  # the language the user picked last
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),  # SHA-256 (hex) of the cookie's session id
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("language", String(10), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
)

login_throttles = Table(
    "login_throttles",
    metadata,
    Column("scope", String(10), primary_key=True),  # address or account
    Column("key_hash", String(64), primary_key=True),  # SHA-256 (hex) of the client address or the name
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", DateTime(timezone=True), nullable=False, index=True),
)
