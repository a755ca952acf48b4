"""Finding a customer by name as an agent types it (issue 18 item 9): the words typed match the words of
the name in any order ("Berg Karen"), each one as the start of a word ("Kar") or, from four letters on,
the whole word with one typo (one letter wrong, missing, extra, or two neighbours swapped: "Bereg").

The database finds candidates by exact look-ups of *keys*: a name word and, from three letters on,
the word with each one letter deleted. Two words one typo apart always share a key (a word with one
letter wrong and the right word both lose that letter to the same key; a missing letter is the word
with it deleted), so candidates are found through an index, never by reading every name."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

MIN_FUZZY = 4  # a typed word shorter than this matches only as the start of a word
MIN_DELETIONS = MIN_FUZZY - 1  # a name word this long or longer also has its one-letter deletions as keys
MAX_WORDS = 5  # typed words beyond these are ignored
MAX_WORD = 40  # letters of a word kept for keys (a key column holds MAX_WORD characters)
_WORD = re.compile(r"[^\W\d_]+")


def words(text: str) -> list[str]:
    """The words of a name or of what was typed: letters only, lower case, accents dropped ("Åsa" → "asa")."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return [w[:MAX_WORD] for w in _WORD.findall(plain)]


def name_keys(name: str) -> set[str]:
    """The keys stored for a name: each word, and each word with one letter deleted."""
    found: set[str] = set()
    for word in words(name):
        found.add(word)
        if len(word) >= MIN_DELETIONS:
            found |= _deletions(word)
    return found


def typo_keys(typed: str) -> set[str]:
    """The keys a name word one typo away from ``typed`` has (none for a word too short for typos)."""
    return {typed, *_deletions(typed)} if len(typed) >= MIN_FUZZY else set()


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def one_typo_apart(a: str, b: str) -> bool:
    """At most one letter wrong, missing or extra, or two neighbouring letters swapped."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    return a[i + 1 :] == b[i + 1 :] or (a[i + 2 :] == b[i + 2 :] and a[i : i + 2] == b[i : i + 2][::-1])


def word_match(typed: str, word: str) -> int | None:
    """0 when ``word`` starts with ``typed``, 1 when it is one typo away, else None."""
    if word.startswith(typed):
        return 0
    if len(typed) >= MIN_FUZZY and one_typo_apart(typed, word):
        return 1
    return None


def match(typed: Sequence[str], name: str) -> int | None:
    """How well the typed words match the name: each typed word a different word of the name, in any
    order. The number of typos (0 is best), or None when some typed word matches no word left."""
    return _best(list(typed), words(name))


def _best(typed: list[str], left: list[str]) -> int | None:
    if not typed:
        return 0
    first, rest = typed[0], typed[1:]
    best: int | None = None
    for i, word in enumerate(left):
        cost = word_match(first, word)
        if cost is None:
            continue
        others = _best(rest, left[:i] + left[i + 1 :])
        if others is not None and (best is None or cost + others < best):
            best = cost + others
    return best


def ranked(typed: Sequence[str], names: Iterable[tuple[str, str]]) -> list[tuple[int, str, str]]:
    """(typos, name, key) of the ``names`` ((name, key) pairs) the typed words match, best first then by name."""
    found = [(cost, name, key) for name, key in names if (cost := match(typed, name)) is not None]
    return sorted(found)
