"""Small servers that are not Kayse, for tests of what the tool makes of them.

``foreign_server(mode)`` serves on 127.0.0.1 in a thread and counts every request by
method, so that a test can say what the tool sent:

- ``html``: a web site: every path answers 200 with an HTML page;
- ``json404``: a JSON API that is not Kayse: every path answers 404 ``{"detail": ...}``;
- ``kayse-seconds``: Kayse-shaped answers whose ``X-RateLimit-Reset`` is seconds
  remaining, whose error messages carry terminal escape sequences and echo the key.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ESCAPES = "\x1b[2J\x1b]0;owned\x07\x1b[31m"  # clear screen, set title, red


@dataclass
class ForeignServer:
    """Where it listens and what it was sent."""

    url: str
    methods: Counter[str] = field(default_factory=Counter)
    paths: list[str] = field(default_factory=list)


def _handler(mode: str, seen: ForeignServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            seen.methods[self.command] += 1
            seen.paths.append(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if mode == "html":
                self._send(200, "text/html; charset=utf-8", b"<html><body>Welcome</body></html>")
            elif mode == "json404":
                self._send(404, "application/json", b'{"detail": "Not Found"}')
            else:
                self._kayse()

        def _kayse(self) -> None:
            path = self.path.split("?")[0]
            rate = {"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "480",
                    "X-RateLimit-Reset": "1799"}  # fmt: skip
            body: Any
            if path == "/v1/metadata/objects":
                body, status = [{"name": "clients", "fields": []}], 200
            elif path == "/v1/case_lists":
                body, status = {"data": [], "page": 1, "total": 0}, 200
            else:
                key = self.headers.get("X-API-KEY", "")  # echoed, as a careless proxy does
                body = {"error": "not found", "message": f"no such thing{ESCAPES} ({key})"}
                status = 404
            self._send(status, "application/json", json.dumps(body).encode(), rate)

        def _send(
            self, status: int, kind: str, body: bytes, extra: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    return Handler


@contextmanager
def foreign_server(mode: str) -> Iterator[ForeignServer]:
    """Serve ``mode`` on a free port of 127.0.0.1 until the block ends."""
    seen = ForeignServer("")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(mode, seen))
    httpd.daemon_threads = True
    seen.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield seen
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
