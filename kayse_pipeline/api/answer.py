"""Kayse's answers: read within size and time bounds, and turned into values or errors.

Everything here treats the server as untrusted: a body is capped once decoded (gzip bombs),
a trickling body meets a deadline, JSON is read within nesting and number bounds, and
server text is quoted on one bounded line with any value the request carried removed.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from kayse_pipeline.api.endpoints import Endpoint
from kayse_pipeline.bounds import JSONBoundsError, loads_json
from kayse_pipeline.errors import ApiError, AuthError, OutcomeUnknownError, TransportError
from kayse_pipeline.safe_text import safe_line

KEY_HEADER = "X-API-KEY"
URL_HINT = "is --api-url (or KAYSE_API_URL) the Kayse Public API, ending in /v1?"
# Far above any Kayse answer (a bulk answer of 500 full records is about 500 KB).
MAX_ANSWER_BYTES = 8 * 1024 * 1024
# The longest server text quoted in a message.
MAX_QUOTED = 300


@dataclass(frozen=True, slots=True)
class RawAnswer:
    """An answer as it came: status, headers and at most a bounded part of the body."""

    status: int
    headers: httpx.Headers
    body: bytes
    truncated: bool


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


def read_body(response: httpx.Response, started: float, seconds: float, cap: int) -> bytes:
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
                "the answer is in an encoding this client does not read "
                f"({safe_line(encoding, MAX_QUOTED)})"
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


def connect_failure(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "no answer to the connection in time"
    if isinstance(exc, httpx.PoolTimeout):
        return "no free connection in time"
    return "connection refused or host not found"


def speaks_json(response: Answer) -> bool:
    """Whether an answer is Kayse's kind of answer: a JSON body, or none at all."""
    if not response.content:
        return True
    try:
        response.json()
    except ValueError:
        return False
    return True


def not_kayse(base_url: str, endpoint: Endpoint, response: Answer) -> str:
    kind = response.headers.get("Content-Type", "no content type").split(";")[0]
    return (
        f"{base_url} answered {endpoint.method} {endpoint.path} with HTTP "
        f"{response.status_code} and {kind}, not Kayse's JSON: {URL_HINT}"
    )


def redacted_headers(headers: httpx.Headers) -> str:
    shown = {
        k: ("[redacted]" if k.lower() == KEY_HEADER.lower() else v) for k, v in headers.items()
    }
    return ", ".join(f"{k}: {v}" for k, v in sorted(shown.items()))


def describe_failure(exc: httpx.TransportError) -> str:
    if isinstance(exc, AnswerUnreadable):
        return str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    return "the connection was dropped without an answer"


def answer_json(response: Answer, endpoint: Endpoint, *, acted: bool) -> Any:
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


def api_error(
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
    message = safe_line(message, MAX_QUOTED)
    cls = AuthError if response.status_code == 401 else ApiError
    if cls is AuthError:
        message += " (check KAYSE_API_KEY: the key is missing, wrong or disabled)"
    return cls(
        response.status_code, message, method=endpoint.method, path=endpoint.path, shaped=shaped
    )


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
