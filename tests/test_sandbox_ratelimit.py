"""The rate limit: a fixed window per key, headers on every answer, shared through the database."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from kayse_pipeline.errors import SandboxError
from kayse_pipeline.sandbox import RateLimit, open_sandbox
from testing.sandbox import sandbox_client


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limits(response: httpx.Response) -> tuple[str, str, str, str | None]:
    h = response.headers
    return (
        h["X-RateLimit-Limit"],
        h["X-RateLimit-Remaining"],
        h["X-RateLimit-Reset"],
        h.get("Retry-After"),
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("20/5", RateLimit(20, 5.0)),
        (" 500 / 3600 ", RateLimit(500, 3600.0)),
        ("OFF", RateLimit(None)),
    ],
)
def test_parse(spec: str, expected: RateLimit) -> None:
    assert RateLimit.parse(spec) == expected


@pytest.mark.parametrize("spec", ["", "20", "0/5", "20/0", "x/5", "20/5/1", "-1/5"])
def test_parse_refuses(spec: str) -> None:
    with pytest.raises(SandboxError, match=r"^rate limit must be N/SECONDS"):
        RateLimit.parse(spec)


def test_fixed_window_headers_on_every_answer(tmp_path: Path) -> None:
    clock = Clock(1000.0)
    with (
        open_sandbox(tmp_path, rate_limit="2/10", clock=clock) as core,
        sandbox_client(core) as api,
    ):
        assert limits(api.get("/campaigns")) == ("2", "1", "1010", None)
        clock.now = 1004.5
        assert limits(api.get("/clients/9")) == ("2", "0", "1010", None)  # a 404 counts too
        refused = api.get("/campaigns")
        assert refused.status_code == 429
        assert limits(refused) == ("2", "0", "1010", "6")
        clock.now = 1009.9
        assert limits(api.get("/campaigns"))[3] == "1"  # never below 1
        stats = api.get("/_sandbox/stats")  # admin routes do not count and are not refused
        assert (stats.status_code, limits(stats)) == (200, ("2", "0", "1010", None))
        clock.now = 1010.0  # a new window begins with the first request after the old one
        assert limits(api.get("/campaigns")) == ("2", "1", "1020", None)


def test_refused_requests_do_not_count(tmp_path: Path) -> None:
    clock = Clock(50.0)
    with (
        open_sandbox(tmp_path, rate_limit="1/10", clock=clock) as core,
        sandbox_client(core) as api,
    ):
        statuses = [api.get("/campaigns").status_code for _ in range(4)]
        assert statuses == [200, 429, 429, 429]
        clock.now = 60.0
        assert limits(api.get("/campaigns"))[1] == "0"


def test_budget_is_shared_by_cores_on_one_folder(tmp_path: Path) -> None:
    clock = Clock(0.0)
    with open_sandbox(tmp_path, rate_limit="3/60", clock=clock) as one, sandbox_client(one) as a:
        a.get("/campaigns")
        with (
            open_sandbox(tmp_path, rate_limit="3/60", clock=clock) as two,
            sandbox_client(two) as b,
        ):
            assert limits(b.get("/campaigns"))[1] == "1"
        assert limits(a.get("/campaigns"))[1] == "0"
        assert a.get("/campaigns").status_code == 429


def test_each_key_has_its_own_budget(tmp_path: Path) -> None:
    clock = Clock(0.0)
    for key in ("k1", "k2"):
        with (
            open_sandbox(tmp_path, api_key=key, rate_limit="1/60", clock=clock) as core,
            sandbox_client(core) as api,
        ):
            assert api.get("/campaigns").status_code == 200


def test_no_limit_no_headers(tmp_path: Path) -> None:
    with open_sandbox(tmp_path, rate_limit="off") as core, sandbox_client(core) as api:
        for _ in range(3):
            response = api.get("/campaigns")
            assert response.status_code == 200
            assert "X-RateLimit-Limit" not in response.headers


def test_environment_sets_the_in_process_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAYSE_SANDBOX_RATE_LIMIT", "7/30")
    with open_sandbox(tmp_path) as core:
        assert core.rate_limit == RateLimit(7, 30.0)
    monkeypatch.delenv("KAYSE_SANDBOX_RATE_LIMIT")
    with open_sandbox(tmp_path) as core:
        assert core.rate_limit == RateLimit(500, 3600.0)
