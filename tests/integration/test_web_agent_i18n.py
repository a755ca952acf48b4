"""The agent side's catalogs (agent.po) are complete in all six languages: every string the templates
and error messages use has a translation with the same placeholders, and every status or code the pages
show through ``_()`` has a wording in every language, English included."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from continuity.domain.payments import AttemptStatus, PaymentStatus
from continuity.domain.sales_order import BillingMode, OrderStatus
from continuity.domain.schedule import OccurrenceStatus
from continuity.domain.users import Role
from continuity.entrypoints.web import i18n

WEB = Path(i18n.__file__).parent
AGENT_TEMPLATES = [*(WEB / "templates").glob("*.html"), *(WEB / "templates" / "agent").glob("*.html")]
TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != "en"]
CODES = {
    *OrderStatus,
    *PaymentStatus,
    *OccurrenceStatus,
    *BillingMode,
    *AttemptStatus,
    *Role,
    "delivery",
    "invoice",
    "authorize",
    "capture",
    "void",
    "refund",
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _msgids() -> set[str | tuple[str, str]]:
    ids: set = set()
    for path in AGENT_TEMPLATES:
        with path.open("rb") as fp:
            for _, _, msg, _ in babel_extract(fp, ["_", "gettext", "ngettext"], [], {}):
                ids.add(msg[:2] if isinstance(msg, tuple) else msg)
    with (WEB / "messages.py").open("rb") as fp:
        ids |= {msg for _, _, msg, _ in extract_python(fp, ["N_"], [], {})}
    return {i for i in ids if i}


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    """All of a language's catalogs merged (agent.po first), as the pages read them (i18n.translations): a
    string of an agent page may live in servicing.po, customers.po, calls.po, ..."""
    folder = WEB / "locales" / lang / "LC_MESSAGES"
    with (folder / "agent.po").open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    for extra in sorted(folder.glob("*.po")):
        if extra.name == "agent.po":
            continue
        with extra.open("rb") as fp:
            for message in read_po(fp, locale=lang):
                if message.id and message.id not in catalog:
                    catalog[message.id] = message
    return catalog


def test_the_templates_use_many_strings():
    assert len(_msgids()) > 100


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_string_is_translated_with_the_same_placeholders(lang):
    catalog = _catalog(lang)
    missing, broken = [], []
    for msgid in _msgids():
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = catalog.get(key)
        strings = message.string if message else None
        forms = list(strings) if isinstance(strings, tuple) else [strings]
        if message is None or not all(forms) or message.fuzzy:
            missing.append(key)
            continue
        wanted = set(PLACEHOLDER.findall(key))
        if any(set(PLACEHOLDER.findall(form)) != wanted for form in forms):
            broken.append(key)
    assert missing == [] and broken == []


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_status_and_code_has_a_wording(lang):
    catalog = _catalog(lang)
    assert [c for c in CODES if not (catalog.get(str(c)) and catalog.get(str(c)).string)] == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_translations_are_not_english(lang):
    t = i18n.translations(lang)
    same = [m for m in _msgids() if isinstance(m, str) and len(m) > 25 and t.gettext(m) == m]
    assert same == []
