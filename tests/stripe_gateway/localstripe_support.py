"""A real localstripe process for the Stripe tests, and reading its own records back.

localstripe keeps its whole state in one pickle at a fixed path (``/tmp/localstripe.pickle``, whatever
TMPDIR says: see ``Store.dump_to_disk`` in its ``resources.py``) and rewrites it after every write. Two
processes (two xdist workers, two agents' test runs) would then write the same file. The launcher below
turns that file off: ``--from-scratch`` never reads it, and with no dump nothing is shared at all.

One process serves the whole run (``run_wide``): the first xdist worker that needs it starts it, under a
lock in the folder the workers share, and the last one done stops it. (The xdist_group route does not
work here: pytest 9 keeps a node's id in ``_id``, so xdist 3.8's ``item._nodeid`` group suffix is lost.)
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import stripe

TODAY = date(2026, 11, 23)  # as tests/conftest.py pins it
TEST_MAX_AS_OF_DAYS = 36_500
SECRET_KEY = "sk_test_continuity"
PUBLISHABLE_KEY = "pk_test_continuity"

LAUNCH = """
import sys
from localstripe import resources, server
resources.Store.dump_to_disk = lambda self: None        # no shared /tmp/localstripe.pickle
resources.Store.try_load_from_disk = lambda self: None
server.start()
"""


@dataclass
class LocalStripe:
    url: str
    pid: int

    def client(self, base: str | None = None) -> stripe.StripeClient:
        return stripe.StripeClient(SECRET_KEY, base_addresses={"api": base or self.url}, max_network_retries=0)

    def payment_method(self, number: str, exp_month: int = 12, exp_year: int = 2030) -> str:
        """What Stripe.js does in the browser: the card goes to Stripe, a PaymentMethod id comes back."""
        return (
            self.client()
            .v1.payment_methods.create(
                {"type": "card", "card": {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": "123"}}
            )
            .id
        )

    def intents(self, customer: str) -> list:
        """localstripe's own list of the customer's PaymentIntents."""
        return [i for i in _all(self.client().v1.payment_intents.list) if i.customer == customer]

    def refunds(self, intent: str) -> list:
        """Refunds we made on the intent (metadata idempotency_key; localstripe records the released rest
        of a partial capture as a refund too, with no metadata)."""
        found = self.client().v1.refunds.list({"payment_intent": intent, "limit": 100}).data
        return [r for r in found if (r.metadata.to_dict() if r.metadata else {}).get("idempotency_key")]

    def customer_of(self, payment_method: str) -> str:
        return self.client().v1.payment_methods.retrieve(payment_method).customer

    def captured(self, intent) -> int:  # type: ignore[no-untyped-def]
        """What the intent took: its charge, less the released rest of a partial capture."""
        if intent.status != "succeeded":
            return 0
        charge = self.client().v1.charges.retrieve(
            intent.latest_charge.id if hasattr(intent.latest_charge, "id") else intent.latest_charge
        )
        released = sum(
            r.amount
            for r in self.client().v1.refunds.list({"payment_intent": intent.id}).data
            if not (r.metadata.to_dict() if r.metadata else {}).get("idempotency_key")
        )
        return charge.amount - released


def _all(lister) -> list:  # type: ignore[no-untyped-def]
    page, found = lister({"limit": 100}), []
    while True:
        found += page.data
        if not page.has_more or not page.data:
            return found
        page = lister({"limit": 100, "starting_after": page.data[-1].id})


def start(port: int, folder: Path) -> LocalStripe:
    log = open(folder / "localstripe.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "--port", str(port), "--from-scratch"],
        cwd=folder,
        env={**os.environ, "TMPDIR": str(folder)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited {process.returncode}: {(folder / 'localstripe.log').read_text()}")
        try:
            if httpx.get(f"{url}/v1/balance", auth=(SECRET_KEY, ""), timeout=1).status_code == 200:
                return LocalStripe(url, process.pid)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("localstripe did not answer within 30 s")


def stop(server: LocalStripe) -> None:
    """SIGTERM, then SIGKILL after 10 s (the process may be another worker's child: no wait() here)."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(server.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not _alive(server.pid):
                return
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reaps it when it is our own child
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def run_wide(shared: Path) -> Iterator[LocalStripe]:
    """The run's one localstripe: ``shared/localstripe.json`` holds its address, pid and how many workers
    use it, changed under ``flock``; the first user starts it, the last one stops it."""
    state, lock = shared / "localstripe.json", shared / "localstripe.lock"

    @contextmanager
    def locked() -> Iterator[dict]:
        with open(lock, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            info = json.loads(state.read_text()) if state.exists() else {}
            yield info
            state.write_text(json.dumps(info))

    with locked() as info:
        if not info or not _alive(info["pid"]):
            folder = shared / "localstripe"
            folder.mkdir(exist_ok=True)
            server = start(free_port(), folder)
            info.clear()
            info.update(url=server.url, pid=server.pid, users=0)
        info["users"] += 1
        server = LocalStripe(info["url"], info["pid"])
    try:
        yield server
    finally:
        with locked() as info:
            info["users"] -= 1
            if info["users"] <= 0:
                stop(server)
                info.clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


KAREN = "004007"
API = "/api/v1"
VISA = "4242424242424242"
DECLINED = "4000000000000341"  # saved fine, every charge declined (localstripe's card_declined)
NEEDS_AUTHENTICATION = "4000002500003155"  # 3-D Secure: off-session charges need the customer


def api_client(app):  # type: ignore[no-untyped-def]
    """The JSON API in-process, with an agent's bearer token."""
    import warnings

    from continuity.services.users import add_user

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from continuity.entrypoints.api.app import create_app

    token = add_user(app.uow, app.clock, "stripe-agent", "agent")[1]
    return TestClient(create_app(app), raise_server_exceptions=False), {"Authorization": f"Bearer {token}"}


def new_order(client, headers, item_id: str) -> str:  # type: ignore[no-untyped-def]
    done = client.post(
        f"{API}/sales-orders",
        headers=headers,
        # several orders of one item for Karen: the caller wants another one (else a 409 duplicate)
        json={"customer": KAREN, "lines": [{"item_id": item_id, "quantity": 1}], "confirm_duplicate": True},
    )
    assert done.status_code == 201, done.text
    return done.json()["sales_id"]


def pay(client, headers, server: LocalStripe, sales_id: str, number: str) -> str:  # type: ignore[no-untyped-def]
    """The card typed at Stripe (its PaymentMethod), saved through POST /cards, then the order's payment."""
    pm = server.payment_method(number)
    card = client.post(f"{API}/cards", headers=headers, json={"customer": KAREN, "payment_method": pm})
    assert card.status_code == 201, card.text
    assert card.json()["token"] == pm
    paid = client.post(
        f"{API}/sales-orders/{sales_id}/payments", headers=headers, json={"method": "card", "card_token": pm}
    )
    assert paid.status_code == 201, paid.text
    return pm


def submit(client, headers, sales_id: str) -> dict:  # type: ignore[no-untyped-def]
    done = client.post(f"{API}/sales-orders/{sales_id}/submit", headers=headers)
    assert done.status_code == 200, done.text
    return done.json()


def enter(client, headers, server: LocalStripe, item_id: str, number: str) -> tuple[str, str, dict]:  # type: ignore[no-untyped-def]
    """Order entry through the API: a new order for Karen with the item, the card as its payment, submit.
    Returns the sales id, the card's PaymentMethod and the submitted order."""
    sales_id = new_order(client, headers, item_id)
    pm = pay(client, headers, server, sales_id, number)
    return sales_id, pm, submit(client, headers, sales_id)


def nightly(app, day) -> None:  # type: ignore[no-untyped-def]
    """The worker's nightly sequence for ``day`` (with the warehouse stand-in shipping paid children)."""
    from continuity.services.jobs.context import JobRequest
    from continuity.services.jobs.registry import run_all

    run_all(app.job_deps(), JobRequest(day), fulfil=True)


def attempts(app, sales_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """Our attempts of the order and of its child orders."""
    from sqlalchemy import text

    with app.engine.connect() as conn:
        found = conn.execute(
            text("SELECT * FROM payment_attempts WHERE sales_id = :s OR sales_id LIKE :c ORDER BY attempt_id"),
            {"s": sales_id, "c": f"{sales_id}-%"},
        )
        return [dict(r._mapping) for r in found]
