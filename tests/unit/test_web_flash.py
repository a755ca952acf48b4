"""The web flash of post-redirect-get (issue 18 item 8): what a refused form leaves for its page."""

from __future__ import annotations

from continuity.entrypoints.web import flash

PAN = "4111111111111111"


def test_a_flash_never_keeps_a_card_number_a_cvv_a_password_or_a_token():
    typed = {
        "card_number": PAN,
        "cvv": "123",
        "password": "secret-2026",
        "csrf_token": "abc",
        "payment_method": "pm_123",
        "reason": f"card {PAN[:4]} {PAN[4:8]} {PAN[8:12]} {PAN[12:]}",  # a number typed into another field
        "expiry": "12/30",
        "item_id": "0013",
    }
    assert flash.kept(typed) == {"expiry": "12/30", "item_id": "0013"}


def test_a_flash_signed_with_another_session_is_not_read():
    sealed = flash._seal(b"session-a", {"p": "/jobs", "e": "refused", "v": {}})
    assert flash._open(b"session-a", sealed) == {"p": "/jobs", "e": "refused", "v": {}}
    assert flash._open(b"session-b", sealed) is None
    assert flash._open(b"session-a", sealed[:-1] + ("0" if sealed[-1] != "0" else "1")) is None
