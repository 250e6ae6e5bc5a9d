"""Issue 11, finding 20: no error path of any request kind quotes the key or a sent value.

The scan of ``test_secrets.py`` reaches only the paths its scenarios happen to run. This
one enumerates the client's endpoint table and a matrix of faults: every status Kayse
documents and some it does not, answers in HTML, cut short, too large, too slow, in a
broken encoding, a 429 that never ends, and a dropped connection. The server echoes
the request's headers and body back in its error messages, headers and reason, as a
careless proxy would. Every error that reaches a user (and every exception chained to
it, which ``--debug`` prints), and every line of the ``--debug`` trace, is searched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kayse_pipeline.api.client import KayseClient, Trace
from kayse_pipeline.api.endpoints import ENDPOINTS
from kayse_pipeline.api.pacing import Pacer
from kayse_pipeline.api.settings import RetryPolicy
from kayse_pipeline.errors import KayseError
from testing.cli import SEED_MANIFEST, kayse
from testing.hostile_server import Reply, Seen, hostile_server

KEY = "sk-live-SECRET-9f8e7d6c"
PERSONAL = "maria.garcia@example.com"
BODY = {"email": PERSONAL, "first_name": "Mariaquita", "ids": [1, 2], "client_ids": [3]}


def echo(status: int, **extra: object) -> Callable[[Seen], Reply]:
    """An answer that quotes everything the request carried."""

    def respond(seen: Seen) -> Reply:
        said = f"headers {seen.headers} body {seen.body.decode(errors='replace')}"
        headers = {"X-Echo": seen.headers.get("X-API-KEY", ""), "Retry-After": "0"}
        return Reply(status, {"error": said, "message": said}, headers, **extra)  # type: ignore[arg-type]

    return respond


def html(seen: Seen) -> Reply:
    return Reply(404, f"<pre>{seen.headers}</pre>", {"Content-Type": "text/html"})


FAULTS: dict[str, Callable[[Seen], Reply]] = {
    **{str(status): echo(status) for status in (400, 401, 403, 404, 405, 409, 413, 422)},
    **{str(status): echo(status) for status in (500, 502, 503, 504)},
    "429 forever": echo(429),
    "404 in HTML": html,
    "200 not JSON": lambda seen: Reply(200, f"ok {seen.headers}", {"Content-Type": "text/plain"}),
    "200 nested too deep": lambda seen: Reply(200, "[" * 100 + "]" * 100),
    "dropped": lambda seen: Reply(mode="drop"),
    "too slow": lambda seen: Reply(200, b"{}" * 20, mode="trickle", trickle_seconds=0.3),
    "gzip bomb": lambda seen: Reply(200, mode="gzip-bomb"),
    "broken gzip": lambda seen: Reply(200, b"\x1f\x8b junk", {"Content-Encoding": "gzip"}),
}


def chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(found) < 20:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_no_error_of_any_endpoint_quotes_the_key_or_a_sent_value(fault: str) -> None:
    lines: list[str] = []
    checked = 0
    now = [time.time()]  # the pacer's clock, moved on by its own sleeps: waits cost no time
    with hostile_server(FAULTS[fault], max_seconds=120) as server:
        for name, endpoint in sorted(ENDPOINTS.items()):
            pacer = Pacer(clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
            with KayseClient(
                server.url,
                KEY,
                pacer=pacer,
                retry=RetryPolicy(attempts=2, base_seconds=0.0),
                trace=Trace(log=lines.append),
                sleep=lambda _: None,
                deadline=0.5,
            ) as api:
                body = BODY if endpoint.method in ("POST", "PUT", "PATCH") else None
                identifier = 7 if "{id}" in endpoint.path else None
                with pytest.raises(KayseError) as caught:
                    api.call(name, id=identifier, body=body)
            for exc in chain(caught.value):
                text = f"{exc} {exc!r}"
                assert KEY not in text, (name, fault, text)
                assert PERSONAL not in text and "Mariaquita" not in text, (name, fault, text)
            checked += 1
    assert checked == len(ENDPOINTS) >= 20
    for line in lines:
        assert KEY not in line and PERSONAL not in line, line


@pytest.mark.parametrize("command", [["refresh", "seed.yaml"], ["apply", "seed.yaml"]])
def test_the_cli_with_debug_never_shows_the_key_when_answers_are_dropped(
    command: list[str], tmp_path: Path
) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    with hostile_server(lambda seen: Reply(mode="drop"), max_seconds=120) as server:
        kayse(["state", "set", "seed.yaml", "maria", "5", "garcia_auto", "6"], cwd=tmp_path,
              url=server.url)  # fmt: skip
        if command[0] == "apply":
            kayse(["state", "forget", "seed.yaml", "maria"], cwd=tmp_path, url=server.url)
        run = kayse(["--debug", *command], cwd=tmp_path, url=server.url, key=KEY)
    assert run.code == 1
    assert "gave up after 5 attempts" in run.stdout + run.stderr or "may or may not" in (
        run.stdout + run.stderr
    )
    for text in (run.stdout, run.stderr, *(p.read_text() for p in tmp_path.glob("seed.*"))):
        assert KEY not in text
