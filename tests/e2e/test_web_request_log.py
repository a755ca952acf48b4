"""A card number that reaches the server in a URL (a search typed with JavaScript off) is written to
no log: `continuity serve` turns uvicorn's access log off and the request log keeps the path only."""

from __future__ import annotations

import httpx
from web_support import AGENT, WebServer, web_server  # noqa: F401

CARD = "4111111111111111"


def test_a_card_number_in_a_query_string_is_not_logged(web_server: WebServer) -> None:  # noqa: F811
    with httpx.Client(base_url=web_server.url, follow_redirects=True) as client:
        login_page = client.get("/login")
        token = login_page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"username": AGENT[0], "password": AGENT[1], "csrf_token": token})
        answer = client.get("/", params={"q": CARD})
        assert answer.status_code == 422  # refused, not searched
        assert "looks like a card number" in answer.text
        assert CARD not in answer.text
        client.get("/api/v1/customers", params={"q": CARD})
    web_server.stop()  # flush and close the server's output before reading it
    logged = web_server.output.read_text() + (web_server.log_file.read_text() if web_server.log_file.exists() else "")
    assert "GET / " in logged or "GET /" in logged, "the request log should show the request (path only)"
    assert CARD not in logged
