"""Settings from the environment (CONTINUITY_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from typing import TypedDict

from continuity.domain.errors import ValidationFailed

MAX_DAYS = 36_500  # the largest day-count setting: a century keeps every date sum in range
MAX_HOURS = 8_760  # the largest hour-count setting: a year
MAX_GATEWAY_CONCURRENCY = 1024  # threads of one worker waiting on the gateway at once

STRIPE_API_BASE = "https://api.stripe.com"
STRIPE_JS_URL = "https://js.stripe.com/v3/"


@dataclass(frozen=True)
class Settings:
    database_url: str
    log_file: str | None
    today: date | None
    smtp_host: str | None = None
    smtp_port: int = 25
    job_stale_minutes: int = 15
    start_date_max_days_back: int = 365  # a continuity start date at most this many days before the order date
    start_date_max_days_ahead: int = 5 * 365  # … and at most this many days after it
    max_as_of_days: int = 7  # a job's as_of at most this many days after today
    max_body_bytes: int = 1 << 20  # a request body (API or web form) above this many bytes → 413
    trust_forwarded_proto: bool = False  # X-Forwarded-Proto: https from a proxy counts as https (HSTS)
    session_max_hours: int = 12  # a web session ends this many hours after its login, however active
    web_idle_minutes: int = 30  # … and after this many minutes without a request
    gateway: str = "test"  # CONTINUITY_GATEWAY: the built-in test connector, or stripe
    stripe_api_key: str | None = field(default=None, repr=False)
    stripe_publishable_key: str | None = None
    stripe_api_base: str = STRIPE_API_BASE
    stripe_js_url: str = STRIPE_JS_URL
    stripe_key_prefix: str = ""  # CONTINUITY_STRIPE_KEY_PREFIX: before every idempotency key sent to Stripe
    gateway_concurrency: int = 32  # gateway calls of one worker in flight at once
    gateway_rate: float = 80.0  # gateway requests per second of one worker, at most
    test_gateway_latency_ms: int = 0  # the test connector answers after this long (± the jitter)
    test_gateway_jitter_ms: int = 0

    @classmethod
    def from_env(cls) -> Settings:
        today = os.environ.get("CONTINUITY_TODAY")
        return cls(
            database_url=os.environ.get("CONTINUITY_DATABASE_URL", "sqlite:///continuity.db"),
            log_file=os.environ.get("CONTINUITY_LOG_FILE") or None,
            today=date.fromisoformat(today) if today else None,
            smtp_host=os.environ.get("CONTINUITY_SMTP_HOST") or None,
            smtp_port=int(os.environ.get("CONTINUITY_SMTP_PORT", "25")),
            job_stale_minutes=_minutes("CONTINUITY_JOB_STALE_MINUTES", 15),
            start_date_max_days_back=_days("CONTINUITY_START_DATE_MAX_DAYS_BACK", 365),
            start_date_max_days_ahead=_days("CONTINUITY_START_DATE_MAX_DAYS_AHEAD", 5 * 365),
            max_as_of_days=_days("CONTINUITY_MAX_AS_OF_DAYS", 7),
            max_body_bytes=_bytes("CONTINUITY_MAX_BODY_BYTES", 1 << 20),
            trust_forwarded_proto=_flag("CONTINUITY_TRUST_FORWARDED_PROTO"),
            session_max_hours=_hours("CONTINUITY_SESSION_MAX_HOURS", 12),
            web_idle_minutes=_minutes("CONTINUITY_WEB_IDLE_MINUTES", 30),
            **_gateway_settings(),
            **_stripe_settings(),
        )


def _minutes(variable: str, default: int) -> int:
    value = (os.environ.get(variable) or "").strip() or str(default)
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise ValidationFailed(
            f"{variable} must be a whole number of minutes, at least 1, not {value!r}", "setting_invalid"
        )
    return int(value)


def _hours(variable: str, default: int) -> int:
    """A whole number of hours, 1 to MAX_HOURS."""
    value = (os.environ.get(variable) or "").strip() or str(default)
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_HOURS:
        raise ValidationFailed(
            f"{variable} must be a whole number of hours from 1 to {MAX_HOURS}, not {value!r}", "setting_invalid"
        )
    return int(value)


def _days(variable: str, default: int) -> int:
    """A whole number of days, 0 to MAX_DAYS."""
    value = (os.environ.get(variable) or "").strip() or str(default)
    if not value.isascii() or not value.isdigit() or int(value) > MAX_DAYS:
        raise ValidationFailed(
            f"{variable} must be a whole number of days from 0 to {MAX_DAYS}, not {value!r}", "setting_invalid"
        )
    return int(value)


def _bytes(variable: str, default: int) -> int:
    value = (os.environ.get(variable) or "").strip() or str(default)
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise ValidationFailed(
            f"{variable} must be a whole number of bytes, at least 1, not {value!r}", "setting_invalid"
        )
    return int(value)


class _GatewaySettings(TypedDict):
    gateway_concurrency: int
    gateway_rate: float
    test_gateway_latency_ms: int
    test_gateway_jitter_ms: int


def _gateway_settings() -> _GatewaySettings:
    return {
        "gateway_concurrency": _whole("CONTINUITY_GATEWAY_CONCURRENCY", 32, 1, MAX_GATEWAY_CONCURRENCY, "calls"),
        "gateway_rate": _rate("CONTINUITY_GATEWAY_RATE", 80),
        "test_gateway_latency_ms": _whole("CONTINUITY_TEST_GATEWAY_LATENCY_MS", 0, 0, 600_000, "milliseconds"),
        "test_gateway_jitter_ms": _whole("CONTINUITY_TEST_GATEWAY_JITTER_MS", 0, 0, 600_000, "milliseconds"),
    }


def _whole(variable: str, default: int, least: int, most: int, unit: str) -> int:
    value = (os.environ.get(variable) or "").strip() or str(default)
    if not value.isascii() or not value.isdigit() or not least <= int(value) <= most:
        raise ValidationFailed(
            f"{variable} must be a whole number of {unit} from {least} to {most}, not {value!r}", "setting_invalid"
        )
    return int(value)


def _rate(variable: str, default: int) -> float:
    """Requests per second: a number above 0 (12.5 allowed), at most a million."""
    value = (os.environ.get(variable) or "").strip() or str(default)
    try:
        rate = float(value) if value.isascii() and value.replace(".", "", 1).isdigit() else 0.0
    except ValueError:
        rate = 0.0
    if not 0 < rate <= 1_000_000:
        raise ValidationFailed(
            f"{variable} must be a number of requests per second above 0 (at most 1000000), not {value!r}",
            "setting_invalid",
        )
    return rate


def _flag(variable: str) -> bool:
    """On: 1, true, yes, on; off: 0, false, no, off or unset (any case)."""
    value = (os.environ.get(variable) or "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise ValidationFailed(f"{variable} must be on or off (1/0, true/false, yes/no), not {value!r}", "setting_invalid")


class _StripeSettings(TypedDict):
    gateway: str
    stripe_api_key: str | None
    stripe_publishable_key: str | None
    stripe_api_base: str
    stripe_js_url: str
    stripe_key_prefix: str


def _stripe_settings() -> _StripeSettings:
    """CONTINUITY_GATEWAY (test or stripe) and, for stripe, its keys and addresses."""
    gateway = (os.environ.get("CONTINUITY_GATEWAY") or "test").strip().lower()
    if gateway not in ("test", "stripe"):
        raise ValidationFailed(f"CONTINUITY_GATEWAY must be test or stripe, not {gateway!r}", "setting_invalid")
    values: _StripeSettings = {
        "gateway": gateway,
        "stripe_api_key": (os.environ.get("CONTINUITY_STRIPE_API_KEY") or "").strip() or None,
        "stripe_publishable_key": (os.environ.get("CONTINUITY_STRIPE_PUBLISHABLE_KEY") or "").strip() or None,
        "stripe_api_base": (os.environ.get("CONTINUITY_STRIPE_API_BASE") or "").strip() or STRIPE_API_BASE,
        "stripe_js_url": (os.environ.get("CONTINUITY_STRIPE_JS_URL") or "").strip() or STRIPE_JS_URL,
        "stripe_key_prefix": (os.environ.get("CONTINUITY_STRIPE_KEY_PREFIX") or "").strip(),
    }
    if gateway == "stripe":
        check_stripe_keys(values["stripe_api_key"], values["stripe_publishable_key"])
    return values


def check_stripe_keys(secret: str | None, publishable: str | None) -> None:
    """Both keys are required with CONTINUITY_GATEWAY=stripe; the error never repeats a secret key."""
    if not secret:
        raise ValidationFailed(
            "CONTINUITY_STRIPE_API_KEY is required with CONTINUITY_GATEWAY=stripe "
            "(a secret key: sk_test_… or sk_live_…)",
            "setting_invalid",
        )
    if not secret.startswith(("sk_", "rk_")):
        raise ValidationFailed(
            "CONTINUITY_STRIPE_API_KEY is not a Stripe secret key (it must start with sk_ or rk_)", "setting_invalid"
        )
    if not publishable:
        raise ValidationFailed(
            "CONTINUITY_STRIPE_PUBLISHABLE_KEY is required with CONTINUITY_GATEWAY=stripe "
            "(pk_test_… or pk_live_…: the browser's key)",
            "setting_invalid",
        )
    if not publishable.startswith("pk_"):
        raise ValidationFailed(
            f"CONTINUITY_STRIPE_PUBLISHABLE_KEY must start with pk_, not {publishable[:8]!r}", "setting_invalid"
        )
