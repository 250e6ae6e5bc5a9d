"""The Kayse Public API client: endpoints, authentication, pacing and retries in one place.

Every path the tool calls is in ``ENDPOINTS``. Each endpoint has a safety class
that decides what may be repeated: reads and idempotent writes are retried on
429, 5xx, timeouts and dropped connections; a create is repeated only when Kayse
certainly did not act on it (the connection never opened, 429, 503). When a
create's outcome cannot be known, ``OutcomeUnknownError`` says so and the caller
stops trusting the records it carried.
"""

from __future__ import annotations

import ipaddress
import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from kayse_pipeline import __version__
from kayse_pipeline.api.pacing import Pacer
from kayse_pipeline.errors import (
    ApiError,
    AuthError,
    ConfigError,
    OutcomeUnknownError,
    TransportError,
)

DEFAULT_API_URL = "https://public-api.kayse.ai/v1"
USER_AGENT = f"kayse-pipeline/{__version__}"
KEY_HEADER = "X-API-KEY"

Safety = Literal["read", "idempotent", "create"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One documented call: method, path template and whether repeating it is harmless."""

    method: str
    path: str
    safety: Safety


ENDPOINTS: Mapping[str, Endpoint] = {
    "clients.create": Endpoint("POST", "/clients", "create"),
    "clients.bulk": Endpoint("POST", "/clients/bulk", "create"),
    "clients.get": Endpoint("GET", "/clients/{id}", "read"),
    "clients.replace": Endpoint("PUT", "/clients/{id}", "idempotent"),
    "clients.delete": Endpoint("DELETE", "/clients/{id}", "idempotent"),
    "cases.create": Endpoint("POST", "/cases", "create"),
    "cases.bulk": Endpoint("POST", "/cases/bulk", "create"),
    "cases.get": Endpoint("GET", "/cases/{id}", "read"),
    "cases.replace": Endpoint("PUT", "/cases/{id}", "idempotent"),
    "cases.delete": Endpoint("DELETE", "/cases/{id}", "idempotent"),
    "cases.bulk_delete": Endpoint("POST", "/cases/bulk_delete", "idempotent"),
    "case_lists.list": Endpoint("GET", "/case_lists", "read"),
    "case_lists.create": Endpoint("POST", "/case_lists", "create"),
    "case_lists.bulk": Endpoint("POST", "/case_lists/bulk", "create"),
    "case_lists.attach": Endpoint("PATCH", "/case_lists/{id}/attach", "idempotent"),
    "case_lists.detach": Endpoint("PATCH", "/case_lists/{id}/detach", "idempotent"),
    "case_lists.append": Endpoint("POST", "/case_lists/{id}/clients/append", "idempotent"),
    "case_lists.remove": Endpoint("POST", "/case_lists/{id}/clients/remove", "idempotent"),
    "campaigns.create": Endpoint("POST", "/campaigns", "create"),
    "campaigns.list": Endpoint("GET", "/campaigns", "read"),
    "metadata.objects": Endpoint("GET", "/metadata/objects", "read"),
}

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
        trace: Trace | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.pacer = pacer or Pacer()
        self.retry = retry or RetryPolicy()
        self.trace = trace or Trace()
        self._sleep = sleep
        self._rng = rng or random.Random()
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        self._secrets: tuple[str, ...] = ()
        if api_key:
            headers[KEY_HEADER] = check_api_key(api_key)
            self._secrets = (api_key, headers[KEY_HEADER])
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
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
            with _not_sent():
                self.pacer.before_request()
            try:
                response = self._send(endpoint.method, path, content, params)
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
                self.pacer.observe(response.headers)
                if response.is_success:
                    return _json(response, endpoint, acted=not safe)
                status = response.status_code
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
                self._sleep(self._backoff(attempt, started))
            attempt += 1

    def _send(
        self, method: str, path: str, content: bytes | None, params: Mapping[str, Any] | None
    ) -> httpx.Response:
        self.trace.requests += 1
        key = f"{method} {path}"
        self.trace.by_endpoint[key] = self.trace.by_endpoint.get(key, 0) + 1
        headers = {"Content-Type": "application/json"} if content is not None else None
        started = time.monotonic()
        try:
            response = self._http.request(
                method, path, content=content, params=params, headers=headers
            )
        except httpx.TransportError as exc:
            self.trace.faults += 1
            self.trace.say(f"{method} {path} -> {type(exc).__name__}")
            raise
        elapsed = time.monotonic() - started
        self.trace.say(
            f"{method} {path} -> {response.status_code} in {elapsed:.3f}s "
            f"(headers sent: {_redacted(self._http.headers)}; "
            f"rate remaining {response.headers.get('X-RateLimit-Remaining', '?')})"
        )
        return response

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


def _speaks_json(response: httpx.Response) -> bool:
    """Whether an answer is Kayse's kind of answer: a JSON body, or none at all."""
    if not response.content:
        return True
    try:
        response.json()
    except ValueError:
        return False
    return True


def _not_kayse(base_url: str, endpoint: Endpoint, response: httpx.Response) -> str:
    kind = response.headers.get("Content-Type", "no content type").split(";")[0]
    return (
        f"{base_url} answered {endpoint.method} {endpoint.path} with HTTP "
        f"{response.status_code} and {kind}, not Kayse's JSON: is --api-url (or KAYSE_API_URL) "
        "the Kayse Public API, ending in /v1?"
    )


def _redacted(headers: httpx.Headers) -> str:
    shown = {
        k: ("[redacted]" if k.lower() == KEY_HEADER.lower() else v) for k, v in headers.items()
    }
    return ", ".join(f"{k}: {v}" for k, v in sorted(shown.items()))


def _describe(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    return "the connection was dropped without an answer"


def _json(response: httpx.Response, endpoint: Endpoint, *, acted: bool) -> Any:
    """The answer's JSON; a success that is not JSON leaves a create's outcome in doubt."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        kind = response.headers.get("Content-Type", "no content type").split(";")[0]
        message = (
            f"{endpoint.method} {endpoint.path}: the answer is not JSON ({kind}); "
            "is --api-url the Kayse Public API?"
        )
        # The server said it succeeded: whatever it is, it may have made the records.
        raise (OutcomeUnknownError if acted else TransportError)(message) from exc


def _api_error(
    response: httpx.Response,
    endpoint: Endpoint,
    sent: bytes | None,
    secrets: tuple[str, ...] = (),
) -> ApiError:
    message = ""
    try:
        doc = response.json()
        if isinstance(doc, dict):
            message = str(doc.get("message") or doc.get("error") or "")
    except ValueError:
        pass
    if not message:
        message = response.reason_phrase or "no message"
    message = scrub(message, sent)
    for secret in secrets:  # a proxy or a foreign server may echo the headers it got
        message = message.replace(secret, "[redacted]")
    cls = AuthError if response.status_code == 401 else ApiError
    if cls is AuthError:
        message += " (check KAYSE_API_KEY: the key is missing, wrong or disabled)"
    return cls(response.status_code, message, method=endpoint.method, path=endpoint.path)


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
