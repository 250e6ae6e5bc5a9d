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
import ipaddress
import json
import random
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from kayse_pipeline import __version__
from kayse_pipeline.api.endpoints import ENDPOINTS, Endpoint
from kayse_pipeline.api.pacing import Pacer
from kayse_pipeline.api.stop import Stop
from kayse_pipeline.bounds import JSONBoundsError, loads_json
from kayse_pipeline.errors import (
    ApiError,
    AuthError,
    ConfigError,
    OutcomeUnknownError,
    StopRequested,
    TransportError,
)

DEFAULT_API_URL = "https://public-api.kayse.ai/v1"
USER_AGENT = f"kayse-pipeline/{__version__}"
KEY_HEADER = "X-API-KEY"
URL_HINT = "is --api-url (or KAYSE_API_URL) the Kayse Public API, ending in /v1?"
# Far above any Kayse answer (a bulk answer of 500 full records is about 500 KB).
MAX_ANSWER_BYTES = 8 * 1024 * 1024
# The longest one request may take, answer included (httpx's timeouts are per read).
DEFAULT_DEADLINE = 120.0
# The longest server text quoted in a message.
MAX_QUOTED = 300

# Statuses after which an idempotent request is sent again.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Statuses that prove Kayse did not act on a write (so even a create may be repeated).
NOT_ACTED_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts and in total time."""

    attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    max_elapsed_seconds: float = 180.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2**attempt))


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


def check_api_url(url: str) -> str:
    """Refuse URLs that are not http(s), and plain http to anything but this machine."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--api-url must be an http(s) URL, got {url!r}")
    if parts.username or parts.password:
        # Not echoed: the URL would be printed and saved in the state, and it holds a secret.
        raise ConfigError(
            "--api-url must not hold a user name or password; the key goes in KAYSE_API_KEY"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"refusing to send the API key over plain http to {parts.hostname}; use https"
        )
    return url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class RawAnswer:
    """An answer as it came: status, headers and at most a bounded part of the body."""

    status: int
    headers: httpx.Headers
    body: bytes
    truncated: bool


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


class AnswerUnreadable(httpx.TransportError):
    """An answer this client will not read whole: too large, too slow, or undecodable."""


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer read whole, within the size and time bounds."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def reason_phrase(self) -> str:
        return httpx.codes.get_reason_phrase(self.status_code)

    def json(self) -> Any:
        """The body as JSON within bounds (nesting, number sizes); ValueError otherwise."""
        return loads_json(self.content.decode("utf-8"))


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


def _read_body(response: httpx.Response, started: float, seconds: float, cap: int) -> bytes:
    """The decoded body, refused past ``cap`` bytes (compressed or not) or ``seconds``."""
    decoder = _Decoder(response.headers.get("Content-Encoding", ""), cap)
    try:  # an in-process transport (the sandbox, a test's) hands over a body already read
        chunks: Iterator[bytes] = iter([response.content])
    except httpx.ResponseNotRead:
        chunks = response.iter_raw()
    received = 0
    for chunk in chunks:
        received += len(chunk)
        if received > cap:
            raise AnswerUnreadable(f"the answer is larger than {cap // 1024 // 1024} MiB")
        decoder.feed(chunk)
        if time.monotonic() - started > seconds:
            raise AnswerUnreadable(f"no whole answer within {seconds:g} s")
    return decoder.finish()


class _Decoder:
    """gzip / deflate decoding that never expands past the size bound (gzip bombs)."""

    def __init__(self, encoding: str, cap: int) -> None:
        names = [n.strip().lower() for n in encoding.split(",") if n.strip()]
        names = [n for n in names if n != "identity"]
        if len(names) > 1 or (names and names[0] not in ("gzip", "x-gzip", "deflate")):
            raise AnswerUnreadable(
                f"the answer is in an encoding this client does not read ({quote(encoding)})"
            )
        # wbits 47 reads both the gzip and the zlib header (what "deflate" means in HTTP).
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32) if names else None
        self._parts: list[bytes] = []
        self._size = 0
        self._cap = cap
        self._fed = 0  # compressed bytes fed in

    def feed(self, data: bytes) -> None:
        if self._zlib is None:
            self._add(data)
            return
        self._fed += len(data)
        try:
            while data and not self._zlib.eof:
                out = self._zlib.decompress(data, self._cap - self._size + 1)
                self._add(out)
                if not out and self._zlib.unconsumed_tail == data:
                    break
                data = self._zlib.unconsumed_tail
        except zlib.error:
            raise AnswerUnreadable("the answer's compressed body is damaged") from None

    def finish(self) -> bytes:
        if self._zlib is not None and self._fed:
            try:
                self._add(self._zlib.flush())
            except zlib.error:
                self._fed = -1
            if self._fed < 0 or not self._zlib.eof:  # damaged, or cut short
                raise AnswerUnreadable("the answer's compressed body is damaged")
        return b"".join(self._parts)

    def _add(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._cap:
            raise AnswerUnreadable(
                f"the answer is larger than {self._cap // 1024 // 1024} MiB once decompressed"
            )
        self._parts.append(data)


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
                reason = f"cannot connect to {self.base_url} ({_connect_failure(exc)})"
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
                reason = f"{endpoint.method} {endpoint.path}: {_describe(exc)}"
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
                    return _json(response, endpoint, acted=not safe)
                if status == 429:
                    # Waited out, never fatal: the pacer bounds the wait by --max-wait.
                    self.trace.faults += 1
                    with _not_sent():
                        self.pacer.after_429(response.headers)
                    continue
                if status not in RETRY_STATUSES and not _speaks_json(response):
                    # An HTML 404 or 405 is a web server, not Kayse: no record can be at fault.
                    raise TransportError(_not_kayse(self.base_url, endpoint, response))
                error = _api_error(response, endpoint, content, self._secrets)
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
                f"cannot connect to {self.base_url} ({_connect_failure(exc)})"
            ) from None
        except (httpx.LocalProtocolError, httpx.UnsupportedProtocol):
            raise TransportError(
                "the request could not be sent; nothing left this machine"
            ) from None
        except httpx.TransportError as exc:
            raise TransportError(_describe(exc)) from None
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
                body = _read_body(response, started, self.deadline, self.max_answer_bytes)
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
            f"(headers sent: {_redacted(self._http.headers)}; {len(answer.content)} bytes)"
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


def check_api_key(key: str) -> str:
    """The key as sent: surrounding whitespace dropped; anything a header cannot carry refused.

    httpx and h11 quote an illegal header value in their exceptions, so a bad key must
    never reach them.
    """
    key = key.strip()
    if not key or any(not 0x21 <= ord(char) <= 0x7E for char in key):
        raise ConfigError(
            "KAYSE_API_KEY holds characters that an HTTP header cannot carry (spaces, line "
            "breaks or non-ASCII letters); copy the key from Kayse again"
        )
    return key


def _connect_failure(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "no answer to the connection in time"
    if isinstance(exc, httpx.PoolTimeout):
        return "no free connection in time"
    return "connection refused or host not found"


def _speaks_json(response: Answer) -> bool:
    """Whether an answer is Kayse's kind of answer: a JSON body, or none at all."""
    if not response.content:
        return True
    try:
        response.json()
    except ValueError:
        return False
    return True


def _not_kayse(base_url: str, endpoint: Endpoint, response: Answer) -> str:
    kind = response.headers.get("Content-Type", "no content type").split(";")[0]
    return (
        f"{base_url} answered {endpoint.method} {endpoint.path} with HTTP "
        f"{response.status_code} and {kind}, not Kayse's JSON: {URL_HINT}"
    )


def _redacted(headers: httpx.Headers) -> str:
    shown = {
        k: ("[redacted]" if k.lower() == KEY_HEADER.lower() else v) for k, v in headers.items()
    }
    return ", ".join(f"{k}: {v}" for k, v in sorted(shown.items()))


def _describe(exc: httpx.TransportError) -> str:
    if isinstance(exc, AnswerUnreadable):
        return str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    return "the connection was dropped without an answer"


def _json(response: Answer, endpoint: Endpoint, *, acted: bool) -> Any:
    """The answer's JSON; a success that is not JSON leaves a create's outcome in doubt."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        kind = response.headers.get("Content-Type", "no content type").split(";")[0]
        what = (
            f"JSON beyond this client's bounds ({exc})"
            if isinstance(exc, JSONBoundsError)
            else (f"not JSON ({kind})")
        )
        message = f"{endpoint.method} {endpoint.path}: the answer is {what}; {URL_HINT}"
        # The server said it succeeded: whatever it is, it may have made the records.
        raise (OutcomeUnknownError if acted else TransportError)(message) from exc


def _api_error(
    response: Answer,
    endpoint: Endpoint,
    sent: bytes | None,
    secrets: tuple[str, ...] = (),
) -> ApiError:
    message = ""
    shaped = False
    try:
        doc = response.json()
        if isinstance(doc, dict):
            message = str(doc.get("message") or doc.get("error") or "")
            shaped = isinstance(doc.get("error"), str) and isinstance(doc.get("message"), str)
    except ValueError:
        pass
    if not message:
        message = response.reason_phrase or "no message"
    message = scrub(message, sent)
    for secret in secrets:  # a proxy or a foreign server may echo the headers it got
        message = message.replace(secret, "[redacted]")
    message = quote(message)
    cls = AuthError if response.status_code == 401 else ApiError
    if cls is AuthError:
        message += " (check KAYSE_API_KEY: the key is missing, wrong or disabled)"
    return cls(
        response.status_code, message, method=endpoint.method, path=endpoint.path, shaped=shaped
    )


def quote(text: str) -> str:
    """Server text as one bounded line: whitespace runs become one space, the rest is cut."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + "\u2026"


def scrub(message: str, sent: bytes | None) -> str:
    """Remove from an error message any text value that the request carried (personal data)."""
    if not sent:
        return message
    try:
        values = _strings(json.loads(sent))
    except ValueError:
        return message
    for value in sorted(values, key=len, reverse=True):
        if len(value) >= 3 and value in message:
            message = message.replace(value, "[redacted]")
    return message


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()
