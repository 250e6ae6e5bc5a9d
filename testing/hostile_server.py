"""A hostile HTTP server on 127.0.0.1: any status, headers and body, and answers that never end.

Tests and the hostile drill point the real CLI at it. Each request is answered by a
``Reply`` chosen by a function of the request (or taken in turn from a list). Besides
plain answers it can send a gzip bomb, an endless chunked body, a body that trickles
one byte at a time, or close the connection without a word. It serves only loopback,
and it stops by itself after ``max_seconds`` whatever its clients do. A client that hangs
up on an answer (as a bounded client does on purpose) is counted in ``hung_up``, not
printed as a traceback; any other error in a handler still is.
"""

from __future__ import annotations

import gzip
import json
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, TypeAlias

Mode = Literal["plain", "gzip-bomb", "endless", "trickle", "drop"]


@dataclass(frozen=True)
class Reply:
    """One answer: status, headers and body (bytes, text, or a value sent as JSON)."""

    status: int = 200
    body: Any = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    mode: Mode = "plain"
    trickle_seconds: float = 1.0  # mode "trickle": the pause between two bytes
    bomb_bytes: int = 64 * 1024 * 1024  # mode "gzip-bomb": the size once decompressed

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8", "surrogatepass")
        return json.dumps(self.body).encode()

    def content_type(self) -> str:
        if "Content-Type" in self.headers:
            return self.headers["Content-Type"]
        return "application/json" if not isinstance(self.body, bytes | str) else "text/plain"


@dataclass(frozen=True)
class Seen:
    """A request as the server got it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Responder = Callable[[Seen], Reply]
Address: TypeAlias = tuple[str, int]
_BULK = {"clients": "clients", "cases": "cases", "case_lists": "lists"}  # path -> answer key


@lru_cache(maxsize=4)
def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped: a few tens of kilobytes that expand past any bound."""
    return gzip.compress(b"\0" * size, compresslevel=9)


class HostileServer:
    """A running server: its URL (ending in /v1), the requests it got, and a stop switch."""

    def __init__(self, respond: Responder | Sequence[Reply], *, max_seconds: float) -> None:
        if not callable(respond):
            replies = list(respond)
            turn = iter(range(10**9))

            def respond(_seen: Seen) -> Reply:
                return replies[next(turn) % len(replies)]

        self.respond: Responder = respond
        self.requests: list[Seen] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.hung_up = 0  # connections the client reset or closed while being answered
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler(self), on_hang_up=self._hang_up)
        self._timer = threading.Timer(max_seconds, self.stop)
        self._timer.daemon = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> HostileServer:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        self._timer.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()

    def seen(self, seen: Seen) -> None:
        with self._lock:
            self.requests.append(seen)

    def _hang_up(self) -> None:
        with self._lock:
            self.hung_up += 1


class _QuietServer(ThreadingHTTPServer):
    """Prints no traceback for a client that hung up; every other handler error still shows."""

    daemon_threads = True

    def __init__(
        self,
        address: Address,
        handler: type[BaseHTTPRequestHandler],
        *,
        on_hang_up: Callable[[], None],
    ) -> None:
        super().__init__(address, handler)
        self.on_hang_up = on_hang_up

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Called from the except block in which the handler failed.
        if isinstance(sys.exception(), ConnectionResetError | BrokenPipeError):
            self.on_hang_up()  # expected: the drills' clients hang up on purpose
            return
        super().handle_error(request, client_address)


@contextmanager
def hostile_server(
    respond: Responder | Sequence[Reply], *, max_seconds: float = 300.0
) -> Iterator[HostileServer]:
    """Serve on 127.0.0.1 (a free port) until the block ends or ``max_seconds`` pass."""
    server = HostileServer(respond, max_seconds=max_seconds).start()
    try:
        yield server
    finally:
        server.stop()


def _handler(server: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(self.command, self.path, dict(self.headers.items()), body)
            server.seen(seen)
            self._reply(server.respond(seen))

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        def _reply(self, reply: Reply) -> None:
            if reply.mode == "drop":
                self.close_connection = True
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                if name != "Content-Type":
                    self.send_header(name, value)
            self.send_header("Content-Type", reply.content_type())
            if reply.mode == "endless":
                self._endless()
            elif reply.mode == "gzip-bomb":
                payload = gzip_bomb(reply.bomb_bytes)
                self.send_header("Content-Encoding", "gzip")
                self._whole(payload)
            elif reply.mode == "trickle":
                self._trickle(reply.payload(), reply.trickle_seconds)
            else:
                self._whole(reply.payload())

        def _whole(self, payload: bytes) -> None:
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            try:
                self.wfile.write(payload)
            except OSError:  # a bounded client hangs up on a body it will not read
                self.close_connection = True

        def _endless(self) -> None:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.close_connection = True
            chunk = b"[" * 65536
            frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
            try:
                while not server.stopping.is_set():
                    self.wfile.write(frame)
            except OSError:
                pass  # the client hung up: what a bounded client does

        def _trickle(self, payload: bytes, pause: float) -> None:
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.close_connection = True
            try:
                for byte in payload:
                    if server.stopping.wait(pause):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            except OSError:
                pass

    return Handler


def kayse_error(status: int, message: str = "refused") -> Reply:
    """An error in Kayse's shape."""
    return Reply(status, {"error": "error", "message": message})


class KayseLike:
    """Just enough of Kayse to take a recipe: every create gets a new ID, attach is kept.

    ``dump()`` has the shape of ``sandbox dump`` (``clients``, ``cases``, ``case_lists``,
    ``campaigns``), so that the fault drills' person and audit work against it.
    """

    def __init__(self) -> None:
        self.next_id = 1
        self.tables: dict[str, list[dict[str, Any]]] = {
            "clients": [],
            "cases": [],
            "case_lists": [],
            "campaigns": [],
        }
        self._lock = threading.Lock()

    def __call__(self, seen: Seen) -> Reply:
        return self.answer(seen)

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {table: [dict(row) for row in rows] for table, rows in self.tables.items()}

    def answer(self, seen: Seen, headers: Mapping[str, str] | None = None) -> Reply:
        """Kayse's answer to ``seen`` (keeping what it creates)."""
        parts = seen.path.split("?")[0].strip("/").split("/")[1:]  # without "v1"
        body = seen.json() if seen.method in ("POST", "PUT", "PATCH") and seen.body else None
        sent = dict(headers or {})
        table = parts[0] if parts and parts[0] in self.tables else None
        if table and seen.method == "POST" and len(parts) == 1 and isinstance(body, dict):
            return Reply(201, {"id": self._new(table, body)}, sent)
        if table and seen.method == "POST" and parts[1:] == ["bulk"]:
            key = _BULK.get(table, "")
            items = body.get(key) if isinstance(body, dict) else None
            if not isinstance(items, list):
                return Reply(400, {"error": "bad request", "message": "no items"}, sent)
            out = []
            for item in items:
                record_id = item.get("id") or self._new(table, item)
                out.append({"id": record_id, "action": "created"} if key == "lists" else
                           {**item, "id": record_id})  # fmt: skip
            return Reply(200, {key: out}, sent)
        if seen.method == "GET" and len(parts) == 2 and parts[1].isdigit():
            return Reply(200, {"id": int(parts[1])}, sent)
        if table == "case_lists" and parts[2:] == ["attach"] and isinstance(body, dict):
            self._attach(int(parts[1]), body.get("include_ids") or [])
            return Reply(200, {"action": "attach"}, sent)
        if seen.method in ("PUT", "PATCH") or (seen.method == "POST" and len(parts) == 4):
            return Reply(200, {"action": "ok"}, sent)
        return Reply(404, {"error": "not found", "message": "no such path"}, sent)

    def _new(self, table: str, body: Mapping[str, Any]) -> int:
        with self._lock:
            record_id = self.next_id
            self.next_id += 1
            row = {"id": record_id, "case_ids": []}
            row.update({k: body.get(k) for k in ("external_source_id", "name")})
            self.tables[table].append(row)
        return record_id

    def _attach(self, list_id: int, case_ids: list[int]) -> None:
        with self._lock:
            for row in self.tables["case_lists"]:
                if row["id"] == list_id:
                    row["case_ids"] = sorted(set(row["case_ids"]) | set(case_ids))
