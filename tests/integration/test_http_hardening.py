"""HTTP hardening (issue 15, items 3 and 7): request bodies are limited (CONTINUITY_MAX_BODY_BYTES) before
they are read, on the API and the web UI; an anonymous write is refused before its body is parsed; API
responses and the docs page are not cached, sniffed or framed; HSTS over https, and over a proxy's
``X-Forwarded-Proto: https`` only when CONTINUITY_TRUST_FORWARDED_PROTO says so."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from api_support import API, bearer, client, live_server, users_of_each_role
from sqlalchemy import func, select

from continuity.adapters import orm
from continuity.config import Settings
from continuity.domain.errors import ValidationFailed

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from web_support import add_web_users, client_login, csrf_of, web_client  # noqa: E402

LIMIT = 1 << 20
CUSTOMER = {"account": "HARD-1", "name": "Hard Ening"}


@pytest.fixture
def tokens(demo_app):
    return users_of_each_role(demo_app)


def _problem_413(status: int, headers, body: bytes) -> None:  # type: ignore[no-untyped-def]
    assert status == 413, body[:300]
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 413 and problem["code"] == "body_too_large"
    assert problem["type"] == "urn:continuity:problem:body_too_large" and problem["request_id"]


def _raw_exchange(url: str, request: bytes, then: bytes = b"", timeout: float = 5.0) -> tuple[int, dict, bytes]:
    """Send ``request`` (and ``then``) over a plain socket and read one response, without ever finishing
    the body: only a server that answers before reading the body it was promised can answer in time."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(request)
        if then:
            sock.sendall(then)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)  # a socket.timeout here means the server is still waiting for the body
            assert chunk, "the server closed the connection without an answer"
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk
            rest += chunk
        return status, headers, rest[:length]


def _count(app, table) -> int:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


# -- item 3: body limits --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, method, path",
    [
        ("nobody", "POST", "/api/v1/customers"),
        ("agent", "POST", "/api/v1/customers"),
        ("manager", "PUT", "/api/v1/products/0013"),
        ("nobody", "POST", "/login"),
    ],
)
def test_a_content_length_above_the_limit_is_refused_before_the_body_is_read(demo_app, tokens, who, method, path):
    auth = f"Authorization: Bearer {tokens[who]}\r\n" if who in tokens else ""
    content_type = "application/x-www-form-urlencoded" if path == "/login" else "application/json"
    with live_server(demo_app) as url:
        request = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: {content_type}\r\n"
            f"Content-Length: {100 * LIMIT}\r\n\r\n"
        ).encode()
        status, headers, body = _raw_exchange(url, request)  # not one byte of the 100 MB is sent
    _problem_413(status, headers, body)
    assert headers["connection"] == "close"  # nothing left to drain: the connection ends


def test_a_chunked_body_is_cut_off_at_the_limit(demo_app, tokens):
    """The body never ends; the answer comes as soon as the limit is passed."""
    with live_server(demo_app) as url:
        request = (
            f"POST {API}/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {tokens['agent']}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        piece = b" " * 65536
        chunks = (b"%x\r\n" % len(piece) + piece + b"\r\n") * (LIMIT // len(piece) + 2)  # no closing 0 chunk
        status, headers, body = _raw_exchange(url, request, then=chunks)
    _problem_413(status, headers, body)


def test_a_streamed_body_over_the_limit_gets_413_over_http(demo_app, tokens):
    """httpx streams a generator (chunked transfer encoding) of 3 MB: 413, for the API and a web form."""

    def body():  # type: ignore[no-untyped-def]
        for _ in range(48):
            yield b"x" * 65536

    with live_server(demo_app) as url:
        api = httpx.post(
            f"{url}{API}/customers",
            content=body(),
            timeout=30,
            headers={**bearer(tokens["agent"]), "Content-Type": "application/json"},
        )
        web = httpx.post(
            f"{url}/login", content=body(), timeout=30, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    for response in (api, web):
        assert "content-length" not in response.request.headers  # it really was chunked
        _problem_413(response.status_code, response.headers, response.content)


def test_the_limit_is_the_setting_and_a_body_within_it_goes_through(demo_app, tokens):
    demo_app.settings = dataclasses.replace(demo_app.settings, max_body_bytes=2000)
    padding = {**CUSTOMER, "name": "Hard Ening"}
    raw = json.dumps(padding).encode()
    fits = raw[:-1] + b" " * (2000 - len(raw)) + b"}"  # 2000 bytes of valid JSON
    assert len(fits) == 2000
    headers = {**bearer(tokens["agent"]), "Content-Type": "application/json"}
    with client(demo_app) as c:
        too_big = c.post(f"{API}/customers", content=fits[:-1] + b" }", headers=headers)
        _problem_413(too_big.status_code, too_big.headers, too_big.content)
        assert c.get(f"{API}/customers/HARD-1", headers=headers).status_code == 404  # nothing was created
        created = c.post(f"{API}/customers", content=fits, headers=headers)
        assert created.status_code == 201, created.text


def test_a_logged_in_web_form_over_the_limit_gets_413_and_changes_nothing(demo_app):
    add_web_users(demo_app)
    before = _count(demo_app, orm.sales_orders)
    with web_client(demo_app) as c:
        assert client_login(c).status_code == 303
        token = csrf_of(c.get("/").text)
        r = c.post(
            "/customers/004007/orders",
            data={"item_id": "0013", "quantity": "1", "csrf_token": token, "note": "x" * LIMIT},
        )
        _problem_413(r.status_code, r.headers, r.content)
        assert (
            c.post(
                "/customers/004007/orders", data={"item_id": "0013", "quantity": "1", "csrf_token": token}
            ).status_code
            == 303
        )
    assert _count(demo_app, orm.sales_orders) == before + 1


def test_the_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("CONTINUITY_DATABASE_URL", "sqlite://")
    defaults = Settings.from_env()
    assert defaults.max_body_bytes == 1048576 and defaults.trust_forwarded_proto is False
    monkeypatch.setenv("CONTINUITY_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("CONTINUITY_TRUST_FORWARDED_PROTO", "true")
    settings = Settings.from_env()
    assert settings.max_body_bytes == 4096 and settings.trust_forwarded_proto is True
    for variable, bad in (
        ("CONTINUITY_MAX_BODY_BYTES", "0"),
        ("CONTINUITY_MAX_BODY_BYTES", "1MB"),
        ("CONTINUITY_TRUST_FORWARDED_PROTO", "maybe"),
    ):
        monkeypatch.setenv(variable, bad)
        with pytest.raises(ValidationFailed) as refused:
            Settings.from_env()
        assert refused.value.code == "setting_invalid" and variable in refused.value.message
        monkeypatch.delenv(variable)


# -- item 3: authentication before the body --------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [("POST", "/customers"), ("PUT", "/products/0013"), ("POST", "/sales-orders/SO-1/payments"), ("POST", "/users")],
)
def test_an_anonymous_write_is_refused_before_its_body_is_parsed(demo_app, tokens, method, path):
    """A broken JSON body would be a 422 if it were parsed; without a valid token it is never looked at."""
    broken = {"Content-Type": "application/json"}
    with client(demo_app) as c:
        for who in ({}, bearer("ct_not-a-real-token"), {"Authorization": "Basic x"}):
            for body in (b"{not json", b"[" * 5000, b'{"account": ' + b'"x",' * 100_000 + b"}"):
                r = c.request(method, API + path, content=body, headers={**broken, **who})
                assert r.status_code == 401, (who, body[:20], r.text)
                assert r.headers["content-type"] == "application/problem+json"
                assert r.headers["www-authenticate"] == "Bearer"
                assert r.json()["code"] == "not_authenticated"
        # with a valid token the body is judged as before
        r = c.request(method, API + path, content=b"{not json", headers={**broken, **bearer(tokens["admin"])})
        assert r.status_code == 422 and r.json()["code"] == "request_invalid"


def test_an_anonymous_body_that_never_ends_is_refused_without_reading_it(demo_app):
    with live_server(demo_app) as url:
        request = (
            f"POST {API}/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n5\r\n{not \r\n"
        ).encode()
        status, headers, body = _raw_exchange(url, request)
    assert status == 401 and json.loads(body)["code"] == "not_authenticated"


# -- item 7: headers -------------------------------------------------------------------------------


def _assert_api_headers(response) -> None:  # type: ignore[no-untyped-def]
    h = response.headers
    assert h["cache-control"] == "no-store", response.request.url
    assert h["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert h["x-frame-options"] == "DENY"


def test_api_responses_are_not_cached_sniffed_or_framed(demo_app, tokens):
    agent = bearer(tokens["agent"])
    with client(demo_app) as c:
        responses = [
            c.get(f"{API}/health"),
            c.get(f"{API}/openapi.json"),
            c.get(f"{API}/customers"),
            c.get(f"{API}/customers", headers=agent),
            c.get(f"{API}/customers/NOPE", headers=agent),
            c.post(f"{API}/customers", json=CUSTOMER, headers=agent),
            c.get(f"{API}/nowhere"),
            c.post(f"{API}/customers", content=b"x" * (LIMIT + 1), headers=agent),
        ]
        replayed = c.post(
            f"{API}/customers",
            json={**CUSTOMER, "account": "HARD-2"},
            headers={**agent, "Idempotency-Key": "hardening-1"},
        )
        again = c.post(
            f"{API}/customers",
            json={**CUSTOMER, "account": "HARD-2"},
            headers={**agent, "Idempotency-Key": "hardening-1"},
        )
    assert [r.status_code for r in responses] == [200, 200, 401, 200, 404, 201, 404, 413]
    assert replayed.status_code == 201 and again.headers["idempotent-replayed"] == "true"  # still stored
    for response in responses + [replayed, again]:
        _assert_api_headers(response)
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert "strict-transport-security" not in response.headers  # plain http


def test_the_docs_page_cannot_be_framed_and_its_policy_allows_what_it_loads(demo_app):
    with client(demo_app) as c:
        docs = c.get("/api/docs")
    assert docs.status_code == 200
    _assert_api_headers(docs)
    policy = dict(part.strip().split(" ", 1) for part in docs.headers["content-security-policy"].split(";"))
    html = docs.text
    inline = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    assert inline, "the docs page has its inline start-up script"
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"].split()
    for src in re.findall(r'<script src="([^"]+)"', html):
        assert f"{urlsplit(src).scheme}://{urlsplit(src).netloc}" in policy["script-src"].split()
    for href in re.findall(r'<link type="text/css" rel="stylesheet" href="([^"]+)"', html):
        assert f"{urlsplit(href).scheme}://{urlsplit(href).netloc}" in policy["style-src"].split()
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["connect-src"] == "'self'"  # Swagger UI fetches the document and tries requests on us only
    assert policy["frame-ancestors"] == "'none'" and policy["default-src"] == "'none'"


def test_hsts_only_over_https(demo_app):
    with client(demo_app) as c:
        http_api, http_web = c.get(f"{API}/health"), c.get("/login")
        spoofed = c.get(f"{API}/health", headers={"X-Forwarded-Proto": "https"})  # not trusted by default
    with web_client(demo_app, base_url="https://testserver") as c:
        https = [c.get(f"{API}/health"), c.get("/login"), c.get("/static/app.css"), c.get("/api/docs")]
    for response in (http_api, http_web, spoofed):
        assert "strict-transport-security" not in response.headers
    for response in https:
        assert response.headers["strict-transport-security"] == "max-age=31536000", response.request.url


def test_a_forwarded_proto_counts_only_when_the_setting_trusts_it(demo_app):
    demo_app.settings = dataclasses.replace(demo_app.settings, trust_forwarded_proto=True)
    with client(demo_app) as c:
        forwarded = [
            c.get(f"{API}/health", headers={"X-Forwarded-Proto": "https"}),
            c.get("/login", headers={"X-Forwarded-Proto": "https"}),
            c.get(f"{API}/health", headers={"X-Forwarded-Proto": "http, https"}),
        ]  # our proxy's is last
        plain = [
            c.get(f"{API}/health"),
            c.get(f"{API}/health", headers={"X-Forwarded-Proto": "http"}),
            c.get(f"{API}/health", headers={"X-Forwarded-Proto": "https, http"}),
        ]
    for response in forwarded:
        assert response.headers["strict-transport-security"] == "max-age=31536000"
    for response in plain:
        assert "strict-transport-security" not in response.headers


def test_an_idempotent_post_is_limited_by_the_setting_not_by_a_fixed_megabyte(demo_app, tokens):
    """The Idempotency-Key middleware reads the body itself: its limit is CONTINUITY_MAX_BODY_BYTES too."""
    demo_app.settings = dataclasses.replace(demo_app.settings, max_body_bytes=3 * LIMIT)
    raw = json.dumps(CUSTOMER).encode()
    big = raw[:-1] + b" " * (LIMIT + LIMIT // 2) + b"}"  # 1.5 MB of valid JSON, within the 3 MB setting
    headers = {**bearer(tokens["agent"]), "Content-Type": "application/json", "Idempotency-Key": "big-1"}
    with client(demo_app) as c:
        created = c.post(f"{API}/customers", content=big, headers=headers)
        assert created.status_code == 201, created.text[:300]
        replayed = c.post(f"{API}/customers", content=big, headers=headers)
        assert replayed.status_code == 201 and replayed.headers["idempotent-replayed"] == "true"
        assert replayed.json() == created.json()
