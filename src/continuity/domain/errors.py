"""Domain errors. Every error carries a stable ``code`` that the CLI, API and UI map once, and the
parameters an entrypoint words it with (``message`` is the English fallback, never parsed)."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every business error; ``code`` is stable and machine-readable; ``params`` (e.g. ``field``,
    ``minimum``) say what the code is about."""

    code = "domain_error"

    def __init__(self, message: str, code: str | None = None, params: Mapping[str, str | int] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.params: dict[str, str | int] = dict(params or {})
        if code is not None:
            self.code = code


class NotFound(DomainError):
    code = "not_found"


class ValidationFailed(DomainError):
    code = "validation_failed"


class RuleViolation(DomainError):
    code = "rule_violation"


class InvalidTransition(DomainError):
    code = "invalid_transition"

    def __init__(self, entity: str, current: str, target: str) -> None:
        super().__init__(f"{entity} cannot move from {current} to {target}")
        self.entity, self.current, self.target = entity, current, target


class PaymentError(DomainError):
    code = "payment_error"


class CardInvalid(PaymentError):
    code = "card_number_invalid"


class CardExpired(PaymentError):
    code = "card_expired"
