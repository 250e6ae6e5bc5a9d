"""The Kayse Public API client: endpoints, authentication, pacing and retries in one place.

Every path the tool calls is in ``api.endpoints.ENDPOINTS``. Each endpoint has a safety class
that decides what may be repeated: reads and idempotent writes are retried on
429, 5xx, timeouts and dropped connections; a create is repeated only when Kayse
certainly did not act on it (the connection never opened, 429, 503). When a
create's outcome cannot be known, ``OutcomeUnknownError`` says so and the caller
stops trusting the records it carried.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from kayse_pipeline import __version__
from kayse_pipeline.api.answer import (
    KEY_HEADER,
    MAX_ANSWER_BYTES,
    Answer,
    AnswerUnreadable,
    RawAnswer,
    answer_json,
    api_error,
    connect_failure,
    describe_failure,
    not_kayse,
    read_body,
    redacted_headers,
    speaks_json,
)
from kayse_pipeline.api.endpoints import ENDPOINTS
from kayse_pipeline.api.pacing import Pacer
from kayse_pipeline.api.settings import RetryPolicy, check_api_key
from kayse_pipeline.api.stop import Stop
from kayse_pipeline.errors import (
    OutcomeUnknownError,
    StopRequested,
    TransportError,
)

USER_AGENT = f"kayse-pipeline/{__version__}"
# The longest one request may take, answer included (httpx's timeouts are per read).
DEFAULT_DEADLINE = 120.0

# Statuses after which an idempotent request is sent again.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Statuses that prove Kayse did not act on a write (so even a create may be repeated).
NOT_ACTED_STATUSES = frozenset({429, 503})


@dataclass
class Trace:
    """What the client did, for summaries and for ``--debug`` (never bodies, never the key)."""

    requests: int = 0
    retries: int = 0
    faults: int = 0
    log: Callable[[str], None] | None = None
    by_endpoint: dict[str, int] = field(default_factory=dict)

    def say(self, line: str) -> None:
        if self.log is not None:
            self.log(line)


class NotSentInterrupt(KeyboardInterrupt):
    """Ctrl-C while waiting to send: the request in hand certainly did not reach Kayse."""


@contextmanager
def _not_sent() -> Iterator[None]:
    # Waits come before a send, or after an attempt Kayse did not act on (429, 503, no
    # connection), so an interrupt here leaves nothing in doubt.
    try:
        yield
    except NotSentInterrupt:
        raise
    except KeyboardInterrupt as exc:
        raise NotSentInterrupt() from exc


class _Watchdog:
    """Cuts the connection off when a request outlives its deadline (reads may trickle)."""

    def __init__(self, client: KayseClient, seconds: float) -> None:
        self.fired = False
        self._client = client
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        self._client.cut_off()

    def cancel(self) -> None:
        self._timer.cancel()


class KayseClient:
    """Sends one documented call at a time, paced by the rate-limit headers."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        transport: httpx.BaseTransport | None = None,
        pacer: Pacer | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        deadline: float = DEFAULT_DEADLINE,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        trace: Trace | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        stop: Stop | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.pacer = pacer or Pacer(stop=stop)
        self.stop = stop
        # Over the network the exchange runs beside the main thread, which can then stop
        # waiting for it after the stop's grace; an in-process transport answers at once.
        self._threaded = stop is not None and transport is None
        self.retry = retry or RetryPolicy()
        self.trace = trace or Trace()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.deadline = deadline
        self.max_answer_bytes = max_answer_bytes
        self._socket: socket.socket | None = None  # the connection in use, for the watchdog
        # Only encodings this client decodes itself, within the size bound.
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
        }
        self._secrets: tuple[str, ...] = ()
        if api_key:
            headers[KEY_HEADER] = check_api_key(api_key)
            self._secrets = (api_key, headers[KEY_HEADER])
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(min(timeout, deadline), connect=min(timeout, deadline, 10.0)),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KayseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self,
        name: str,
        *,
        id: int | None = None,
        body: Any = None,
        params: Mapping[str, str | int] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one call and return its JSON answer; ``idempotent`` overrides the endpoint's class.

        (A bulk upsert whose items all carry IDs only updates, so it may be repeated.)
        """
        endpoint = ENDPOINTS[name]
        path = endpoint.path.format(id=id) if "{id}" in endpoint.path else endpoint.path
        safe = endpoint.safety != "create" if idempotent is None else idempotent
        content = json.dumps(body).encode() if body is not None else None
        started = time.monotonic()
        attempt = 0
        while True:
            self._check_stop()
            with _not_sent():
                self.pacer.before_request()
            self._check_stop()
            try:
                response = self._send(endpoint.method, path, content, params, safe)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The request never left this machine: repeating it is safe for any call.
                reason = f"cannot connect to {self.base_url} ({connect_failure(exc)})"
                if not self._may_retry(attempt, started):
                    raise TransportError(
                        f"{reason}; gave up after {attempt + 1} attempts: is the API URL right, "
                        "and is the network up?"
                    ) from None  # httpx's text may quote the request; the reason says enough
            except (httpx.LocalProtocolError, httpx.UnsupportedProtocol) as exc:
                # Refused by this machine before sending: repeating it would fail the same way.
                raise TransportError(
                    f"{endpoint.method} {endpoint.path}: the request could not be sent "
                    f"({type(exc).__name__}); nothing reached Kayse"
                ) from None  # httpx's text quotes the offending header, which may be the key
            except httpx.TransportError as exc:
                reason = f"{endpoint.method} {endpoint.path}: {describe_failure(exc)}"
                if not safe:
                    raise OutcomeUnknownError(
                        f"{reason} after the request was sent; Kayse may or may not have acted"
                    ) from exc
                if not self._may_retry(attempt, started):
                    raise TransportError(f"{reason}; gave up after {attempt + 1} attempts") from exc
            else:
                status = response.status_code
                if status != 429:  # a 429 is counted by after_429: refusals in a row are bounded
                    self.pacer.observe(response.headers)
                if response.is_success:
                    return answer_json(response, endpoint, acted=not safe)
                if status == 429:
                    # Waited out, never fatal: the pacer bounds the wait by --max-wait.
                    self.trace.faults += 1
                    with _not_sent():
                        self.pacer.after_429(response.headers)
                    continue
                if status not in RETRY_STATUSES and not speaks_json(response):
                    # An HTML 404 or 405 is a web server, not Kayse: no record can be at fault.
                    raise TransportError(not_kayse(self.base_url, endpoint, response))
                error = api_error(response, endpoint, content, self._secrets)
                if status not in RETRY_STATUSES:
                    raise error
                self.trace.faults += 1
                if not safe and status not in NOT_ACTED_STATUSES:
                    raise OutcomeUnknownError(
                        f"{error}; Kayse may or may not have created the records"
                    ) from error
                if not self._may_retry(attempt, started):
                    raise error
            self.trace.retries += 1
            with _not_sent():
                delay = self._backoff(attempt, started)
                if self.stop is not None:
                    self.stop.sleep(delay)
                else:
                    self._sleep(delay)
            attempt += 1

    def read_once(
        self,
        name: str,
        *,
        id: int | None = None,
        params: Mapping[str, str | int] | None = None,
        limit: int = 1 << 20,
    ) -> RawAnswer:
        """Send one read exactly once (no pacing, no retry) and keep the raw answer.

        For ``doctor``, which must look at statuses and headers itself and send no more
        than it counted. At most ``limit`` bytes of the body are read.
        """
        endpoint = ENDPOINTS[name]
        if endpoint.safety != "read":
            raise ValueError(f"{name} is not a read")  # a programming error, never a user's
        path = endpoint.path.format(id=id) if "{id}" in endpoint.path else endpoint.path
        self.trace.requests += 1
        key = f"{endpoint.method} {endpoint.path}"
        self.trace.by_endpoint[key] = self.trace.by_endpoint.get(key, 0) + 1
        try:
            with self._http.stream(endpoint.method, path, params=params) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk[: limit + 1 - len(body)]
                    if len(body) > limit:
                        break
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransportError(
                f"cannot connect to {self.base_url} ({connect_failure(exc)})"
            ) from None
        except (httpx.LocalProtocolError, httpx.UnsupportedProtocol):
            raise TransportError(
                "the request could not be sent; nothing left this machine"
            ) from None
        except httpx.TransportError as exc:
            raise TransportError(describe_failure(exc)) from None
        self.trace.say(f"{endpoint.method} {path} -> {response.status_code} (read once)")
        self.pacer.observe(response.headers)
        return RawAnswer(
            response.status_code, response.headers, bytes(body[:limit]), len(body) > limit
        )

    def _check_stop(self) -> None:
        if self.stop is not None and self.stop.requested:
            raise StopRequested(f"{self.stop.reason} received: nothing more was sent")

    def _send(
        self,
        method: str,
        path: str,
        content: bytes | None,
        params: Mapping[str, Any] | None,
        safe: bool,
    ) -> Answer:
        self.trace.requests += 1
        key = f"{method} {path}"
        self.trace.by_endpoint[key] = self.trace.by_endpoint.get(key, 0) + 1
        headers = {"Content-Type": "application/json"} if content is not None else None
        started = time.monotonic()
        watchdog = _Watchdog(self, self.deadline)

        def exchange() -> Answer:
            with self._http.stream(
                method,
                path,
                content=content,
                params=params,
                headers=headers,
                extensions={"trace": self._on_trace},
            ) as response:
                body = read_body(response, started, self.deadline, self.max_answer_bytes)
                return Answer(response.status_code, response.headers, body)

        try:
            answer = self._exchange(exchange, f"{method} {path}", safe)
        except httpx.TransportError as exc:
            self.trace.faults += 1
            self.trace.say(f"{method} {path} -> {type(exc).__name__}")
            if watchdog.fired and not isinstance(exc, AnswerUnreadable):
                raise AnswerUnreadable(f"no whole answer within {self.deadline:g} s") from None
            raise
        finally:
            watchdog.cancel()
        elapsed = time.monotonic() - started
        self.trace.say(
            f"{method} {path} -> {answer.status_code} in {elapsed:.3f}s "
            f"(headers sent: {redacted_headers(self._http.headers)}; {len(answer.content)} bytes)"
        )
        return answer

    def _exchange(self, exchange: Callable[[], Answer], what: str, safe: bool) -> Answer:
        """Run one exchange; after a stop, wait for it only as long as the stop's grace."""
        if not self._threaded or self.stop is None:
            return exchange()
        done = threading.Event()
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["answer"] = exchange()
            except BaseException as exc:  # handed to the waiting thread as it is
                box["error"] = exc
            finally:
                done.set()

        # A daemon thread: an abandoned exchange must not keep the process alive.
        threading.Thread(target=run, name="kayse-request", daemon=True).start()
        if not self.stop.wait_for(done):
            self.trace.say(f"{what} -> abandoned ({self.stop.reason})")
            self.cut_off()  # the abandoned exchange ends at once instead of lingering
            if safe:
                raise StopRequested(
                    f"{self.stop.reason} received before Kayse answered {what}; "
                    "the next run sends it again"
                )
            raise OutcomeUnknownError(
                f"{what}: {self.stop.reason} received before Kayse answered; "
                "Kayse may or may not have acted"
            )
        if "error" in box:
            raise box["error"]
        answer: Answer = box["answer"]
        return answer

    def cut_off(self) -> None:
        """End the exchange in use: the connection is shut down under it."""
        sock = self._socket
        if sock is not None:
            # The plain socket's shutdown, not TLS's: it wakes a blocked read at once.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def _on_trace(self, event: str, info: Mapping[str, Any]) -> None:
        """Remember each new connection's socket, so that the watchdog can cut it off."""
        if event == "connection.connect_tcp.complete":
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            self._socket = sock if isinstance(sock, socket.socket) else None

    def _may_retry(self, attempt: int, started: float) -> bool:
        if attempt + 1 >= self.retry.attempts:
            return False
        return time.monotonic() - started < self.retry.max_elapsed_seconds

    def _backoff(self, attempt: int, started: float) -> float:
        """The jittered delay before the next attempt, cut so the total stays within bounds."""
        left = self.retry.max_elapsed_seconds - (time.monotonic() - started)
        return max(0.0, min(self.retry.delay(attempt, self._rng), left))
