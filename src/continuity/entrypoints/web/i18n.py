"""Languages of the UI: gettext catalogs (.po files, read directly — no compile step) and the choice of
language (the user's pick, else the browser's Accept-Language, else English)."""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.core import negotiate_locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).with_name("locales")
LANGUAGES = ("en", "nb", "nl", "it", "fr", "sv")
DEFAULT = "en"
#: Each language named in itself, for the picker.
NAMES = {"en": "English", "nb": "Norsk bokmål", "nl": "Nederlands", "it": "Italiano", "fr": "Français", "sv": "Svenska"}


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """All catalogs of a language (agent.po, manager.po, ...) merged into one translations object."""
    files = sorted((LOCALES / lang / "LC_MESSAGES").glob("*.po")) if lang in LANGUAGES else []
    if not files:
        return gettext.NullTranslations()
    merged = Catalog(locale=lang)
    for path in files:
        with path.open("rb") as fp:
            for message in read_po(fp, locale=lang):
                if message.id and message.string and not message.fuzzy:
                    merged[message.id] = message
    buffer = BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def supported(lang: str | None) -> str | None:
    return lang if lang in LANGUAGES else None


def from_accept_language(header: str | None) -> str:
    """The best of our languages for an Accept-Language header (q-values honoured), else English."""
    if not header:
        return DEFAULT
    wanted: list[tuple[float, str]] = []
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            wanted.append((q, tag.strip().replace("-", "_")))
    ordered = [tag for _, tag in sorted(wanted, key=lambda w: -w[0])]
    aliases = {"no": "nb", "nn": "nb"}
    ordered = [aliases.get(t.split("_")[0].lower(), t) for t in ordered]
    return negotiate_locale(ordered, list(LANGUAGES), sep="_") or DEFAULT


@cache
def locale(lang: str) -> Locale:
    return Locale.parse(lang)
