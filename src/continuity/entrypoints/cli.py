"""The `continuity` command line (Typer). Every command takes --json."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from continuity.bootstrap import App, bootstrap
from continuity.domain.calendar import parse_date
from continuity.domain.errors import ValidationFailed
from continuity.entrypoints.cli_holds import register as register_holds
from continuity.entrypoints.cli_jobs import jobs_app, worker
from continuity.entrypoints.cli_output import console, emit, handles_errors, render_order, table, table_of
from continuity.entrypoints.cli_returns import reasons_app, register_returns
from continuity.entrypoints.cli_review import review_app
from continuity.entrypoints.cli_servicing import ActorOption, cli_actor
from continuity.entrypoints.cli_servicing import register as register_servicing
from continuity.entrypoints.cli_setup import setup_app
from continuity.entrypoints.cli_simulate import simulate
from continuity.services import customers, fulfilment, order_entry, payment_entry, views
from continuity.services.demo import load_demo
from continuity.services.setup import import_setup
from continuity.services.setup_documents import parse_setup

app = typer.Typer(help="Continuity programs for a call center.", no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
programs_app = typer.Typer(help="Continuity programs.", no_args_is_help=True)
customers_app = typer.Typer(help="Customers.", no_args_is_help=True)
orders_app = typer.Typer(help="Sales orders and continuity orders.", no_args_is_help=True)
users_app = typer.Typer(help="Users of the JSON API and the web UI.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
app.command("worker")(handles_errors(worker))
app.command("simulate")(handles_errors(simulate))
for sub, name in (
    (db_app, "db"),
    (demo_app, "demo"),
    (programs_app, "programs"),
    (customers_app, "customers"),
    (orders_app, "orders"),
    (users_app, "users"),
    (setup_app, "setup"),
):
    app.add_typer(sub, name=name)
register_servicing(orders_app, programs_app)
register_returns(orders_app, programs_app)
app.add_typer(reasons_app, name="return-reasons")
register_holds(app, orders_app)
app.add_typer(review_app, name="payment-review")

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _app() -> App:
    return bootstrap()


@db_app.command("upgrade")
@handles_errors
def db_upgrade(as_json: Json = False) -> None:
    """Create or upgrade the schema (Alembic migrations) of CONTINUITY_DATABASE_URL."""
    a = _app()
    a.upgrade_schema()
    emit(
        {"upgraded": True, "database": a.engine.url.render_as_string()},
        as_json,
        lambda d: console.print(f"schema is up to date: {d['database']}"),
    )


@demo_app.command("load")
@handles_errors
def demo_load(as_json: Json = False) -> None:
    """Load the demo data (Karen Berg, books 0013–0015, parents 0016 and 88000) into an empty database."""
    a = _app()
    a.upgrade_schema()
    counts = load_demo(a.uow, a.clock.today())
    emit(counts, as_json, lambda d: console.print("demo data loaded: " + ", ".join(f"{v} {k}" for k, v in d.items())))


@programs_app.command("import")
@handles_errors
def programs_import(file: Path, actor: ActorOption = None, as_json: Json = False) -> None:
    """Import programs (and optionally parameters, payment schedules, products) from a JSON file."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ValidationFailed(f"cannot read {file}: {exc}", "document_invalid") from None
    try:
        text = raw.decode("utf-8-sig")  # JSON is UTF-8 (a leading byte-order mark is tolerated)
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"{file} is not UTF-8 text (byte {exc.start} is not valid UTF-8): save it as UTF-8", "file_not_utf8"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"cannot read {file}: {exc}", "document_invalid") from None
    a = _app()
    counts = import_setup(a.uow, parse_setup(data), a.clock.today(), cli_actor(actor))
    emit(counts, as_json, lambda d: console.print("imported: " + ", ".join(f"{v} {k}" for k, v in d.items())))


@programs_app.command("list")
@handles_errors
def programs_list(as_json: Json = False) -> None:
    """List the continuity programs."""
    a = _app()
    with a.uow() as uow:
        data = [views.program_view(p) for p in uow.setup.programs()]
    emit(
        data,
        as_json,
        lambda d: table(
            "Programs",
            [
                "program_id",
                "description",
                "order_start",
                "current_event",
                "bill_up_front",
                "payment_schedule_id",
                "active",
                "events",
            ],
            [
                [
                    p["program_id"],
                    p["description"],
                    p["order_start"],
                    p["current_event"],
                    p["bill_up_front"],
                    p["payment_schedule_id"],
                    p["active"],
                    len(p["events"]),
                ]
                for p in d
            ],
        ),
    )


@programs_app.command("show")
@handles_errors
def programs_show(program_id: str, as_json: Json = False) -> None:
    """Show one program with its events."""
    a = _app()
    with a.uow() as uow:
        data = views.program_view(uow.setup.program(program_id))
    emit(
        data,
        as_json,
        lambda p: table_of(
            f"Program {p['program_id']} — {p['description']} (starts at {p['order_start']}, current event "
            f"{p['current_event']})",
            ["event_id", "item_id", "quantity", "price", "times_to_repeat", "interval", "start_date", "action"],
            p["events"],
        ),
    )


@customers_app.command("search")
@handles_errors
def customers_search(text: str, as_json: Json = False) -> None:
    """Find customers by name, phone, email, account or sales order (prefix; '*' is a wildcard)."""
    a = _app()
    with a.uow() as uow:
        data = [views.customer_view(c) for c in uow.customers.search(text)]
    emit(
        data,
        as_json,
        lambda d: table_of(f"{len(d)} customer(s) matching {text!r}", ["account", "name", "phone", "email"], d),
    )


def _cards_table(title: str, cards: list[views.SavedCardView]) -> None:
    marks = [
        {
            **c,
            "marks": ", ".join(
                m for m, on in (("default", c["default"]), ("expired", c["expired"]), ("declined", c["declined"])) if on
            ),
            "replaced": ", ".join(r["expiry"] for r in c["replaced"]),
        }
        for c in cards
    ]
    table_of(title, ["token", "brand", "last4", "expiry", "marks", "replaced"], marks)


@customers_app.command("cards")
@handles_errors
def customers_cards(account: str, as_json: Json = False) -> None:
    """The customer's cards: one per physical card (brand + last 4), its newest expiry, marked default,
    expired or declined (its last charge); the older expiries it replaced."""
    a = _app()
    data = [views.saved_card_view(c) for c in customers.saved(a.uow, account, a.clock.today())]
    emit(data, as_json, lambda d: _cards_table(f"{len(d)} card(s) of {account}", d))


@customers_app.command("default-card")
@handles_errors
def customers_default_card(account: str, token: str, actor: ActorOption = None, as_json: Json = False) -> None:
    """Make the card (the token of any of its entries) the customer's default (audited)."""
    a = _app()
    card = views.saved_card_view(customers.set_default_card(a.uow, a.clock, cli_actor(actor), account, token))
    emit(card, as_json, lambda c: _cards_table(f"default card of {account}", [c]))


@customers_app.command("remove-card")
@handles_errors
def customers_remove_card(account: str, token: str, actor: ActorOption = None, as_json: Json = False) -> None:
    """Remove the card (all its entries): never offered again, its rows kept for the orders that paid with it.
    Refused (card_in_use) while an open continuity line pays with it: change that order's card first."""
    a = _app()
    card = views.saved_card_view(customers.remove_card(a.uow, a.clock, cli_actor(actor), account, token))
    emit(card, as_json, lambda c: _cards_table(f"removed from {account}", [c]))


@orders_app.command("new")
@handles_errors
def orders_new(
    customer: Annotated[str, typer.Option(help="Customer account.")],
    item: Annotated[str, typer.Option(help="Item number; a parent item makes a continuity line.")],
    quantity: Annotated[int, typer.Option(help="Quantity.")] = 1,
    start_date: Annotated[str | None, typer.Option(help="Continuity start date (YYYY-MM-DD).")] = None,
    payment_schedule: Annotated[str | None, typer.Option(help="Payment schedule ID.")] = None,
    actor: ActorOption = None,
    as_json: Json = False,
) -> None:
    """Create a sales order for a customer with one line (its history says who entered it: --actor)."""
    a = _app()
    start = parse_date(start_date) if start_date else None
    sales_id = order_entry.create_order_with_line(
        a.uow, a.clock, customer, item, quantity, start, payment_schedule, a.start_date_window, cli_actor(actor)
    )
    emit(views.order_view(a.uow, sales_id), as_json, render_order)


@orders_app.command("pay")
@handles_errors
def orders_pay(
    sales_id: str,
    card: Annotated[
        str | None, typer.Option(help="Card number (test gateway): sent to the gateway, only the token is kept.")
    ] = None,
    expiry: Annotated[str | None, typer.Option(help="Card expiry MM/YY (with --card).")] = None,
    payment_method: Annotated[
        str | None,
        typer.Option(
            "--payment-method", help="A card entered at Stripe: its PaymentMethod id (pm_…), CONTINUITY_GATEWAY=stripe."
        ),
    ] = None,
    amount: Annotated[str | None, typer.Option(help="Amount; defaults to what is due now.")] = None,
    as_json: Json = False,
) -> None:
    """Add a card payment to a sales order (the card is tokenized, or its PaymentMethod saved, first)."""
    a = _app()
    if payment_method and (card or expiry):
        raise ValidationFailed("give either --payment-method or --card with --expiry, not both", "payment_ambiguous")
    if payment_method:
        payment_entry.add_payment_method_payment(a.uow, a.gateway, a.clock, sales_id, payment_method, amount)
    elif not payment_entry.takes_card_numbers(a.gateway):
        raise ValidationFailed(
            "with CONTINUITY_GATEWAY=stripe the card number never reaches this server: "
            "pass --payment-method pm_… (the card entered at Stripe)",
            "card_number_not_accepted",
        )
    elif not (card and expiry):
        raise ValidationFailed("--card and --expiry are required (or --payment-method)", "payment_incomplete")
    else:
        payment_entry.add_card_payment(a.uow, a.gateway, a.clock, sales_id, card, expiry, amount)
    emit(views.order_view(a.uow, sales_id), as_json, render_order)


@orders_app.command("submit")
@handles_errors
def orders_submit(sales_id: str, as_json: Json = False) -> None:
    """Submit the order: authorizes its card payments; a decline leaves it on hold with the reason."""
    a = _app()
    payment_entry.submit(a.uow, a.gateway, a.clock, sales_id)
    emit(views.order_view(a.uow, sales_id), as_json, render_order)


@orders_app.command("show")
@handles_errors
def orders_show(sales_id: str, as_json: Json = False) -> None:
    """Show an order: lines, payments, status and each continuity line's schedule."""
    a = _app()
    emit(views.order_view(a.uow, sales_id), as_json, render_order)


DateOption = Annotated[str | None, typer.Option("--date", help="Business date (default: today).")]


def _child_step(step: Callable[..., None], sales_id: str, date_: str | None, as_json: bool, *args: str) -> None:
    from continuity.entrypoints.cli_servicing import cli_actor

    a = _app()
    step(
        a.uow,
        sales_id,
        *args,
        parse_date(date_) if date_ else a.clock.today(),
        actor=cli_actor(None),
        now=a.clock.now(),
    )
    emit(views.order_view(a.uow, sales_id), as_json, render_order)


def _child_step_command(name: str, step: Callable[..., None], doc: str) -> None:
    """A command that takes a child order one fulfilment step on (release, invoice) and shows it."""

    @orders_app.command(name, help=doc)
    @handles_errors
    def command(sales_id: str, date_: DateOption = None, as_json: Json = False) -> None:
        _child_step(step, sales_id, date_, as_json)


_child_step_command("release", fulfilment.release, "Release a child order to the warehouse (its charge must be taken).")


@orders_app.command("ship")
@handles_errors
def orders_ship(
    sales_id: str,
    tracking: Annotated[str, typer.Option(help="Carrier tracking number.")],
    date_: DateOption = None,
    as_json: Json = False,
) -> None:
    """Ship a released child order with its tracking number."""
    _child_step(fulfilment.ship, sales_id, date_, as_json, tracking)


_child_step_command("invoice", fulfilment.invoice, "Invoice a shipped child order (its occurrences become invoiced).")


@app.command("serve")
@handles_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Run the web UI (/) and the JSON API (/api/v1, docs at /api/docs) with uvicorn."""
    import uvicorn

    from continuity.entrypoints.api.app import create_app

    # uvicorn's access log would print query strings (a card number typed into a search box with
    # JavaScript off); our own request log (method, path, status, request id) goes to the console instead
    console_log = logging.StreamHandler()
    console_log.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
    request_log = logging.getLogger("continuity.api")
    request_log.addHandler(console_log)
    request_log.setLevel(logging.INFO)
    a = _app()
    a.check_gateway()  # a missing or refused key stops here, in one line
    # uvicorn would take X-Forwarded-Proto/-For from any client on 127.0.0.1 (its proxy_headers default):
    # only when CONTINUITY_TRUST_FORWARDED_PROTO says a proxy stands in front (FORWARDED_ALLOW_IPS names it)
    uvicorn.run(
        create_app(a),
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        proxy_headers=a.settings.trust_forwarded_proto,
    )


PasswordPrompt = Annotated[bool, typer.Option("--password", help="Also set a web UI password (prompted).")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the web UI password from stdin.")]


def _read_password(prompt: bool, from_stdin: bool) -> str | None:
    """The web password from stdin (first line) or a hidden prompt typed twice; checked before use."""
    from continuity.services.web_auth import check_password

    if not (prompt or from_stdin):
        return None
    import sys

    password = (
        sys.stdin.readline().rstrip("\r\n")
        if from_stdin
        else typer.prompt("Web password", hide_input=True, confirmation_prompt=True)
    )
    check_password(password)
    return password


@users_app.command("add")
@handles_errors
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="agent, warehouse, manager or admin.")],
    password: PasswordPrompt = False,
    password_stdin: PasswordStdin = False,
    as_json: Json = False,
) -> None:
    """Create a user and print its API bearer token (shown this once; only a hash is stored); with
    --password or --password-stdin it can also log in to the web UI."""
    from continuity.services.users import add_user
    from continuity.services.web_auth import set_password

    secret = _read_password(password, password_stdin)
    a = _app()
    user, token = add_user(a.uow, a.clock, name, role)
    if secret is not None:
        set_password(a.web_auth_store(), a.clock, user.name, secret)
    emit(
        {"name": user.name, "role": user.role.value, "token": token, "web_login": secret is not None},
        as_json,
        lambda _: console.print(
            f"user {escape(user.name)} ({user.role.value}); token (shown once): {token}",
            highlight=False,
            soft_wrap=True,
        ),
    )


@users_app.command("set-password")
@handles_errors
def users_set_password(name: str, password_stdin: PasswordStdin = False, as_json: Json = False) -> None:
    """Set (or reset) a user's web UI password. Replacing one ends the user's web sessions and revokes the API
    token (`users revoke-token NAME --new` gives a new one). Prompted unless --password-stdin."""
    from continuity.services.web_auth import set_password

    secret = _read_password(True, password_stdin)
    a = _app()
    user = set_password(a.web_auth_store(), a.clock, name, secret or "")
    emit(
        {"name": user.name, "web_login": True, "token_revoked": not user.has_token},
        as_json,
        lambda _: console.print(f"web password set for {escape(user.name)}", highlight=False),
    )


@users_app.command("revoke-token")
@handles_errors
def users_revoke_token(
    name: str,
    new: Annotated[bool, typer.Option("--new", help="Issue a new token (printed this once).")] = False,
    as_json: Json = False,
) -> None:
    """Revoke a user's API bearer token at once; with --new, print the token that replaces it."""
    from continuity.services.users import revoke_token

    user, token = revoke_token(_app().uow, name, new)
    emit(
        {"name": user.name, "token": token},
        as_json,
        lambda _: console.print(
            f"token of {escape(user.name)} revoked" + (f"; new token (shown once): {token}" if token else ""),
            highlight=False,
            soft_wrap=True,
        ),
    )


@users_app.command("disable")
@handles_errors
def users_disable(name: str, as_json: Json = False) -> None:
    """Disable a user: no web login, the API token revoked, every web session ended."""
    from continuity.services.users import disable_user

    a = _app()
    user = disable_user(a.uow, a.clock, name)
    emit(
        {"name": user.name, "disabled": user.disabled},
        as_json,
        lambda _: console.print(f"user {escape(user.name)} disabled; sessions ended, token revoked", highlight=False),
    )


@users_app.command("enable")
@handles_errors
def users_enable(name: str, as_json: Json = False) -> None:
    """Enable a disabled user: the web password works again; `users revoke-token NAME --new` gives a token."""
    from continuity.services.users import enable_user

    user = enable_user(_app().uow, name)
    emit(
        {"name": user.name, "disabled": user.disabled, "has_token": user.has_token},
        as_json,
        lambda _: console.print(
            f"user {escape(user.name)} enabled"
            + (
                ""
                if user.has_token
                else f"; `continuity users revoke-token {escape(user.name)} --new` gives an API token"
            ),
            highlight=False,
        ),
    )


def main() -> None:
    app()
