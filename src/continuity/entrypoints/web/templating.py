"""Rendering pages: Jinja2 with autoescape; every template gets the user, the language and its
translations, ``csrf_field()`` and the locale-aware filters ``money``, ``date``, ``number`` and ``shown``
(any value: a ``Text`` translated with its parameters shown in turn, Money, a date, a number)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape

from continuity.domain.card import looks_like_card_number
from continuity.domain.money import Money
from continuity.domain.users import Role
from continuity.entrypoints.web import flash, i18n, recent
from continuity.entrypoints.web.job_words import JOB_NAMES, JOB_TEXTS
from continuity.entrypoints.web.session import csrf_token, language_of, remember_anonymous_csrf, user_of
from continuity.services import customers

TEMPLATES = Path(__file__).with_name("templates")
env = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True
)


def _here(request: Request) -> str:
    """This page's path and query, to come back to after a language change; a query holding
    something that looks like a card number is left out (it must never be echoed into a page)."""
    query = request.url.query
    if query and not any(looks_like_card_number(v) for _, v in request.query_params.multi_items()):
        return f"{request.url.path}?{query}"
    return request.url.path


def render(request: Request, template_name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = language_of(request)
    user = user_of(request)
    locale = i18n.locale(lang)
    tr = i18n.translations(lang)
    token = csrf_token(request)
    values = {
        "request": request,
        "user": user,
        "is_manager": bool(user and user.role.may_act_as(Role.MANAGER)),
        "is_agent": bool(user and user.role.may_act_as(Role.AGENT)),
        "locale": locale,
        "lang": lang,
        "languages": i18n.NAMES,
        "_": tr.gettext,
        "gettext": tr.gettext,
        "ngettext": tr.ngettext,
        "csrf_field": lambda: Markup('<input type="hidden" name="csrf_token" value="%s">') % token,
        "csrf_token": token,
        "here": _here(request),
        "recent_customers": _recent_customers(request) if user and user.role.may_act_as(Role.AGENT) else [],
        **context,
    }
    html = env.get_template(template_name).render(values)
    response = HTMLResponse(html, status_code=status_code)
    remember_anonymous_csrf(request, response)
    flash.forget(request, response)
    recent.keep(request, response)
    return response


def _recent_customers(request: Request) -> list[tuple[str, str]]:
    """(account, name) of the customers this agent opened recently, for the header of every page."""
    opened = recent.accounts(request)
    return customers.named(request.app.state.continuity.uow, opened) if opened else []


def format_money(value: Money | None, locale: Any) -> str:
    if value is None:
        return ""
    return format_currency(value.amount, value.currency, locale=locale)


def format_signed_money(value: Money | None, locale: Any) -> str:
    """A change of money with its sign, in the locale's currency format: +€15.25, −15,25 €, € +15,25."""
    if value is None:
        return ""
    positive, _, negative = Locale.parse(locale).currency_formats["standard"].pattern.partition(";")
    negative = negative or "-" + positive
    pattern = negative.replace("-", "+") + ";" + negative if value.amount > 0 else positive + ";" + negative
    return format_currency(value.amount, value.currency, format=pattern, locale=locale)


def format_day(value: date | datetime | str | None, locale: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return format_datetime(value, "medium", locale=locale)
    return format_date(value, "medium", locale=locale)


def format_number(value: int | Decimal | None, locale: Any) -> str:
    return "" if value is None else format_decimal(value, locale=locale)


@dataclass(frozen=True)
class Text:
    """Words for the page, worded when shown: a msgid of the catalogs (or a code the catalogs word, such as
    a status) and its parameters, each shown in the page's language and formats."""

    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)


def format_shown(value: object, locale: Any, gettext: Callable[[str], str]) -> str:
    if isinstance(value, Text):
        words = gettext(value.msgid)
        return words % {k: format_shown(v, locale, gettext) for k, v in value.params.items()} if value.params else words
    if isinstance(value, Money):
        return format_money(value, locale)
    if isinstance(value, date):
        return format_day(value, locale)
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return format_number(value, locale)
    return "" if value is None else str(value)


@pass_context
def _shown(ctx: Context, value: object) -> str:
    gettext = ctx.get("gettext") or i18n.translations(i18n.DEFAULT).gettext
    return format_shown(value, ctx.get("locale") or i18n.locale(i18n.DEFAULT), gettext)


#: the template filters that need the page's locale (values as the templates pass them)
FORMATTERS: dict[str, Callable[[Any, Any], str]] = {
    "money": format_money,
    "signed_money": format_signed_money,
    "date": format_day,
    "number": format_number,
}


def _filter(name: str) -> Callable[[Context, Any], str]:
    """Filters that need the page's locale read it from the template context."""
    format_value = FORMATTERS[name]

    @pass_context
    def apply(ctx: Context, value: Any) -> str:
        return format_value(value, ctx.get("locale") or i18n.locale(i18n.DEFAULT))

    return apply


for _name in FORMATTERS:
    env.filters[_name] = _filter(_name)
env.filters["shown"] = _shown
env.globals["escape"] = escape
env.globals["job_names"], env.globals["job_texts"] = JOB_NAMES, JOB_TEXTS
env.tests["money"] = lambda value: isinstance(value, Money)
