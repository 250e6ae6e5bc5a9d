"""The HTTP front door: a threading HTTP/1.1 server that hands requests to a core."""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from kayse_pipeline.errors import SandboxError
from kayse_pipeline.sandbox.core import SandboxCore
from kayse_pipeline.sandbox.routes import PREFIX

MAX_BODY: Final = 16 * 1024 * 1024
_WILDCARDS: Final = ("", "0.0.0.0", "::")


def check_host(host: str, *, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless ``allow_remote``: the sandbox is not secure."""
    if allow_remote:
        return
    addresses: set[str] = set()
    if host not in _WILDCARDS:
        try:
            addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
        except OSError as exc:
            raise SandboxError(f"cannot resolve --host {host}: {exc}") from exc
    loopback = [ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses]
    if not loopback or not all(loopback):
        raise SandboxError(
            f"refusing to listen on {host or 'every address'}: it is not a loopback address, "
            "and the sandbox holds test data behind a test key; pass --allow-remote to do it anyway"
        )


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # an idle keep-alive connection must not hold up the exit
    core: SandboxCore

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up is not an error worth a traceback."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _IPv6Server(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real clients use it
    timeout = 120  # seconds an idle connection is kept
    server: _HTTPServer

    def setup(self) -> None:
        """Send each answer at once: Nagle's algorithm would hold it for the client's ACK."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        try:
            body = self._read_body()
        except ValueError as exc:
            self._send(400, {"Content-Type": "application/json"}, _problem(str(exc)))
            self.close_connection = True
            return
        query: dict[str, str] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(name, value)  # the first value wins, as in httpx.QueryParams
        answer = self.server.core.handle(
            self.command, parts.path, query, dict(self.headers.items()), body
        )
        if answer.delay:
            time.sleep(answer.delay)  # outside the core's lock: other requests go on
        if answer.lost:
            # Committed, and then nothing: the connection closes without a byte of answer.
            self.close_connection = True
            return
        self._send(answer.status, answer.headers, answer.body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit():
            raise ValueError("Content-Length is not a number")
        if int(length) > MAX_BODY:
            raise ValueError(f"request body is larger than {MAX_BODY} bytes")
        return self.rfile.read(int(length))

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise ValueError("malformed chunked request body") from None
            total += size
            if total > MAX_BODY:
                raise ValueError(f"request body is larger than {MAX_BODY} bytes")
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send(self, status: int, headers: Any, body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: stats are at GET /v1/_sandbox/stats."""


def _problem(message: str) -> bytes:
    return json.dumps({"error": "bad request", "message": message}).encode()


class SandboxServer:
    """A core behind a listening socket; bound on construction, so ``url`` has the real port."""

    def __init__(
        self,
        core: SandboxCore,
        host: str = "127.0.0.1",
        port: int = 8750,
        *,
        allow_remote: bool = False,
    ) -> None:
        check_host(host, allow_remote=allow_remote)
        server_class = _IPv6Server if ":" in host else _HTTPServer
        try:
            self._httpd = server_class((host, port), _Handler)
        except OSError as exc:
            raise SandboxError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        self._httpd.core = core
        self.host = host
        self.port = int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL, ending in /v1."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{PREFIX}"

    def serve_forever(self) -> None:
        """Answer requests until ``shutdown`` (from another thread) or Ctrl-C."""
        self._httpd.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        """Stop ``serve_forever``; call from another thread."""
        self._httpd.shutdown()

    def close(self) -> None:
        """Release the socket."""
        self._httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def serve(
    core: SandboxCore,
    host: str = "127.0.0.1",
    port: int = 8750,
    *,
    allow_remote: bool = False,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve a core over HTTP until interrupted; ``on_ready`` gets the URL once listening."""
    with SandboxServer(core, host, port, allow_remote=allow_remote) as server:
        if on_ready is not None:
            on_ready(server.url)
        server.serve_forever()
