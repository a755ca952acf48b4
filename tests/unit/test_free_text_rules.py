"""domain/free_text.py: what counts as a card number in free text, how it is masked, and which
characters a name may not hold."""

from __future__ import annotations

import pytest

from continuity.domain.free_text import (
    TextRefused,
    card_number_spans,
    checked_name,
    mask_card_numbers,
    masked_reason,
)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111 - 1111 - 1111 - 1111",
        "card 4111 1111 1111 1111 12/30",
        "2026-11-23 4111 1111 1111 1111",
        "x4111111111111111@example.com",
        "378282246310005",
        "4222222222222",
        "6011 0009 9013 9424",
        "4111 1111 1111 1111 003",
        "４１１１１１１１１１１１１１１１",  # full-width digits are digits too
    ],
)
def test_a_card_number_is_found_in_text(text):
    assert card_number_spans(text)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # fails the Luhn check
        "+47 22 33 44 55",
        "0031 20 555 0101",
        "0411111111111111",
        "2026-11-23",
        "411111111111",  # 12 digits
        "41111111111111111111111",  # 23 digits in one group: not a card number
        "Karen Berg",
        "",
    ],
)
def test_other_text_holds_no_card_number(text):
    assert card_number_spans(text) == []


def test_masking_keeps_the_last_four_digits_and_the_rest_of_the_text():
    assert mask_card_numbers("read 4111 1111 1111 1111, exp 12/30") == "read •••• •••• •••• 1111, exp 12/30"
    assert mask_card_numbers("no number here 12345") == "no number here 12345"
    assert masked_reason("moving 4111-1111-1111-1111") == "moving ••••-••••-••••-1111"


@pytest.mark.parametrize(
    "char",
    [
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\x00",
        "\x1b",
        "\x7f",
        "\x85",
        "\u2028",
    ],
)
def test_a_name_with_a_control_or_bidi_character_is_refused(char):
    with pytest.raises(TextRefused) as refused:
        checked_name(f"Karen{char}Berg", "name")
    assert refused.value.code == "text_control_character" and refused.value.field == "name"
    with pytest.raises(TextRefused):
        masked_reason(f"away{char}")


def test_a_name_with_a_card_number_is_refused_without_repeating_it():
    with pytest.raises(TextRefused) as refused:
        checked_name("4111 1111 1111 1111", "phone")
    assert refused.value.code == "card_number_in_text"
    assert "4111" not in refused.value.message and refused.value.message.startswith("phone:")


def test_ordinary_names_pass_unchanged():
    for name in (
        "Karen Berg",
        "Sofie de Vries",
        "Zoë Ünal-Østergård",
        "محمد",
        "+47 22 33 44 55",
        "karen.berg@example.com",
    ):
        assert checked_name(name, "name") == name
