"""Free text that people type (names, contact details, reasons): it never stores a card number, and a
name never holds a control or text-direction character.

A *card number* here is what would pass as one: 13–19 digits, one to three spaces or dashes allowed
between them, not starting with 0, that pass the Luhn check (``card.luhn_ok``). Names and contact
details that hold one are refused (``card_number_in_text``); reasons are kept with the number masked
(all but its last 4 digits become •). Control characters (Unicode Cc, line and paragraph separators)
and the bidi embeddings, overrides and isolates U+202A–U+202E, U+2066–U+2069 are refused
(``text_control_character``). Error messages name the field, never the text.
"""

from __future__ import annotations

import re
import unicodedata

from continuity.domain.card import luhn_ok
from continuity.domain.errors import ValidationFailed

MASK = "•"
BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
_RUN = re.compile(r"\d+(?:[\s\-\u2010-\u2015]{1,3}\d+)*")  # digit groups with their separators
_GROUP = re.compile(r"\d+")


class TextRefused(ValidationFailed):
    """Free text that may not be stored; ``field`` names where it was typed."""

    def __init__(self, field: str, message: str, code: str) -> None:
        super().__init__(f"{field}: {message}", code)
        self.field = field


def card_number_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each card number in ``text``: whole digit groups (13–19 digits in all) that pass
    the Luhn check; a longer run is searched group by group, so a number next to a date is found."""
    spans = []
    for run in _RUN.finditer(text):
        groups = [(run.start() + g.start(), run.start() + g.end()) for g in _GROUP.finditer(run.group())]
        first = 0
        while first < len(groups):
            last = _card_end(text, groups, first)
            if last is None:
                first += 1
            else:
                spans.append((groups[first][0], groups[last][1]))
                first = last + 1
    return spans


def _card_end(text: str, groups: list[tuple[int, int]], first: int) -> int | None:
    """The last group of a card number that starts at group ``first``, if one does (a card number never
    starts with 0, so "0047 …" phone numbers are not taken for one)."""
    if int(text[groups[first][0]]) == 0:
        return None
    digits = ""
    for last in range(first, len(groups)):
        digits += text[groups[last][0] : groups[last][1]]
        if len(digits) > 19:
            return None
        if len(digits) >= 13 and luhn_ok(digits):
            return last
    return None


def mask_card_numbers(text: str) -> str:
    """``text`` with every digit of each card number but its last 4 replaced by •."""
    chars = list(text)
    for start, end in card_number_spans(text):
        positions = [i for i in range(start, end) if chars[i].isdigit()]
        for i in positions[:-4]:
            chars[i] = MASK
    return "".join(chars)


def refuse_card_number(text: str, field: str) -> str:
    if card_number_spans(text):
        raise TextRefused(
            field,
            "looks like a card number; a card number goes only in the card field, "
            "never in a name, a phone number or an e-mail address",
            "card_number_in_text",
        )
    return text


def refuse_control_characters(text: str, field: str) -> str:
    bad = next((c for c in text if _is_control(c)), None)
    if bad is not None:
        raise TextRefused(
            field,
            f"contains the control or text-direction character U+{ord(bad):04X}; remove it",
            "text_control_character",
        )
    return text


def _is_control(char: str) -> bool:
    return char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Zl", "Zp")


def checked_name(text: str, field: str) -> str:
    """A name or contact detail (customer, address, card holder, product, user): refused when it holds a
    control or text-direction character or a card number."""
    return refuse_card_number(refuse_control_characters(text, field), field)


def masked_reason(text: str, field: str = "reason") -> str:
    """A reason or note: refused when it holds a control or text-direction character; a card number in
    it is masked."""
    return mask_card_numbers(refuse_control_characters(text, field))
