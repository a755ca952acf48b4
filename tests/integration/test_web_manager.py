"""The manager's web pages through FastAPI's TestClient (SQLite and PostgreSQL): setup with the event
editor, the jobs page and the dashboard's weekly figures."""

from __future__ import annotations

import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from babel.numbers import format_currency
from jobs_support import DECLINE, enter_order, execute, job, rows, scalar, use_card

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from web_support import AGENT, MANAGER, add_web_users, client_login, csrf_of, follow, web_client  # noqa: E402

from continuity.domain.money import Money  # noqa: E402
from continuity.services import catalog, dashboard  # noqa: E402

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 2, 20, tzinfo=UTC)


@pytest.fixture
def web_app(demo_app):  # type: ignore[no-untyped-def]
    add_web_users(demo_app)
    return demo_app


@pytest.fixture
def manager(web_app):  # type: ignore[no-untyped-def]
    client = web_client(web_app)
    assert client_login(client, MANAGER).status_code == 303
    return client


def post(client, url: str, data: dict, page: str | None = None):  # type: ignore[no-untyped-def]
    """Submit a form as the browser does: with the CSRF token of the page it is on."""
    token = csrf_of(client.get(page or url).text)
    return client.post(url, data={**data, "csrf_token": token})


def events_of(app, program_id: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    program = catalog.program(app.uow, program_id)
    return [
        (
            e.event_id,
            e.item_id,
            e.quantity,
            str(e.price.amount) if e.price else None,
            e.times_to_repeat,
            str(e.interval),
            e.start_date,
            e.action.value,
        )
        for e in program.sorted_events()
    ]


def event_form(item: str, **fields: str) -> dict:
    return {
        "item_id": item,
        "quantity": "1",
        "price": "",
        "times_to_repeat": "1",
        "interval_count": "30",
        "interval_unit": "days",
        "start_date": "",
        "action": "normal",
        **fields,
    }


def row(k: int, item: str, **fields: str) -> dict:
    """Row ``k`` of an events table (the new program's, the editor's Add events): its fields ``<name>-<k>``."""
    return {f"{name}-{k}": value for name, value in event_form(item, **fields).items()}


def add(item: str, **fields: str) -> dict:
    """The editor's Add events form with one row."""
    return row(1, item, **fields)


NEW_PROGRAM = {
    "program_id": "WEBCLUB",
    "description": "Made in the editor",
    "order_start": "first_event",
    "days_after_order": "2",
    "active": "on",
    "prompt_for_start_date": "on",
    **row(1, "0013"),
    **row(2, ""),
}
HEADER = {k: v for k, v in NEW_PROGRAM.items() if "-" not in k}


# -- roles ------------------------------------------------------------------------------------------
def test_an_agent_gets_403_on_every_manager_page_and_cannot_run_a_job(web_app):
    client = web_client(web_app)
    client_login(client, AGENT)
    for url in (
        "/setup",
        "/setup/parameters",
        "/setup/payment-schedules",
        "/setup/programs",
        "/setup/programs/BOOKCLUB",
        "/setup/programs/new",
        "/setup/products",
        "/jobs",
        "/dashboard",
    ):
        assert client.get(url).status_code == 403, url
    token = csrf_of(client.get("/").text)
    refused = client.post("/jobs", data={"name": "create-child-orders", "as_of": "2026-11-23", "csrf_token": token})
    assert refused.status_code == 403
    refused = client.post("/setup/programs/BOOKCLUB/events/1/delete", data={"csrf_token": token})
    assert refused.status_code == 403
    assert scalar(web_app, "SELECT COUNT(*) FROM job_runs") == 0
    assert len(catalog.program(web_app.uow, "BOOKCLUB").events) == 6


def test_a_warehouse_user_may_log_in_but_gets_403_on_the_agent_and_manager_pages(web_app):
    from continuity.adapters.web_auth_store import WebAuthStore
    from continuity.services.users import add_user
    from continuity.services.web_auth import set_password

    add_user(web_app.uow, web_app.clock, "picker", "warehouse")
    set_password(WebAuthStore(web_app.engine), web_app.clock, "picker", "picker-pass-2026")
    client = web_client(web_app)
    assert client_login(client, ("picker", "picker-pass-2026")).status_code == 303
    for url in ("/", "/customers/004007", "/orders/SO-000001", "/setup", "/jobs", "/dashboard"):
        page = client.get(url)
        assert page.status_code == 403, url
        menu = page.text.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
        assert "<a " not in menu, url  # neither Customer service nor a manager page in the menu
    assert "(warehouse)" in client.get("/").text


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login(web_app):
    response = web_client(web_app).get("/dashboard")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


# -- the event editor -------------------------------------------------------------------------------
def test_a_program_built_in_the_event_editor_round_trips(manager, web_app):
    created = post(manager, "/setup/programs", NEW_PROGRAM, page="/setup/programs/new")
    assert created.status_code == 303 and created.headers["location"] == "/setup/programs/WEBCLUB?done=created"
    url = "/setup/programs/WEBCLUB"
    added = post(
        manager,
        f"{url}/events",
        add(
            "0014",
            price="9,99",
            times_to_repeat="2",
            interval_count="1",
            interval_unit="months",
            start_date="2027-01-01",
        ),
        page=url,
    )
    assert added.status_code == 303
    post(manager, f"{url}/events", {**add("0015", action="end"), **row(2, "0017", action="skip")}, page=url)
    # reorder: the end event (3) moves up before the 0014 event; the skipped one moves up once
    assert post(manager, f"{url}/events/3/move", {"direction": "up"}, page=url).status_code == 303
    post(manager, f"{url}/events/4/move", {"direction": "up"}, page=url)
    # duplicate event 1, then delete the copy's neighbour (the 0014 event, now number 5)
    post(manager, f"{url}/events/1/copy", {}, page=url)
    post(manager, f"{url}/events/5/delete", {}, page=url)
    saved = post(manager, f"{url}/events/2", event_form("0013", quantity="2", times_to_repeat="3"), page=url)
    assert saved.status_code == 303
    header = {
        **{k: v for k, v in HEADER.items() if k != "program_id"},
        "description": "Renamed",
        "consolidate_past_orders": "on",
        "payment_schedule_id": "3X",
    }
    assert post(manager, url, header).status_code == 303

    assert events_of(web_app, "WEBCLUB") == [
        (1, "0013", 1, None, 1, "30 days", None, "normal"),
        (2, "0013", 2, None, 3, "30 days", None, "normal"),
        (3, "0015", 1, None, 1, "30 days", None, "end"),
        (4, "0017", 1, None, 1, "30 days", None, "skip"),
    ]
    program = catalog.program(web_app.uow, "WEBCLUB")
    assert (
        program.description,
        program.consolidate_past_orders,
        program.payment_schedule_id,
        program.days_after_order,
        program.bill_up_front,
    ) == ("Renamed", True, "3X", 2, False)
    page = manager.get(url).text
    assert [m for m in re.findall(r'id="e(\d)-item_id" name="item_id" type="text" value="(\d+)"', page)] == [
        ("1", "0013"),
        ("2", "0013"),
        ("3", "0015"),
        ("4", "0017"),
    ]


def test_the_editor_keeps_a_price_a_month_interval_and_a_start_date(manager, web_app):
    post(manager, "/setup/programs", NEW_PROGRAM, page="/setup/programs/new")
    url = "/setup/programs/WEBCLUB"
    post(
        manager,
        f"{url}/events",
        add(
            "0014",
            price="9.99",
            times_to_repeat="2",
            interval_count="1",
            interval_unit="months",
            start_date="2027-01-31",
        ),
        page=url,
    )
    post(manager, f"{url}/events/2/move", {"direction": "up"}, page=url)
    assert events_of(web_app, "WEBCLUB") == [
        (1, "0014", 1, "9.99", 2, "1 month", date(2027, 1, 31), "normal"),
        (2, "0013", 1, None, 1, "30 days", None, "normal"),
    ]


# -- refusals ----------------------------------------------------------------------------------------
def test_invalid_input_is_shown_next_to_the_fields_and_nothing_is_saved(manager, web_app):
    bad = post(
        manager,
        "/setup/programs",
        {**NEW_PROGRAM, "times_to_repeat-1": "two", "days_after_order": "-1"},
        page="/setup/programs/new",
    )
    bad = follow(manager, bad)  # PRG: the refusal is shown on the form's page
    assert bad.status_code == 200
    assert re.search(r'id="times_to_repeat-1"[^>]*aria-invalid="true"', bad.text)
    assert "Enter a whole number." in bad.text
    assert "WEBCLUB" not in {p.program_id for p in catalog.programs(web_app.uow, None, 100)}

    unknown = post(manager, "/setup/programs", {**NEW_PROGRAM, "item_id-2": "NOPE"}, page="/setup/programs/new")
    unknown = follow(manager, unknown)  # PRG: the refusal is shown on the form's page
    assert unknown.status_code == 200 and "No product with this item number." in unknown.text
    assert re.search(r'id="item_id-2"[^>]*aria-invalid="true"', unknown.text)
    assert "WEBCLUB" not in {p.program_id for p in catalog.programs(web_app.uow, None, 100)}

    before = events_of(web_app, "TRILOGY")
    url = "/setup/programs/TRILOGY"
    refused = post(manager, f"{url}/events/2", event_form("0014", times_to_repeat="0"), page=url)
    refused = follow(manager, refused)  # PRG: the refusal is shown on the form's page
    assert refused.status_code == 200
    assert re.search(r'id="e2-times_to_repeat"[^>]*aria-invalid="true"', refused.text)
    assert "Must be between 1 and 600." in refused.text
    parent = post(manager, f"{url}/events", add("88000"), page=url)
    parent = follow(manager, parent)  # PRG: the refusal is shown on the form's page
    assert parent.status_code == 200 and "A parent (continuity) item cannot be shipped by a program." in parent.text
    assert events_of(web_app, "TRILOGY") == before

    params_before = vars(catalog.parameters(web_app.uow))
    refused = post(
        manager, "/setup/parameters", {**{k: str(v) for k, v in params_before.items()}, "repeat_threshold": "0"}
    )
    refused = follow(manager, refused)  # PRG: the refusal is shown on the form's page
    assert refused.status_code == 200 and re.search(r'id="repeat_threshold"[^>]*aria-invalid="true"', refused.text)
    assert vars(catalog.parameters(web_app.uow)) == params_before


def test_refusals_are_shown_in_the_users_language(manager, web_app):
    token = csrf_of(manager.get("/setup").text)
    manager.post("/language", data={"language": "nb", "next": "/setup", "csrf_token": token})
    refused = post(
        manager, "/setup/programs/TRILOGY/events/1", event_form("0013", quantity="x"), page="/setup/programs/TRILOGY"
    )
    refused = follow(manager, refused)  # PRG: the refusal is shown on the form's page
    assert refused.status_code == 200
    assert "Skriv inn et helt tall." in refused.text and "Enter a whole number." not in refused.text


def test_payment_schedules_and_parent_products_are_set_up_through_their_forms(manager, web_app):
    made = post(
        manager,
        "/setup/payment-schedules",
        {
            "payment_schedule_id": "4W",
            "description": "Four weekly",
            "number_of_payments": "4",
            "interval_count": "7",
            "interval_unit": "days",
        },
        page="/setup/payment-schedules/new",
    )
    assert made.status_code == 303
    schedule = catalog.payment_schedule(web_app.uow, "4W")
    assert (schedule.number_of_payments, str(schedule.interval)) == (4, "7 days")
    made = post(
        manager,
        "/setup/products",
        {
            "item_id": "77000",
            "name": "Trilogy again",
            "price": "0.00",
            "currency": "EUR",
            "continuity_program_id": "TRILOGY",
        },
        page="/setup/products/new",
    )
    assert made.status_code == 303
    assert catalog.product(web_app.uow, "77000").continuity_program_id == "TRILOGY"
    twice = post(
        manager,
        "/setup/products",
        {"item_id": "77000", "name": "Again", "price": "0.00", "currency": "EUR"},
        page="/setup/products/new",
    )
    twice = follow(manager, twice)  # PRG: the refusal is shown on the form's page
    assert twice.status_code == 200 and "A product with this item number exists already." in twice.text
    assert catalog.product(web_app.uow, "77000").name == "Trilogy again"


# -- jobs ----------------------------------------------------------------------------------------------
def test_running_create_child_orders_from_the_jobs_page_creates_them_and_records_the_run(manager, web_app):
    parents = [enter_order(web_app, "0016"), enter_order(web_app, "88000")]
    ran = post(manager, "/jobs", {"name": "create-child-orders", "as_of": "2026-11-23", "item_id": "0016"})
    ran = follow(manager, ran, "/jobs")  # PRG: the outcome is shown on the jobs page
    assert ran.status_code == 200
    children = scalar(web_app, "SELECT COUNT(*) FROM sales_orders WHERE parent_sales_id = :p", p=parents[0])
    assert children == 1  # TRILOGY ships 3 days after the order: due within the 5 lead days
    assert scalar(web_app, "SELECT COUNT(*) FROM sales_orders WHERE parent_sales_id = :p", p=parents[1]) == 0
    assert re.search(r'<span class="count-label">Created</span> <strong>1</strong>', ran.text)
    name, as_of, status, counts = rows(web_app, "SELECT name, as_of, status, counts FROM job_runs")[0]
    assert (name, str(as_of), status) == ("create-child-orders", "2026-11-23", "succeeded")
    assert '"created": 1' in counts
    history = manager.get("/jobs").text  # a refresh: the history, the job not run again
    assert "Create child orders" in history and "create-child-orders" in history and "Item: 0016" in history
    assert scalar(web_app, "SELECT COUNT(*) FROM job_runs") == 1 and 'id="result-title"' not in history


def test_a_run_links_to_the_child_orders_it_created_and_the_page_says_which_wait_for_their_charge(manager, web_app):
    parent = enter_order(web_app, "88000")  # billed per shipment: its child order carries its own charge
    ran = follow(manager, post(manager, "/jobs", {"name": "create-child-orders", "as_of": "2026-11-23"}), "/jobs")
    [child] = [r[0] for r in rows(web_app, "SELECT sales_id FROM sales_orders WHERE parent_sales_id = :p", p=parent)]
    result = re.search(r'<section class="card result".*?</section>', ran.text, re.S).group(0)
    assert f'href="/orders/{child}"' in result and f'href="/orders/{parent}"' in result
    run_id = scalar(web_app, "SELECT MAX(run_id) FROM job_runs")
    run_page = manager.get(f"/jobs/runs/{run_id}").text
    assert f'href="/orders/{child}"' in run_page and "Child orders created" in run_page
    assert f'href="/jobs/runs/{run_id}"' in manager.get("/jobs").text
    # the child's charge is due and not taken: the page says so and offers process-payments
    waiting = re.search(r'<section class="card waiting".*?</section>', ran.text, re.S).group(0)
    assert f'href="/orders/{child}"' in waiting and "run process-payments" in waiting
    assert 'name="name" value="process-payments"' in waiting
    follow(manager, post(manager, "/jobs", {"name": "process-payments", "as_of": "2026-11-23"}), "/jobs")
    assert 'class="card waiting"' not in manager.get("/jobs").text
    older = scalar(web_app, "SELECT MIN(run_id) FROM job_runs") + 1  # process-payments: no child orders of its own
    assert "Child orders created" not in manager.get(f"/jobs/runs/{older}").text


def test_the_jobs_page_refuses_a_bad_date_and_runs_nothing(manager, web_app):
    bad = post(manager, "/jobs", {"name": "create-child-orders", "as_of": "2026-02-30"})
    bad = follow(manager, bad)  # PRG: the refusal is shown on the form's page
    assert bad.status_code == 200 and "Enter a date as YYYY-MM-DD." in bad.text
    unknown = post(manager, "/jobs", {"name": "drop-tables", "as_of": "2026-11-23"})
    unknown = follow(manager, unknown)  # PRG: the refusal is shown on the form's page
    assert unknown.status_code == 200
    assert scalar(web_app, "SELECT COUNT(*) FROM job_runs") == 0


def test_job_run_history_pages_back_through_older_runs(manager, web_app):
    for _ in range(23):
        job(web_app, "close-orders", TODAY)
    first = manager.get("/jobs").text
    assert first.count('<td class="num">') >= 20 and "/jobs?before=4" in first
    older = manager.get("/jobs?before=4").text
    assert re.findall(
        r'<td class="num"><a [^>]*>(\d+)</a></td>\s*<td class="job-name">Close orders <code[^>]*>close-orders</code>',
        older,
    ) == ["3", "2", "1"]


def test_a_run_abandoned_by_a_killed_worker_shows_as_abandoned_with_its_reason_in_each_language(manager, web_app):
    execute(
        web_app,
        "INSERT INTO job_runs (name, as_of, filters, counts, status, error, started_at, finished_at) "
        "VALUES ('process-payments', :d, '{}', '{}', 'abandoned', :e, :t, :t)",
        d=TODAY,
        e="no heartbeat since 2026-11-23 02:00:00 UTC; the worker was probably killed",
        t=NOW,
    )
    for lang, word in (("en", "abandoned"), ("nb", "forlatt"), ("fr", "abandonné")):
        token = csrf_of(manager.get("/jobs").text)
        manager.post("/language", data={"language": lang, "next": "/jobs", "csrf_token": token})
        for url in ("/jobs", "/dashboard"):
            assert f'<span class="status abandoned">{word}</span>' in manager.get(url).text, (lang, url)
    assert "no heartbeat since 2026-11-23 02:00:00 UTC" in manager.get("/jobs").text


# -- dashboard -------------------------------------------------------------------------------------------
def _direct_figures(app, starts: list[date]) -> tuple[list[int], list[int]]:  # type: ignore[no-untyped-def]
    """Shipments per week by ship date and expected revenue per week by charge date, counted row by row (not
    by the dashboard's SQL): an installment on its due date, a pending shipment billed on its own on the day
    create-child-orders takes it (ship date − delivery lead days; this week when that day has passed)."""
    shipments, revenue = [0] * (len(starts) - 1), [0] * (len(starts) - 1)
    lead = catalog.parameters(app.uow).delivery_lead_days

    def week(day) -> int | None:  # type: ignore[no-untyped-def]
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        return next((k for k in range(len(starts) - 1) if starts[k] <= day < starts[k + 1]), None)

    for ship_date, status, minor, per_shipment in rows(
        app,
        "SELECT o.ship_date, o.status, o.price_minor * o.quantity, "
        "CASE WHEN l.payment_schedule_id IS NULL AND NOT l.bill_up_front THEN 1 ELSE 0 END "
        "FROM schedule_occurrences o JOIN continuity_lines l ON l.sales_id = o.sales_id "
        "AND l.line_no = o.line_no",
    ):
        k = week(ship_date)
        if k is not None and status not in ("cancelled", "skipped"):
            shipments[k] += 1
        ship = ship_date if isinstance(ship_date, date) else date.fromisoformat(str(ship_date))
        charged = week(max(ship - timedelta(days=lead), starts[0]))
        if ship >= starts[0] and charged is not None and status == "pending" and per_shipment:
            revenue[charged] += minor
    for due_date, status, minor in rows(app, "SELECT due_date, status, amount_minor FROM installments"):
        k = week(due_date)
        if k is not None and status != "cancelled":
            revenue[k] += minor
    return shipments, revenue


def test_dashboard_weekly_figures_match_a_direct_count(manager, web_app):
    orders = [
        enter_order(web_app, "88000"),
        enter_order(web_app, "0016"),
        enter_order(web_app, "0016"),
        enter_order(web_app, "0021", payment_schedule_id="3X"),
        enter_order(web_app, "88000", start_date=TODAY + timedelta(days=20)),
    ]
    job(web_app, "create-child-orders", TODAY)
    starts = dashboard.week_starts(TODAY)
    shipments, revenue = _direct_figures(web_app, starts)
    assert sum(shipments) >= 8 and sum(1 for s in shipments if s) >= 3 and sum(revenue) > 0
    outlook = dashboard.outlook(web_app.dashboard_reads(), TODAY, catalog.parameters(web_app.uow).delivery_lead_days)
    assert [w.shipments for w in outlook.weeks] == shipments
    assert [w.revenue_in("EUR").minor for w in outlook.weeks] == revenue

    page = manager.get("/dashboard")
    assert page.status_code == 200
    table = re.findall(
        r'<th scope="row">[^<]*</th>\s*<td class="num">(\d+)</td>\s*<td class="num">([^<]*)</td>', page.text
    )
    assert [int(n) for n, _ in table] == shipments
    assert [m for _, m in table] == [
        format_currency(Money.from_minor(r, "EUR").amount, "EUR", locale="en") for r in revenue
    ]
    assert page.text.count('<rect class="bar"') == 12 and "<polyline" in page.text
    assert orders  # the orders exist only for the figures


def test_dashboard_lists_declined_installments_with_links_to_their_orders(manager, web_app):
    sales_id = enter_order(web_app, "0021", payment_schedule_id="3X")
    use_card(web_app, sales_id, DECLINE)
    second_due = rows(web_app, "SELECT due_date FROM installments WHERE sales_id = :s AND seq = 2", s=sales_id)[0][0]
    job(web_app, "process-payments", date.fromisoformat(str(second_due)))
    assert rows(web_app, "SELECT status FROM installments WHERE sales_id = :s AND seq = 2", s=sales_id) == [
        ("declined",)
    ]
    page = manager.get("/dashboard").text
    attention = page.split('id="attention-title"')[1].split("</section>")[0]
    assert f'href="/orders/{sales_id}"' in attention and "Karen Berg" in attention and "Installment 2" in attention
    assert manager.get(f"/orders/{sales_id}").status_code == 200  # the link leads to the order page


def test_an_editor_form_posted_without_the_csrf_token_changes_nothing(manager, web_app):
    before = events_of(web_app, "TRILOGY")
    refused = manager.post("/setup/programs/TRILOGY/events/1/delete", data={})
    assert refused.status_code == 403
    refused = manager.post("/jobs", data={"name": "close-orders", "as_of": "2026-11-23"})
    assert refused.status_code == 403
    assert events_of(web_app, "TRILOGY") == before
    assert scalar(web_app, "SELECT COUNT(*) FROM job_runs") == 0


WORDS = {
    "en": "Add events",
    "nb": "Legg til hendelser",
    "nl": "Gebeurtenissen toevoegen",
    "it": "Aggiungi eventi",
    "fr": "Ajouter des événements",
    "sv": "Lägg till händelser",
}


@pytest.mark.parametrize("lang", sorted(WORDS))
def test_every_manager_page_renders_in_each_language(manager, web_app, lang):
    enter_order(web_app, "0021", payment_schedule_id="3X")
    job(web_app, "create-child-orders", TODAY)
    token = csrf_of(manager.get("/setup").text)
    manager.post("/language", data={"language": lang, "next": "/setup", "csrf_token": token})
    for url in (
        "/setup",
        "/setup/parameters",
        "/setup/payment-schedules",
        "/setup/payment-schedules/3X",
        "/setup/programs",
        "/setup/programs/new",
        "/setup/products",
        "/setup/products/88000",
        "/jobs",
        "/dashboard",
    ):
        assert manager.get(url).status_code == 200, (lang, url)
    editor = manager.get("/setup/programs/BOOKCLUB").text
    assert WORDS[lang] in editor and f'<html lang="{lang}"' in editor
    dashboard_page = manager.get("/dashboard").text
    expected = format_currency(Money.from_minor(0, "EUR").amount, "EUR", locale=lang)
    assert expected in dashboard_page  # the empty weeks, in the language's money format
