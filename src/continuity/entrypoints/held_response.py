"""An ASGI ``send`` that holds a response whole until the app is done with it, so that a middleware can
read the body before anything leaves: the docs page's policy names the hash of its inline script
(web/security.py), and an Idempotency-Key response is stored before it is sent (api/idempotency.py)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import Message, Send


class HeldResponse:
    def __init__(self) -> None:
        self.start: Message = {}
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))

    @property
    def status(self) -> int:
        status: int = self.start.get("status", 500)
        return status

    @property
    def headers(self) -> Headers:
        return Headers(raw=self.start.get("headers", []))

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    async def send_to(self, send: Send) -> None:
        """The held response, in one body message (the start message as it is now)."""
        await send(self.start)
        await send({"type": "http.response.body", "body": self.body, "more_body": False})
