"""Issue 11, findings 1, 4 and 5: refusals, answers and rate-limit headers a server may send.

Each case runs against a hostile HTTP server on 127.0.0.1 (``testing/hostile_server.py``):
the client over real sockets with the pacer's clock faked (time is the operating
system's edge), and the real CLI in a child process.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from kayse_pipeline.api.client import KayseClient
from kayse_pipeline.api.pacing import Pacer
from kayse_pipeline.api.settings import RetryPolicy
from kayse_pipeline.errors import BudgetExhaustedError, OutcomeUnknownError, TransportError
from testing.cli import SEED_MANIFEST, kayse
from testing.hostile_server import KayseLike, Reply, Seen, hostile_server

KEY = "hostile-test-key-3c9d"
CONTACT = {"first_name": "Maria", "last_name": "Garcia", "external_source_id": "crm_1"}


class FakeTime:
    """The pacer's clock and sleep: waits cost no real time."""

    def __init__(self) -> None:
        self.now = time.time()
        self.slept = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


def client(
    url: str, fake: FakeTime, *, max_wait: float = 3600, deadline: float = 120
) -> KayseClient:
    pacer = Pacer(max_wait=max_wait, clock=fake.clock, sleep=fake.sleep)
    retry = RetryPolicy(attempts=3, base_seconds=0.0)
    return KayseClient(url, KEY, pacer=pacer, retry=retry, sleep=lambda _: None, deadline=deadline)


# -- finding 1: "stop after 30 refusals in a row" fires ---------------------------------


@pytest.mark.parametrize("retry_after", ["1", "0", "-5", "soon"])
def test_a_server_that_answers_429_forever_is_left_after_30_refusals(retry_after: str) -> None:
    refusal = Reply(
        429,
        {"error": "too many requests", "message": "slow down"},
        {"Retry-After": retry_after, "X-RateLimit-Remaining": "0"},
    )
    fake = FakeTime()
    # Bounded even before the fix: the server stops by itself after 20 s.
    with hostile_server([refusal], max_seconds=20) as server, client(server.url, fake) as api:
        with pytest.raises(BudgetExhaustedError, match=r"refused 30 requests in a row \(429\)"):
            api.call("clients.get", id=1)
        assert len(server.requests) == 31


def test_apply_against_a_429_only_server_ends_within_max_wait(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    refusal = Reply(429, {"error": "too many requests", "message": "no"}, {"Retry-After": "1"})
    with hostile_server([refusal], max_seconds=60) as server:
        run = kayse(
            ["apply", "seed.yaml", "--max-wait", "3"], cwd=tmp_path, url=server.url, key=KEY
        )
        sent = len(server.requests)
    assert run.code == 1
    assert (
        "stopped: Kayse answered 429 Too Many Requests 4 times in a row; waiting once more "
        "would make 4 s, more than --max-wait (3 s) in all." in run.stdout
    )
    assert "run again after 20" in run.stdout  # a date: 20YY-MM-DD
    assert sent == 4
    assert "unexpected" not in run.stderr
    state = json.loads((tmp_path / "seed.state.json").read_text())
    assert state["records"] == {}  # a 429 did nothing: nothing is unknown


# -- finding 4: bounded answers ----------------------------------------------------------

BOUNDLESS = {
    "gzip bomb": Reply(200, mode="gzip-bomb"),
    "endless chunked body": Reply(200, mode="endless"),
    "a body larger than the bound": Reply(200, b"[" + b" " * (9 * 1024 * 1024) + b"]"),
    "one byte a second": Reply(200, b'{"id": 1}', mode="trickle", trickle_seconds=1.0),
    "damaged gzip": Reply(200, b"\x1f\x8b\x08\x00garbage", {"Content-Encoding": "gzip"}),
    "unknown encoding": Reply(200, b"{}", {"Content-Encoding": "zstd"}),
}
EXPLAINED = {
    "gzip bomb": "the answer is larger than 8 MiB once decompressed",
    "endless chunked body": "the answer is larger than 8 MiB",
    "a body larger than the bound": "the answer is larger than 8 MiB",
    "one byte a second": "no whole answer within 3 s",
    "damaged gzip": "the answer's compressed body is damaged",
    "unknown encoding": "the answer is in an encoding this client does not read (zstd)",
}


@pytest.mark.parametrize("case", sorted(BOUNDLESS))
def test_an_unbounded_answer_to_a_create_leaves_it_unknown(case: str) -> None:
    fake = FakeTime()
    with hostile_server([BOUNDLESS[case]], max_seconds=60) as server:
        with client(server.url, fake, deadline=3) as api:
            started = time.monotonic()
            with pytest.raises(OutcomeUnknownError) as err:
                api.call("clients.create", body=CONTACT)
            took = time.monotonic() - started
        assert len(server.requests) == 1  # a create is never repeated
    assert str(err.value) == (
        f"POST /clients: {EXPLAINED[case]} after the request was sent; "
        "Kayse may or may not have acted"
    )
    assert took < 30


@pytest.mark.parametrize("case", ["gzip bomb", "one byte a second", "endless chunked body"])
def test_an_unbounded_answer_to_a_read_is_retried_then_given_up(case: str) -> None:
    fake = FakeTime()
    with hostile_server([BOUNDLESS[case]], max_seconds=60) as server:
        with client(server.url, fake, deadline=3) as api, pytest.raises(TransportError) as err:
            api.call("clients.get", id=5)
        assert len(server.requests) == 3
    assert str(err.value) == f"GET /clients/{{id}}: {EXPLAINED[case]}; gave up after 3 attempts"


def test_a_trickling_answer_to_apply_is_cut_at_the_request_deadline(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    trickle = Reply(201, b'{"id": 1}', mode="trickle", trickle_seconds=1.0)
    with hostile_server([trickle], max_seconds=60) as server:
        started = time.monotonic()
        run = kayse(
            ["apply", "seed.yaml", "--output", "json"],
            cwd=tmp_path,
            url=server.url,
            key=KEY,
            env={"KAYSE_REQUEST_TIMEOUT": "2"},
        )
        took = time.monotonic() - started
    assert run.code == 1
    assert run.json()["stopped"].startswith(
        "POST /clients: no whole answer within 2 s after the request was sent; "
        "Kayse may or may not have acted."
    )
    assert run.json()["records"][0]["action"] == "unknown"
    assert took < 20


# -- finding 5: rate-limit headers -------------------------------------------------------

SUCCESS_HEADERS = {
    "Remaining inf": {"X-RateLimit-Remaining": "inf"},
    "Remaining nan": {"X-RateLimit-Remaining": "nan"},
    "Remaining negative": {"X-RateLimit-Remaining": "-3"},
    "Remaining huge": {"X-RateLimit-Remaining": "9" * 400},
    "Reset 1e400": {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1e400"},
    "Reset huge": {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "9" * 40},
    "Reset far away": {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "99999999999999"},
    "Limit garbage": {"X-RateLimit-Limit": "\x1b[31m", "X-RateLimit-Reset": "-1"},
}


@pytest.mark.parametrize("case", sorted(SUCCESS_HEADERS))
def test_an_id_that_arrived_is_saved_whatever_the_headers_say(case: str, tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    kayse_like = KayseLike()

    def respond(seen: Seen) -> Reply:
        return kayse_like.answer(seen, SUCCESS_HEADERS[case])

    with hostile_server(respond, max_seconds=60) as server:
        run = kayse(
            ["apply", "seed.yaml", "--max-wait", "5"], cwd=tmp_path, url=server.url, key=KEY
        )
    assert "unexpected" not in run.stderr, run.stderr
    state = json.loads((tmp_path / "seed.state.json").read_text())["records"]
    assert state["maria"] == {
        "kind": "contact",
        "id": 1,
        "fingerprint": state["maria"]["fingerprint"],
    }
    if run.code:  # the budget is spent until a time Kayse did not give usably
        assert "run again after a time Kayse did not give in a usable form" in run.stdout


REFUSALS = {
    "Retry-After inf": ({"Retry-After": "inf"}, "the budget resets in 60 s"),
    "Retry-After nan": ({"Retry-After": "nan"}, "the budget resets in 60 s"),
    "Retry-After huge": ({"Retry-After": "99999999999999999999"}, "resets in more than a year"),
    "Reset 1e400": ({"X-RateLimit-Reset": "1e400"}, "the budget resets in 60 s"),
    "Reset far away": ({"X-RateLimit-Reset": "99999999999999"}, "resets in more than a year"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_429_with_unusable_headers_stops_cleanly_and_leaves_nothing_unknown(
    case: str, tmp_path: Path
) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    headers, said = REFUSALS[case]
    refusal = Reply(429, {"error": "too many requests", "message": "no"}, headers)
    with hostile_server([refusal], max_seconds=60) as server:
        run = kayse(
            ["apply", "seed.yaml", "--max-wait", "5"], cwd=tmp_path, url=server.url, key=KEY
        )
    assert run.code == 1
    assert said in run.stdout and "more than --max-wait (5 s)" in run.stdout, run.stdout
    assert "unexpected" not in run.stderr
    assert json.loads((tmp_path / "seed.state.json").read_text())["records"] == {}


def test_a_date_in_retry_after_is_waited_out() -> None:
    fake = FakeTime()
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(fake.now + 30))
    replies = [
        Reply(429, {"error": "e", "message": "m"}, {"Retry-After": later}),
        Reply(200, {"id": 9}),
    ]
    with hostile_server(replies, max_seconds=30) as server, client(server.url, fake) as api:
        assert api.call("clients.get", id=9) == {"id": 9}
    assert 28 <= fake.slept <= 31


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "soon"])
def test_max_wait_must_be_a_finite_number_of_seconds(value: str, tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    run = kayse(
        ["apply", "seed.yaml", f"--max-wait={value}"], cwd=tmp_path, url="http://127.0.0.1:9/v1"
    )
    assert run.code == 1
    assert (
        f"Invalid value for '--max-wait': '{value}' is not a finite number of seconds, 0 or more"
        in run.stderr
    )
