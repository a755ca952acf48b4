"""The seed-004 story in Chromium with CONTINUITY_GATEWAY=stripe: the card is typed into localstripe's
Stripe.js stand-in (loaded from CONTINUITY_STRIPE_JS_URL), confirmed at localstripe against a SetupIntent;
our server receives only the PaymentMethod id. The first book's charge is then read from localstripe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from localstripe_support import PUBLISHABLE_KEY, SECRET_KEY, TODAY, VISA

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from web_support import AGENT, CONTINUITY, browser, free_port, login, page, prepare_demo_database  # noqa: E402,F401


@pytest.fixture
def stripe_web(tmp_path, localstripe):  # type: ignore[no-untyped-def]
    database = tmp_path / "web.db"
    prepare_demo_database(f"sqlite:///{database}")
    env = {
        **os.environ,
        "CONTINUITY_DATABASE_URL": f"sqlite:///{database}",
        "CONTINUITY_TODAY": TODAY.isoformat(),
        "CONTINUITY_LOG_FILE": str(tmp_path / "app.log"),
        "CONTINUITY_GATEWAY": "stripe",
        "CONTINUITY_STRIPE_API_KEY": SECRET_KEY,
        "CONTINUITY_STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "CONTINUITY_STRIPE_API_BASE": localstripe.url,
        "CONTINUITY_STRIPE_JS_URL": f"{localstripe.url}/js.stripe.com/v3/",
        "CONTINUITY_STRIPE_KEY_PREFIX": f"web-{tmp_path.name}:",
    }
    port = free_port()
    output = tmp_path / "server-output.txt"
    with output.open("w") as out:
        process = subprocess.Popen(
            [str(CONTINUITY), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, output.read_text()
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield type("Web", (), {"url": url, "env": env, "folder": tmp_path, "database": database})
    process.terminate()
    process.wait(15)


def _type_card(page, number: str) -> None:  # type: ignore[no-untyped-def]
    """Into localstripe's stand-in for the Stripe Elements card field."""
    page.fill("#card-element input[placeholder=number]", number)
    page.fill("#card-element input[placeholder=exp_month]", "12")
    page.fill("#card-element input[placeholder=exp_year]", "30")
    page.fill("#card-element input[placeholder=cvc]", "123")
    page.fill("#card-element input[placeholder=postal_code]", "10115")


def test_seed_004_in_chromium_with_the_card_typed_into_stripe_js(stripe_web, page, localstripe):
    ours: list[str] = []
    page.on(
        "request", lambda r: ours.append(f"{r.url} {r.post_data or ''}") if r.url.startswith(stripe_web.url) else None
    )
    login(page, stripe_web, AGENT)
    page.fill("#q", "Karen")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/customers/004007$"))
    page.fill("#item_id", "88000")
    page.press("#item_id", "Enter")
    page.wait_for_url(re.compile(r"/orders/new"))
    page.press("#start_date", "Enter")
    page.wait_for_url(re.compile(r"/orders/SO-\d+/entry$"))
    assert page.locator("#card_number").count() == 0  # no card number field of ours under stripe
    _type_card(page, VISA)
    page.click("form[data-stripe-card] button[type=submit]")
    page.wait_for_url(re.compile(r"/orders/SO-\d+/done$"))
    sales_id = page.inner_text("#order-number")

    page.goto(f"{stripe_web.url}/orders/{sales_id}")
    assert "visa •••• 4242" in page.inner_text("body")
    posted = [r for r in ours if "/submit" in r]
    assert len(posted) == 1 and re.search(r"payment_method=pm_\w+", posted[0])
    assert all(VISA not in r for r in ours), "the card number reached our server"

    for day in ("2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26"):
        done = subprocess.run(
            [str(CONTINUITY), "jobs", "run-all", "--as-of", day, "--fulfil", "--json"],
            env=stripe_web.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    pm = re.search(r"payment_method=(pm_\w+)", posted[0]).group(1)
    [charge] = localstripe.intents(localstripe.customer_of(pm))
    assert (charge.status, localstripe.captured(charge), charge.payment_method) == ("succeeded", 1299, pm)
    stored = b"".join(p.read_bytes() for p in stripe_web.folder.iterdir() if p.name.startswith("web.db"))
    assert pm.encode() in stored and VISA.encode() not in stored
    logs = (stripe_web.folder / "app.log").read_text() + (stripe_web.folder / "server-output.txt").read_text()
    assert VISA not in logs

    # the caller gives another card: the change-card form's field is Stripe.js too
    page.goto(f"{stripe_web.url}/orders/{sales_id}/service/change-card")
    assert page.locator("#card_number").count() == 0
    _type_card(page, "5555555555554444")
    page.click("button[name=action][value=save]")
    page.wait_for_url(re.compile(rf"/orders/{sales_id}\?saved="))
    changed = [r for r in ours if "/service/change-card" in r and "action=save" in r]
    assert len(changed) == 1 and re.search(r"payment_method=pm_\w+", changed[0])
    assert all("5555555555554444" not in r for r in ours)
    new_pm = re.search(r"payment_method=(pm_\w+)", changed[0]).group(1)
    assert localstripe.customer_of(new_pm) == localstripe.customer_of(pm)
    assert "•••• 4444" in page.inner_text("body")
