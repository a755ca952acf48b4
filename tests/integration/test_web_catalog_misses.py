"""Every string a person sees comes from the catalogs (issue 18 item 7).

- Every page of the web UI (each GET route of the app, found by walking the routes, so a new page is covered
  once its path parameters have a value in PARAMS) is rendered in each language, over an order that was
  declined, one whose child orders the jobs created and charged, and the jobs' runs; a hook on the
  translations records every msgid asked for that the language's catalogs do not have. None may be missing
  in nb, nl, it, fr and sv.
- The .po files, read with Babel, are complete: no untranslated and no fuzzy entry in any language.
"""

from __future__ import annotations

import gettext
import re
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from jobs_support import DECLINE, START, enter_order, nightly  # noqa: E402
from web_support import MANAGER, add_web_users, client_login, web_client  # noqa: E402

from continuity.domain import holds  # noqa: E402
from continuity.domain.dunning import DeclineCode  # noqa: E402
from continuity.entrypoints.web import gateway_words, i18n, job_words  # noqa: E402
from continuity.entrypoints.web.routes.order_servicing import KINDS  # noqa: E402
from continuity.services import order_entry, payment_entry, views  # noqa: E402
from continuity.services.jobs.context import JobRequest  # noqa: E402
from continuity.services.jobs.registry import JOBS, run_job  # noqa: E402

TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]
#: A value for each path parameter of the web pages ({sales_id} is filled in per order, below).
PARAMS = {
    "account": "004007",
    "program_id": "BOOKCLUB",
    "item_id": "88000",
    "schedule_id": "3X",
    "slug": list(KINDS),
    "run_id": [str(k) for k in range(1, 16)],  # the nightly run's jobs and create-child-orders
}
#: Queries each page is read with (a route not named here: none).
QUERIES = {
    "/": ["", "?q=Berg", "?q=zzzz"],
    "/search": ["?q=Berg", "?q=Karen Bereg", "?q=zzzz"],
    "/customers/{account}/orders/new": ["?item=88000", "?item=0021&quantity=2"],
    "/orders/{sales_id}/service/{slug}": ["", "?action=preview&line=1&seq=2", "?action=preview&on=2027-01-10"],
}


class Recording(gettext.NullTranslations):
    """A language's translations that note each msgid its catalogs do not have."""

    def __init__(self, inner: gettext.NullTranslations, misses: set[str]) -> None:
        super().__init__()
        self.inner, self.misses = inner, misses
        self.known = getattr(inner, "_catalog", {})

    def gettext(self, message: str) -> str:
        if message and message not in self.known:
            self.misses.add(message)
        return self.inner.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if (singular, 0) not in self.known:
            self.misses.add(singular)
        return self.inner.ngettext(singular, plural, n)


@pytest.fixture
def recorded(monkeypatch):  # type: ignore[no-untyped-def]
    """The msgids missing per language, while the pages render."""
    misses: dict[str, dict[str, set[str]]] = {}
    real = i18n.translations
    page = {"path": ""}

    def recording(lang: str) -> gettext.NullTranslations:
        seen = misses.setdefault(lang, {})
        return Recording(real(lang), seen.setdefault(page["path"], set()))

    monkeypatch.setattr(i18n, "translations", recording)
    return misses, page


@pytest.fixture
def orders(demo_app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An order on hold after a declined card, BOOKCLUB with its first child order charged, an order whose
    child order waits for its charge, and a run of every job."""
    add_web_users(demo_app)
    declined = order_entry.create_order_with_line(demo_app.uow, demo_app.clock, "004007", "0016")
    payment_entry.add_card_payment(demo_app.uow, demo_app.gateway, demo_app.clock, declined, DECLINE, "12/30")
    assert payment_entry.submit(demo_app.uow, demo_app.gateway, demo_app.clock, declined).status == "on_hold"
    bookclub = enter_order(demo_app, "88000", payment_schedule_id="3X")
    nightly(demo_app, START)
    waiting = enter_order(demo_app, "88000", account="004020")  # billed per shipment: its child waits for its charge
    run_job(demo_app.job_deps(), "create-child-orders", JobRequest(START))
    child = next(
        o["child_sales_id"]
        for line in views.order_view(demo_app.uow, bookclub)["lines"]
        if line["continuity"]
        for o in line["continuity"]["schedule"]
        if o["child_sales_id"]
    )
    return {"declined": declined, "bookclub": bookclub, "waiting": waiting, "child": child}


def _routes(routes):  # type: ignore[no-untyped-def]
    """The app's routes, those of included routers too (the web's routers are included without a prefix)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _routes(inner.routes) if inner is not None else [route]


def page_paths(app, orders: dict[str, str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Every GET page of the web UI with its parameters filled in (the JSON API and static files left out)."""
    from continuity.entrypoints.api.app import create_app

    paths: list[str] = []
    for route in _routes(create_app(app).routes):
        path, methods = getattr(route, "path", ""), getattr(route, "methods", set()) or set()
        if getattr(route, "include_in_schema", True):  # the JSON API (the web's pages are not in its schema)
            continue
        if "GET" not in methods or path.startswith(("/api", "/static", "/docs")):
            continue
        if path in ("/logout",):
            continue
        names = re.findall(r"{(\w+)(?::\w+)?}", path)
        unknown = [n for n in names if n not in PARAMS and n != "sales_id"]
        assert not unknown, f"give the parameters {unknown} of {path} a value in PARAMS"
        filled = [path]
        for name in names:
            values = list(orders.values()) if name == "sales_id" else PARAMS[name]
            values = values if isinstance(values, list) else [values]
            filled = [re.sub(rf"{{{name}(?::\w+)?}}", v, p) for p in filled for v in values]
        paths += [p + q for p in filled for q in QUERIES.get(path, [""])]
    return paths


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_page_in_every_language_asks_only_for_messages_the_catalogs_have(demo_app, orders, recorded):
    misses, current = recorded
    paths = page_paths(demo_app, orders)
    assert len(paths) > 40, paths
    for lang in TRANSLATED:
        with web_client(demo_app) as client:
            client.headers["accept-language"] = lang
            current["path"] = "/login"
            assert client.get("/login").status_code == 200
            assert client_login(client, MANAGER).status_code == 303
            for path in paths:
                current["path"] = path
                answer = client.get(path)
                assert answer.status_code < 500, (path, answer.status_code, answer.text[:300])
                assert f'<html lang="{lang}">' in answer.text or "<html" not in answer.text, path  # or a fragment
    missing: dict[str, list[str]] = {}  # msgid → "lang on page", the first page of each language asking for it
    for lang in TRANSLATED:
        for path, ids in misses.get(lang, {}).items():
            for msgid in ids:
                if not any(w.startswith(f"{lang} ") for w in missing.get(msgid, [])):
                    missing.setdefault(msgid, []).append(f"{lang} on {path}")
    assert missing == {}, "\n".join(f"{m!r}: {', '.join(w)}" for m, w in sorted(missing.items()))


# -- the .po files ------------------------------------------------------------------------------------
def po_files() -> list[Path]:
    return sorted(i18n.LOCALES.glob("*/LC_MESSAGES/*.po"))


def test_each_translated_language_has_the_same_catalogs():
    names = {lang: sorted(p.name for p in (i18n.LOCALES / lang / "LC_MESSAGES").glob("*.po")) for lang in TRANSLATED}
    assert len(set(map(tuple, names.values()))) == 1, names


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_code_the_pages_word_has_its_words(lang):
    """Each hold reason, decline and job the pages can show, also those the page test's data does not reach."""
    known = getattr(i18n.translations(lang), "_catalog", {})
    msgids = [
        *gateway_words.PAYMENT_HOLDS.values(),
        *gateway_words.DECLINES.values(),
        *job_words.JOB_NAMES.values(),
        *job_words.JOB_TEXTS.values(),
    ]
    assert [m for m in msgids if m not in known] == []
    payment_codes = {c.code for c in holds.BUILT_IN if c.kind == holds.HoldKind.PAYMENT}
    assert set(gateway_words.PAYMENT_HOLDS) == payment_codes and set(job_words.JOB_NAMES) == set(JOBS)
    assert set(DeclineCode) <= set(gateway_words.DECLINES)


@pytest.mark.parametrize("path", po_files(), ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_no_entry_is_untranslated_or_fuzzy(path):
    lang = path.parts[-3]
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    untranslated, fuzzy = [], []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert (untranslated, fuzzy) == ([], [])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_declined_card_and_its_hold_are_worded_in_the_agents_language(demo_app, orders):
    with web_client(demo_app) as client:
        client.headers["accept-language"] = "nb"
        assert client_login(client, MANAGER).status_code == 303
        entry = client.get(f"/orders/{orders['declined']}/entry").text
        order = client.get(f"/orders/{orders['declined']}").text
    alert = entry.split('id="declined"')[1].split("</div>")[0]
    assert "banken avviste belastningen" in alert and "do not honour" not in alert  # the gateway's words, worded
    status = order.split("</dd>")[0] + order.split('id="hold-code-shown"')[1].split("</dl>")[0]
    assert "kortet ble avvist (banken avviste belastningen)" in status  # the payment hold, from its code
    assert "submit again" not in order and "do not honour" not in order  # never the stored English note
