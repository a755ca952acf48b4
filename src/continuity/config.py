"""Settings from the environment (CONTINUITY_*)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Settings:
    database_url: str
    log_file: str | None
    today: date | None
    smtp_host: str | None = None
    smtp_port: int = 25

    @classmethod
    def from_env(cls) -> Settings:
        today = os.environ.get("CONTINUITY_TODAY")
        return cls(
            database_url=os.environ.get("CONTINUITY_DATABASE_URL", "sqlite:///continuity.db"),
            log_file=os.environ.get("CONTINUITY_LOG_FILE") or None,
            today=date.fromisoformat(today) if today else None,
            smtp_host=os.environ.get("CONTINUITY_SMTP_HOST") or None,
            smtp_port=int(os.environ.get("CONTINUITY_SMTP_PORT", "25")),
        )
