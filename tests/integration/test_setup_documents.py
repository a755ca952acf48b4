"""Setup documents that cannot break orders (issue 11, items 4–6), through `continuity programs import`, the
API and the manager's web forms: a partial parameters document changes only what it names (PUT needs
the whole document, PATCH changes only what it names); one currency per program (event prices, items,
parent product), an event price without a currency in its item's; `days_from_last_event: 0` refused,
never taken for 30 days."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from api_support import API, bearer, client, users_of_each_role
from typer.testing import CliRunner

from continuity.entrypoints.cli import app as cli_app
from continuity.services import catalog

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from web_support import MANAGER, add_web_users, client_login, csrf_of, follow, web_client  # noqa: E402

#: The parameters after the first import of the partial-document tests: none of them a default.
TUNED = {
    "repeat_threshold": 5,
    "delivery_lead_days": 9,
    "max_child_orders_per_run": 250,
    "authorize_child_orders": True,
    "reauthorization_limit": 6,
    "upcoming_charge_notice_days": 7,
    "card_expiry_notice_days": 21,
    "prices_include_tax": True,
    "retry_days": [2, 4, 8],
    "retry_window_days": 10,
    "card_retry_budget": 12,
    "card_retry_budget_days": 28,
}


def _stored(app) -> dict:  # type: ignore[no-untyped-def]
    """The stored parameters as a JSON document has them (retry_days a list)."""
    params = vars(catalog.parameters(app.uow))
    return {**params, "retry_days": list(params["retry_days"])}


USD_BOOK = {"item_id": "U100", "name": "American Dust", "price": "11.00", "currency": "USD"}


@pytest.fixture
def cli(demo_app, database_url, tmp_path):
    """Runs `continuity …` in process on the demo database; returns (exit code, stdout, stderr)."""
    runner = CliRunner()
    env = {
        "CONTINUITY_DATABASE_URL": database_url,
        "CONTINUITY_TODAY": "2026-11-23",
        "CONTINUITY_LOG_FILE": str(tmp_path / "continuity.log"),
    }

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli_app, list(args), env=env)
        assert "Traceback" not in result.stdout + result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        return result.exit_code, result.stdout, result.stderr

    return run


@pytest.fixture
def import_doc(cli, tmp_path):
    """`programs import FILE --json` of a document: (exit code, the JSON printed)."""

    def run(document: object) -> tuple[int, dict]:
        path = tmp_path / "setup.json"
        path.write_text(json.dumps(document))
        code, out, _ = cli("programs", "import", str(path), "--json")
        return code, json.loads(out)

    return run


def refused(import_doc, document: object, code: str) -> str:
    """Import ``document``: refused with ``code`` (one line, no traceback); returns the message."""
    exit_code, printed = import_doc(document)
    assert exit_code != 0, printed
    assert printed["error"]["code"] == code, printed
    assert "\n" not in printed["error"]["message"]
    return printed["error"]["message"]


@pytest.fixture
def api(demo_app):
    tokens = users_of_each_role(demo_app)
    with client(demo_app) as c:
        c.agent = bearer(tokens["agent"])  # type: ignore[attr-defined]
        yield c, bearer(tokens["manager"])


# -- 4. a partial parameters document changes only what it names ---------------------------------------
def test_importing_a_partial_parameters_document_changes_only_the_parameters_it_names(demo_app, import_doc):
    assert import_doc({"parameters": TUNED})[0] == 0

    code, printed = import_doc({"parameters": {"repeat_threshold": 4}})

    assert code == 0 and printed["parameters"] == 1
    assert _stored(demo_app) == {**TUNED, "repeat_threshold": 4}


def test_an_invalid_partial_parameters_document_is_refused_and_changes_nothing(demo_app, import_doc):
    assert import_doc({"parameters": TUNED})[0] == 0

    message = refused(
        import_doc, {"parameters": {"repeat_threshold": 4, "delivery_lead_days": -1}}, "parameters_invalid"
    )

    assert "delivery_lead_days" in message
    assert _stored(demo_app) == TUNED


def test_put_parameters_needs_the_whole_document_and_names_the_missing_fields(demo_app, api):
    c, manager = api
    assert c.put(f"{API}/parameters/continuity", headers=manager, json=TUNED).status_code == 200

    partial = c.put(
        f"{API}/parameters/continuity",
        headers=manager,
        json={k: v for k, v in TUNED.items() if k != "upcoming_charge_notice_days"},
    )
    only_one = c.put(f"{API}/parameters/continuity", headers=manager, json={"repeat_threshold": 4})

    assert partial.status_code == 422 and partial.headers["content-type"] == "application/problem+json"
    assert partial.json()["code"] == "request_invalid"
    assert "upcoming_charge_notice_days" in partial.json()["detail"]
    assert [e["loc"][-1] for e in partial.json()["errors"]] == ["upcoming_charge_notice_days"]
    assert only_one.status_code == 422
    assert sorted(e["loc"][-1] for e in only_one.json()["errors"]) == sorted(set(TUNED) - {"repeat_threshold"})
    assert _stored(demo_app) == TUNED


def test_patch_parameters_changes_only_the_parameters_it_names(demo_app, api):
    c, manager = api
    assert c.put(f"{API}/parameters/continuity", headers=manager, json=TUNED).status_code == 200

    patched = c.patch(
        f"{API}/parameters/continuity", headers=manager, json={"repeat_threshold": 4, "authorize_child_orders": False}
    )

    assert patched.status_code == 200
    expected = {**TUNED, "repeat_threshold": 4, "authorize_child_orders": False}
    assert patched.json() == expected
    assert _stored(demo_app) == expected
    assert c.get(f"{API}/parameters/continuity", headers=manager).json() == expected


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"repeat_threshold": None}, id="null"),
        pytest.param({"repeat_threshold": 0}, id="below_its_minimum"),
        pytest.param({"repeat_threshold": "4"}, id="a_string"),
        pytest.param({"repeat_treshold": 4}, id="an_unknown_name"),
    ],
)
def test_patch_parameters_refuses_a_bad_value_and_changes_nothing(demo_app, api, body):
    c, manager = api
    before = _stored(demo_app)

    response = c.patch(f"{API}/parameters/continuity", headers=manager, json=body)

    assert response.status_code == 422 and response.json()["code"] == "request_invalid"
    assert _stored(demo_app) == before


def test_patch_parameters_needs_a_manager(demo_app, api):
    c, _ = api

    anonymous = c.patch(f"{API}/parameters/continuity", json={"repeat_threshold": 4})
    agent = c.patch(f"{API}/parameters/continuity", headers=c.agent, json={"repeat_threshold": 4})

    assert (anonymous.status_code, agent.status_code) == (401, 403)
    assert _stored(demo_app)["repeat_threshold"] == 3


# -- 5. one currency per program --------------------------------------------------------------------
def test_a_program_mixing_usd_and_eur_items_is_refused_naming_the_item_and_both_currencies(demo_app, import_doc):
    document = {
        "products": [USD_BOOK],
        "programs": [
            {"program_id": "MIXED", "events": [{"event_id": 1, "item_id": "0013"}, {"event_id": 2, "item_id": "U100"}]}
        ],
    }

    message = refused(import_doc, document, "currency_mismatch")

    assert all(word in message for word in ("MIXED", "U100", "USD", "0013", "EUR")), message
    assert "U100" not in {p.item_id for p in catalog.products(demo_app.uow, None, 1000)}  # all or nothing
    assert "MIXED" not in {p.program_id for p in catalog.programs(demo_app.uow, None, 1000)}


def test_an_event_price_without_a_currency_is_in_its_items_currency_and_orders_can_be_taken(demo_app, import_doc, cli):
    document = {
        "products": [
            USD_BOOK,
            {
                "item_id": "U900",
                "name": "American club",
                "price": "0.00",
                "currency": "USD",
                "continuity_program_id": "USCLUB",
            },
        ],
        "programs": [
            {
                "program_id": "USCLUB",
                "events": [{"event_id": 1, "item_id": "U100", "price": "9.50", "times_to_repeat": 2}],
            }
        ],
    }

    code, printed = import_doc(document)

    assert code == 0, printed
    event = catalog.program(demo_app.uow, "USCLUB").events[0]
    assert (str(event.price.amount), event.price.currency) == ("9.50", "USD")
    code, out, err = cli("orders", "new", "--customer", "004007", "--item", "U900", "--json")
    assert code == 0, out + err
    order = json.loads(out)
    assert order["currency"] == "USD"


def test_an_event_price_in_another_currency_than_its_item_is_refused(demo_app, import_doc):
    document = {
        "programs": [
            {"program_id": "EURO", "events": [{"event_id": 1, "item_id": "0013", "price": "9.50", "currency": "USD"}]}
        ]
    }

    message = refused(import_doc, document, "currency_mismatch")

    assert all(word in message for word in ("EURO", "event 1", "USD", "0013", "EUR")), message


def test_a_parent_product_in_another_currency_than_its_program_is_refused(demo_app, import_doc):
    document = {
        "products": [
            USD_BOOK,
            {"item_id": "U900", "name": "American club", "price": "0.00", "continuity_program_id": "USCLUB"},
        ],  # EUR: the default
        "programs": [{"program_id": "USCLUB", "events": [{"event_id": 1, "item_id": "U100"}]}],
    }

    message = refused(import_doc, document, "currency_mismatch")

    assert all(word in message for word in ("U900", "EUR", "USCLUB", "USD")), message
    assert "USCLUB" not in {p.program_id for p in catalog.programs(demo_app.uow, None, 1000)}


def test_the_api_refuses_a_parent_product_or_an_item_whose_currency_breaks_a_program(demo_app, api):
    c, manager = api

    parent = c.post(
        f"{API}/products",
        headers=manager,
        json={
            "item_id": "U900",
            "name": "Trilogy in dollars",
            "price": "0.00",
            "currency": "USD",
            "continuity_program_id": "TRILOGY",
        },
    )
    event_item = c.put(
        f"{API}/products/0014", headers=manager, json={"name": "Fjord Tales", "price": "16.50", "currency": "USD"}
    )
    mixed = c.post(
        f"{API}/programs",
        headers=manager,
        json={
            "program_id": "MIXED",
            "events": [{"event_id": 1, "item_id": "0013", "price": "3.00", "currency": "USD"}],
        },
    )

    for response, words in (
        (parent, ("U900", "USD", "TRILOGY", "EUR")),
        (event_item, ("0014", "USD", "EUR")),
        (mixed, ("MIXED", "0013", "USD", "EUR")),
    ):
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "currency_mismatch"
        assert all(word in body["detail"] for word in words), body["detail"]
    assert "U900" not in {p.item_id for p in catalog.products(demo_app.uow, None, 1000)}
    assert catalog.product(demo_app.uow, "0014").price.currency == "EUR"


def test_the_api_prices_an_event_without_a_currency_in_its_items_currency(demo_app, api):
    c, manager = api
    assert c.post(f"{API}/products", headers=manager, json=USD_BOOK).status_code == 201

    made = c.post(
        f"{API}/programs",
        headers=manager,
        json={"program_id": "USCLUB", "events": [{"event_id": 1, "item_id": "U100", "price": "9.50"}]},
    )

    assert made.status_code == 201, made.text
    assert (made.json()["events"][0]["price"], made.json()["events"][0]["currency"]) == ("9.50", "USD")


def test_the_web_product_form_refuses_a_parent_in_another_currency_than_its_program(demo_app):
    add_web_users(demo_app)
    web = web_client(demo_app)
    assert client_login(web, MANAGER).status_code == 303
    token = csrf_of(web.get("/setup/products/new").text)

    response = web.post(
        "/setup/products",
        data={
            "item_id": "U900",
            "name": "Trilogy in dollars",
            "price": "0.00",
            "currency": "USD",
            "continuity_program_id": "TRILOGY",
            "csrf_token": token,
        },
    )

    response = follow(web, response)  # PRG (issue 18 item 8): the refusal is shown on the form's page
    assert response.status_code == 200
    assert "U900" in response.text and "USD" in response.text and "TRILOGY" in response.text
    assert "U900" not in {p.item_id for p in catalog.products(demo_app.uow, None, 1000)}


# -- 6. days_from_last_event: 0 is refused, never taken for 30 days -------------------------------
def test_days_from_last_event_0_is_refused_not_taken_for_30_days(demo_app, import_doc):
    document = {
        "program_id": "ZERO",
        "events": [{"event_id": 1, "item_id": "0013", "times_to_repeat": 3, "days_from_last_event": 0}],
    }

    message = refused(import_doc, document, "interval_zero")

    assert "days_from_last_event" in message and "event 1" in message
    assert "ZERO" not in {p.program_id for p in catalog.programs(demo_app.uow, None, 1000)}


def test_days_from_last_event_0_prints_one_line_without_json(cli, tmp_path):
    path = tmp_path / "zero.json"
    path.write_text(
        json.dumps({"program_id": "ZERO", "events": [{"event_id": 1, "item_id": "0013", "days_from_last_event": 0}]})
    )

    code, out, err = cli("programs", "import", str(path))

    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "interval_zero" in err


def test_the_api_refuses_a_zero_interval_in_either_spelling(demo_app, api):
    c, manager = api

    by_days = c.post(
        f"{API}/programs",
        headers=manager,
        json={"program_id": "ZERO", "events": [{"event_id": 1, "item_id": "0013", "days_from_last_event": 0}]},
    )
    by_interval = c.post(
        f"{API}/programs",
        headers=manager,
        json={"program_id": "ZERO", "events": [{"event_id": 1, "item_id": "0013", "interval": "0 days"}]},
    )

    assert by_days.status_code == 422 and by_days.json()["code"] == "request_invalid"
    assert by_days.json()["errors"][0]["loc"][-1] == "days_from_last_event"
    assert by_interval.status_code == 422 and by_interval.json()["code"] == "interval_zero"
    assert "ZERO" not in {p.program_id for p in catalog.programs(demo_app.uow, None, 1000)}


def test_an_event_without_an_interval_still_ships_every_30_days(demo_app, import_doc):
    code, printed = import_doc({"program_id": "PLAIN", "events": [{"event_id": 1, "item_id": "0013"}]})

    assert code == 0, printed
    assert str(catalog.program(demo_app.uow, "PLAIN").events[0].interval) == "30 days"
