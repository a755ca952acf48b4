"""The manager pages' translations (manager.po and the others of the language): complete for every language, placeholders intact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import continuity.entrypoints.web as web

LOCALES = Path(web.__file__).with_name("locales")
TEMPLATES = Path(web.__file__).with_name("templates") / "manager"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def catalog(lang: str) -> dict:
    """The language's catalogs, merged as the pages read them (manager.po, jobs.po, program_editor.po, …)."""
    messages: dict = {}
    for path in sorted((LOCALES / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fp:
            messages |= {m.id: m.string for m in read_po(fp, locale=lang) if m.id}
    return messages


@pytest.mark.parametrize("lang", ["nb", "nl", "it", "fr", "sv"])
def test_every_message_is_translated_with_the_same_placeholders(lang):
    messages = catalog(lang)
    assert len(messages) > 200
    for msgid, translation in messages.items():
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        strings = translation if isinstance(translation, tuple) else (translation,)
        assert all(strings), (lang, msgid)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, (lang, msgid, string)
        if not wanted and "%(" not in ids[0]:
            assert "%(" not in "".join(strings), (lang, msgid)


def test_the_templates_ask_only_for_messages_the_catalogs_have():
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r'(?<![A-Za-z])_\("((?:[^"\\]|\\.)*)"\)', template.read_text()))
    missing = used - set(catalog("nb"))
    assert not missing, missing
