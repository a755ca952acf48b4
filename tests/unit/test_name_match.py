"""The agent's search by name: words in any order, the start of a word, one typo per word (issue 18 item 9)."""

from __future__ import annotations

import pytest

from continuity.domain import name_match
from continuity.domain.name_match import match, name_keys, one_typo_apart, ranked, typo_keys, words


def test_words_are_letters_in_lower_case_without_accents():
    assert words("Karen  Berg-Åsen O'Neil 42") == ["karen", "berg", "asen", "o", "neil"]


@pytest.mark.parametrize(
    "typed, name",
    [
        ("Karen Berg", "Karen Berg"),
        ("Berg Karen", "Karen Berg"),  # surname first
        ("berg", "Karen Berg"),
        ("Kar", "Karen Berg"),  # the start of a word, as typed so far
        ("Karen Bereg", "Karen Berg"),  # one letter too many
        ("Karen Lindqvst", "Karen Lindqvist"),  # one letter missing
        ("Kraen Berg", "Karen Berg"),  # two neighbours swapped
        ("Karin Berg", "Karen Berg"),  # one letter wrong
        ("Bereg Karin", "Karen Berg"),  # one typo in each word, surname first
        ("asa", "Åsa Lindqvist"),
    ],
)
def test_these_match(typed, name):
    assert match(words(typed), name) is not None


@pytest.mark.parametrize(
    "typed, name",
    [
        ("Karen Bregg", "Karen Berg"),  # two typos in one word
        ("Krn", "Karen Berg"),  # too short for a typo
        ("Karen Karen", "Karen Berg"),  # each typed word its own word of the name
        ("Karen Berg Olsen", "Karen Berg"),
        ("Brg", "Karen Berg"),  # three letters: only as the start of a word
    ],
)
def test_these_do_not(typed, name):
    assert match(words(typed), name) is None


def test_exact_matches_rank_before_typos_then_by_name():
    names = [("Karen Berg", "1"), ("Karen Bergh", "2"), ("Karin Berg", "3"), ("Ola Nordmann", "4")]
    assert [key for _, _, key in ranked(words("Karen Berg"), names)] == ["1", "2", "3"]
    assert [cost for cost, _, _ in ranked(words("Karen Berg"), names)] == [0, 0, 1]


@pytest.mark.parametrize("a, b", [("berg", "bereg"), ("bergen", "bergn"), ("berg", "breg"), ("berg", "barg")])
def test_one_typo_apart_words_share_a_key(a, b):
    """The database's prefilter: a typo's candidates are found by equal keys, never by reading every name."""
    assert one_typo_apart(a, b)
    assert typo_keys(b) & name_keys(a.title())


def test_every_word_one_typo_from_a_name_word_finds_it_through_the_keys():
    word = "lindqvist"
    letters = "abcdefghijklmnopqrstuvwxyzå"
    typos = {word[:i] + word[i + 1 :] for i in range(len(word))}
    typos |= {word[:i] + c + word[i:] for i in range(len(word) + 1) for c in letters}
    typos |= {word[:i] + c + word[i + 1 :] for i in range(len(word)) for c in letters}
    typos |= {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
    for typo in typos:
        assert match([typo], "Anna Lindqvist") is not None, typo
        assert typo_keys(typo) & name_keys("Anna Lindqvist"), typo


def test_keys_stay_few_per_name():
    """Storage: a word of n letters has at most n + 1 keys (the word and its n deletions)."""
    assert len(name_keys("Karen Berg")) <= 6 + 5
    assert name_keys("Al") == {"al"}
    assert all(len(k) <= name_match.MAX_WORD for k in name_keys("x" * 100))
