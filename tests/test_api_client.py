"""Which failures the client repeats, for which calls, how often, how long, and what it says.

The network is the edge: answers come from an ``httpx.MockTransport`` script.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence

import httpx
import pytest

from kayse_pipeline.api.client import KayseClient
from kayse_pipeline.api.pacing import Pacer
from kayse_pipeline.api.settings import RetryPolicy, check_api_url
from kayse_pipeline.errors import (
    ApiError,
    ConfigError,
    OutcomeUnknownError,
    TransportError,
)

URL = "http://127.0.0.1:9/v1"
KEY = "SECRET-KEY-7f3a9c"
Step = int | type[httpx.TransportError]


def scripted(steps: Sequence[Step], seen: list[httpx.Request]) -> httpx.MockTransport:
    """Answer each request with the next step: a status, or an exception to raise."""
    queue = list(steps)

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = queue.pop(0)
        if isinstance(step, int):
            body = {"id": 7} if step < 400 else {"error": "e", "message": f"status {step}"}
            return httpx.Response(step, json=body, headers={"Retry-After": "0"})
        raise step("scripted failure", request=request)

    return httpx.MockTransport(answer)


def client(
    transport: httpx.BaseTransport,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = lambda _: None,
    rng: random.Random | None = None,
) -> KayseClient:
    now = [0.0]  # the pacer's clock, moved on by its own sleeps: a 429 costs no real time
    pacer = Pacer(clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    return KayseClient(
        URL, KEY, transport=transport, pacer=pacer, retry=retry, sleep=sleep, rng=rng
    )


ALL_RETRIED: list[Step] = [
    429,
    500,
    502,
    503,
    504,
    httpx.ReadTimeout,
    httpx.RemoteProtocolError,
    httpx.ConnectError,
]


@pytest.mark.parametrize("fault", ALL_RETRIED)
@pytest.mark.parametrize(
    ("name", "call_id"),
    [
        ("clients.get", 5),
        ("clients.replace", 5),
        ("case_lists.attach", 9),
        ("case_lists.append", 9),
    ],
)
def test_reads_updates_and_membership_are_repeated(name: str, call_id: int, fault: Step) -> None:
    seen: list[httpx.Request] = []
    with client(scripted([fault, 200], seen)) as api:
        assert api.call(name, id=call_id, body={"x": 1}) == {"id": 7}
    assert len(seen) == 2


@pytest.mark.parametrize("fault", [429, 503, httpx.ConnectError, httpx.ConnectTimeout])
def test_create_is_repeated_only_when_kayse_certainly_did_not_act(fault: Step) -> None:
    seen: list[httpx.Request] = []
    with client(scripted([fault, 201], seen)) as api:
        assert api.call("clients.create", body={"first_name": "x"}) == {"id": 7}
    assert len(seen) == 2


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (500, "POST /clients: HTTP 500: status 500; Kayse may or may not have created the records"),
        (502, "POST /clients: HTTP 502: status 502; Kayse may or may not have created the records"),
        (504, "POST /clients: HTTP 504: status 504; Kayse may or may not have created the records"),
        (
            httpx.ReadTimeout,
            "POST /clients: no answer in time after the request was sent; "
            "Kayse may or may not have acted",
        ),
        (
            httpx.RemoteProtocolError,
            "POST /clients: the connection was dropped without an answer after the request was "
            "sent; Kayse may or may not have acted",
        ),
        (
            httpx.WriteError,
            "POST /clients: the connection was dropped without an answer after the request was "
            "sent; Kayse may or may not have acted",
        ),
    ],
)
def test_create_with_an_unknown_outcome_is_never_repeated(fault: Step, message: str) -> None:
    seen: list[httpx.Request] = []
    with client(scripted([fault, 201], seen)) as api, pytest.raises(OutcomeUnknownError) as err:
        api.call("clients.create", body={"first_name": "x"})
    assert str(err.value) == message
    assert len(seen) == 1


def test_a_bulk_update_may_be_repeated_when_told_it_is_idempotent() -> None:
    seen: list[httpx.Request] = []
    with client(scripted([500, 200], seen)) as api:
        api.call("clients.bulk", body={"clients": [{"id": 1}]}, idempotent=True)
    assert len(seen) == 2


def test_retries_are_bounded_in_count() -> None:
    seen: list[httpx.Request] = []
    api = client(scripted([500] * 10, seen), retry=RetryPolicy(attempts=4))
    with api, pytest.raises(ApiError, match="HTTP 500"):
        api.call("clients.get", id=1)
    assert len(seen) == 4


def test_retries_are_bounded_in_time() -> None:
    seen: list[httpx.Request] = []
    slept: list[float] = []
    policy = RetryPolicy(
        attempts=1000, base_seconds=0.05, cap_seconds=0.05, max_elapsed_seconds=0.3
    )

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    started = time.monotonic()
    api = client(scripted([503] * 1000, seen), retry=policy, sleep=sleep)
    with api, pytest.raises(ApiError, match="HTTP 503"):
        api.call("clients.get", id=1)
    assert time.monotonic() - started < 0.3 + 0.2
    assert 2 <= len(seen) < 1000
    assert all(0 <= s <= 0.05 for s in slept)


def test_backoff_is_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(attempts=7, base_seconds=1.0, cap_seconds=8.0, max_elapsed_seconds=1e9)
    runs: list[list[float]] = []
    for seed in (1, 2):
        slept: list[float] = []
        with (
            client(
                scripted([500] * 7, []), retry=policy, sleep=slept.append, rng=random.Random(seed)
            ) as api,
            pytest.raises(ApiError),
        ):
            api.call("clients.get", id=1)
        runs.append(slept)
    for slept in runs:
        assert len(slept) == 6
        ceilings = [min(8.0, 2.0**n) for n in range(6)]
        assert all(0 <= s <= c for s, c in zip(slept, ceilings, strict=True))
    assert runs[0] != runs[1]  # jitter: two clients do not retry in lockstep


def test_a_refusal_is_not_repeated() -> None:
    seen: list[httpx.Request] = []
    with client(scripted([400, 200], seen)) as api, pytest.raises(ApiError, match="HTTP 400"):
        api.call("clients.replace", id=1, body={})
    assert len(seen) == 1


def test_unreachable_server_is_a_clear_error() -> None:
    seen: list[httpx.Request] = []
    api = client(scripted([httpx.ConnectError] * 5, seen))
    with api, pytest.raises(TransportError) as err:
        api.call("clients.create", body={})
    assert str(err.value) == (
        f"cannot connect to {URL} (connection refused or host not found); gave up after 5 "
        "attempts: is the API URL right, and is the network up?"
    )
    assert not isinstance(err.value, OutcomeUnknownError)


@pytest.mark.parametrize("status", [200, 404, 405, 501])
def test_a_server_that_answers_html_is_not_kayse(status: int) -> None:
    page = httpx.MockTransport(
        lambda request: httpx.Response(
            status, text="<html>hello</html>", headers={"Content-Type": "text/html"}
        )
    )
    with client(page) as api, pytest.raises(TransportError) as err:
        api.call("clients.bulk", body={"clients": [{"first_name": "x"}]})
    # A success, even in HTML, may have made the records: never guess that it did not.
    assert isinstance(err.value, OutcomeUnknownError) == (status == 200)
    if status == 200:
        assert str(err.value) == (
            "POST /clients/bulk: the answer is not JSON (text/html); "
            "is --api-url (or KAYSE_API_URL) the Kayse Public API, ending in /v1?"
        )
    else:
        assert str(err.value) == (
            f"{URL} answered POST /clients/bulk with HTTP {status} and text/html, not Kayse's "
            "JSON: is --api-url (or KAYSE_API_URL) the Kayse Public API, ending in /v1?"
        )


def test_server_messages_never_carry_the_key_or_the_data_sent() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        sent = request.headers["X-API-KEY"]
        message = f"bad mobile +15551234567 for key {sent}"
        return httpx.Response(400, json={"error": "bad request", "message": message})

    with client(httpx.MockTransport(echo)) as api, pytest.raises(ApiError) as err:
        api.call("clients.create", body={"mobile": "+15551234567"})
    assert str(err.value) == "POST /clients: HTTP 400: bad mobile [redacted] for key [redacted]"


def test_key_whitespace_is_dropped_before_sending() -> None:
    seen: list[httpx.Request] = []
    transport = scripted([200], seen)
    with KayseClient(URL, f"  {KEY}\n", transport=transport) as api:
        api.call("clients.get", id=1)
    assert seen[0].headers["X-API-KEY"] == KEY


@pytest.mark.parametrize("key", [f"{KEY}\nX-Other: 1", f"{KEY} extra", f"{KEY}é", "\n"])
def test_a_key_no_header_can_carry_is_refused_without_quoting_it(key: str) -> None:
    with pytest.raises(ConfigError) as err:
        KayseClient(URL, key, transport=scripted([], []))
    assert str(err.value) == (
        "KAYSE_API_KEY holds characters that an HTTP header cannot carry (spaces, line breaks "
        "or non-ASCII letters); copy the key from Kayse again"
    )
    assert KEY not in str(err.value)


def test_an_api_url_with_credentials_is_refused_without_quoting_it() -> None:
    with pytest.raises(ConfigError) as err:
        check_api_url(f"https://user:{KEY}@public-api.kayse.ai/v1")
    assert KEY not in str(err.value)
    assert "must not hold a user name or password" in str(err.value)
