"""A call note is free text checked as the other free text is (issue 18 item 11)."""

from __future__ import annotations

import pytest

from continuity.domain.call_note import MAX_NOTE, checked_note
from continuity.domain.errors import ValidationFailed


def test_lines_are_kept_and_a_card_number_is_masked():
    assert checked_note("  Wants fewer books.\r\nCard 4111 1111 1111 1111 read out  \n") == (
        "Wants fewer books.\nCard •••• •••• •••• 1111 read out"
    )


@pytest.mark.parametrize(
    "text, code",
    [("  \n ", "note_empty"), ("x" * (MAX_NOTE + 1), "note_too_long"), ("a\u202eb", "text_control_character")],
)
def test_refused(text, code):
    with pytest.raises(ValidationFailed) as refused:
        checked_note(text)
    assert refused.value.code == code
