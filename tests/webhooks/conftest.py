"""A webhook receiver on this machine, recording what it is sent and answering as told."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.slas.conftest import assignment_sla, response_sla  # noqa: F401


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    answers: deque = field(default_factory=deque)  # status codes to answer, in order; then 200
    delay: float = 0.0  # seconds to wait before answering (a hanging receiver)
    location: str = ""  # with a 3xx answer

    def bodies(self) -> list[bytes]:
        return [request.body for request in self.received]


@pytest.fixture
def receiver(settings):
    """A receiver at http://127.0.0.1:<port>/hook, which webhooks may reach in these tests."""
    state: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver = state["receiver"]
            receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if receiver.delay:
                time.sleep(receiver.delay)
            code = receiver.answers.popleft() if receiver.answers else 200
            self.send_response(code)
            if receiver.location:
                self.send_header("Location", receiver.location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    yield state["receiver"]
    server.shutdown()
    server.server_close()
