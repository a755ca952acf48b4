"""CONTINUITY_GATEWAY=stripe: settings, the key checked at serve/worker start, and card entry by
PaymentMethod only (API POST /cards, CLI orders pay --payment-method)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from localstripe_support import API, KAREN, PUBLISHABLE_KEY, SECRET_KEY, VISA, api_client, new_order

from continuity.config import Settings
from continuity.domain.errors import ValidationFailed

CONTINUITY = Path(sys.executable).with_name("continuity")


def _env(monkeypatch, **values):  # type: ignore[no-untyped-def]
    for name in (
        "CONTINUITY_GATEWAY",
        "CONTINUITY_STRIPE_API_KEY",
        "CONTINUITY_STRIPE_PUBLISHABLE_KEY",
        "CONTINUITY_STRIPE_API_BASE",
        "CONTINUITY_STRIPE_JS_URL",
        "CONTINUITY_STRIPE_KEY_PREFIX",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(f"CONTINUITY_{name.upper()}", value)


def test_the_test_connector_stays_the_default(monkeypatch):
    _env(monkeypatch)
    settings = Settings.from_env()
    assert (settings.gateway, settings.stripe_api_base, settings.stripe_js_url) == (
        "test",
        "https://api.stripe.com",
        "https://js.stripe.com/v3/",
    )


def test_stripe_settings_are_read_and_the_secret_is_not_shown(monkeypatch):
    _env(
        monkeypatch,
        gateway="stripe",
        stripe_api_key="sk_test_x1",
        stripe_publishable_key="pk_test_y",
        stripe_api_base="http://127.0.0.1:9",
        stripe_js_url="http://127.0.0.1:9/js.stripe.com/v3/",
        stripe_key_prefix="shop-1:",
    )
    settings = Settings.from_env()
    assert (
        settings.gateway,
        settings.stripe_api_key,
        settings.stripe_publishable_key,
        settings.stripe_api_base,
        settings.stripe_key_prefix,
    ) == ("stripe", "sk_test_x1", "pk_test_y", "http://127.0.0.1:9", "shop-1:")
    assert "sk_test_x1" not in repr(settings)


@pytest.mark.parametrize(
    "values, says",
    [
        ({"gateway": "paypal"}, "CONTINUITY_GATEWAY must be test or stripe"),
        ({"gateway": "stripe", "stripe_publishable_key": "pk_test_y"}, "CONTINUITY_STRIPE_API_KEY is required"),
        (
            {"gateway": "stripe", "stripe_api_key": "pk_test_y", "stripe_publishable_key": "pk_test_y"},
            "is not a Stripe secret key",
        ),
        ({"gateway": "stripe", "stripe_api_key": "sk_test_x"}, "CONTINUITY_STRIPE_PUBLISHABLE_KEY is required"),
    ],
)
def test_a_missing_or_malformed_setting_is_refused(monkeypatch, values, says):
    _env(monkeypatch, **values)
    with pytest.raises(ValidationFailed, match=says) as refused:
        Settings.from_env()
    assert refused.value.code == "setting_invalid"


def _run(args: list[str], env: dict, timeout: float = 60) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return subprocess.run(
        [str(CONTINUITY), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _stripe_env(database_url: str, base: str, key: str = SECRET_KEY) -> dict:
    return {
        "CONTINUITY_DATABASE_URL": database_url,
        "CONTINUITY_TODAY": "2026-11-23",
        "CONTINUITY_GATEWAY": "stripe",
        "CONTINUITY_STRIPE_API_KEY": key,
        "CONTINUITY_STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "CONTINUITY_STRIPE_API_BASE": base,
    }


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker", "--once"]])
def test_serve_and_worker_stop_in_one_line_on_a_missing_or_refused_key(database_url, localstripe, command):
    missing = _run(command, {**_stripe_env(database_url, localstripe.url), "CONTINUITY_STRIPE_API_KEY": ""})
    refused = _run(command, _stripe_env(database_url, localstripe.url, key="sk_ab"))  # localstripe: 401
    unreachable = _run(command, _stripe_env(database_url, "http://127.0.0.1:9"))
    for done, says in (
        (missing, "CONTINUITY_STRIPE_API_KEY is required"),
        (refused, "Stripe refused CONTINUITY_STRIPE_API_KEY"),
        (unreachable, "Stripe did not answer at CONTINUITY_STRIPE_API_BASE"),
    ):
        assert done.returncode != 0
        assert "Traceback" not in done.stdout + done.stderr
        assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_the_key_check_passes_against_a_server_that_takes_it(make_stripe_app):
    make_stripe_app().check_gateway()  # one GET /v1/balance; raises on a refusal


def test_post_cards_takes_a_payment_method_and_refuses_a_card_number(stripe_app, localstripe):
    c, h = api_client(stripe_app)
    refused = c.post(f"{API}/cards", headers=h, json={"customer": KAREN, "card_number": VISA, "expiry": "12/30"})
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["errors"][0]["loc"] == ["body", "card_number"]
    assert "send payment_method" in problem["detail"] and VISA not in refused.text
    both = c.post(
        f"{API}/cards",
        headers=h,
        json={"customer": KAREN, "card_number": VISA, "expiry": "12/30", "payment_method": "pm_x"},
    )
    assert both.status_code == 422 and VISA not in both.text
    pm = localstripe.payment_method(VISA, exp_month=3, exp_year=2031)
    saved = c.post(f"{API}/cards", headers=h, json={"customer": KAREN, "payment_method": pm})
    assert saved.status_code == 201
    assert saved.json() == {"token": pm, "brand": "visa", "last4": "4242", "expiry": "03/31"}
    again = c.post(f"{API}/cards", headers=h, json={"customer": KAREN, "payment_method": pm})
    assert again.status_code == 201 and again.json() == saved.json()
    unknown = c.post(f"{API}/cards", headers=h, json={"customer": KAREN, "payment_method": "pm_nosuchthing"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "payment_method_invalid"
    second = localstripe.payment_method("5555555555554444")
    assert c.post(f"{API}/cards", headers=h, json={"customer": KAREN, "payment_method": second}).status_code == 201
    assert localstripe.customer_of(second) == localstripe.customer_of(pm)  # one Stripe Customer per account


def test_the_test_connector_refuses_a_payment_method(app):
    from continuity.services.demo import load_demo

    load_demo(app.uow, app.clock.today())
    c, h = api_client(app)
    refused = c.post(f"{API}/cards", headers=h, json={"customer": KAREN, "payment_method": "pm_abc"})
    assert refused.status_code == 422 and refused.json()["code"] == "payment_method_not_accepted"
    assert (
        c.post(
            f"{API}/cards", headers=h, json={"customer": KAREN, "card_number": "4111111111111111", "expiry": "12/30"}
        ).status_code
        == 201
    )


def test_cli_orders_pay_with_a_payment_method(stripe_app, localstripe, database_url):
    c, h = api_client(stripe_app)
    sales_id = new_order(c, h, "88000")
    env = _stripe_env(database_url, localstripe.url)
    by_number = _run(["orders", "pay", sales_id, "--card", VISA, "--expiry", "12/30", "--json"], env)
    assert by_number.returncode != 0 and "--payment-method" in by_number.stderr
    assert json.loads(by_number.stdout)["error"]["code"] == "card_number_not_accepted"
    pm = localstripe.payment_method(VISA)
    done = _run(["orders", "pay", sales_id, "--payment-method", pm, "--json"], env)
    assert done.returncode == 0, done.stderr
    [payment] = json.loads(done.stdout)["payments"]
    assert payment["status"] == "not_submitted" and payment["card"].endswith("4242")
    submitted = _run(["orders", "submit", sales_id, "--json"], env)
    assert json.loads(submitted.stdout)["status"] == "open"
