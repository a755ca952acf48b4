"""A loopback HTTP proxy between the Stripe adapter and localstripe that injects faults on chosen requests.

Faults (each taken by the first request it matches, once): ``drop`` forwards the request and throws the
response away (the client sees the connection close: it may have happened), ``reset`` resets the
connection before forwarding (it did not happen), ``delay`` waits ``seconds`` before forwarding, ``busy``
answers 429 without forwarding, ``fail`` forwards and answers 500 instead of the response. Every request
is logged with whether it was forwarded and its key.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


@dataclass
class Fault:
    kind: str  # drop | reset | delay | busy | fail
    method: str
    path: str  # the request's path (without the query)
    seconds: float = 0.0
    times: int = 1


@dataclass
class Seen:
    method: str
    path: str
    key: str
    forwarded: bool
    fault: str = ""
    body: str = ""  # the form-encoded request body


@dataclass
class FaultProxy:
    upstream: str
    faults: list[Fault] = field(default_factory=list)
    log: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
                pass

            def do_GET(self) -> None:
                proxy.handle(self)

            do_POST = do_DELETE = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def sent(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.log if s.method == method and s.path.split("?")[0] == path]

    def _take(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and path.split("?")[0] == fault.path:
                    fault.times -= 1
                    return fault
        return None

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        fault = self._take(h.command, h.path)
        seen = Seen(
            h.command,
            h.path,
            h.headers.get("Idempotency-Key", ""),
            False,
            fault.kind if fault else "",
            body.decode("utf-8", "replace"),
        )
        with self.lock:
            self.log.append(seen)
        if fault and fault.kind == "reset":
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
            h.close_connection = True
            return
        if fault and fault.kind == "busy":
            return _answer(h, 429, b'{"error": {"type": "rate_limit_error", "message": "Too many requests"}}')
        if fault and fault.kind == "delay":
            time.sleep(fault.seconds)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "connection", "content-length")}
        answer = httpx.request(h.command, self.upstream + h.path, headers=headers, content=body, timeout=30)
        seen.forwarded = True
        if fault and fault.kind == "fail":  # forwarded, then a 500 in place of the answer
            return _answer(h, 500, b'{"error": {"type": "api_error", "message": "Something went wrong"}}')
        if fault and fault.kind == "drop":
            h.connection.shutdown(socket.SHUT_RDWR)
            h.close_connection = True
            return
        _answer(h, answer.status_code, answer.content, answer.headers.get("content-type", "application/json"))


def _answer(h: BaseHTTPRequestHandler, status: int, content: bytes, kind: str = "application/json") -> None:
    h.send_response(status)
    h.send_header("Content-Type", kind)
    h.send_header("Content-Length", str(len(content)))
    h.send_header("Connection", "close")
    h.end_headers()
    h.wfile.write(content)
    h.close_connection = True
