"""Fault injection: seeded, data untouched by refusals, lost writes committed, admin switch."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from kayse_pipeline.errors import SandboxError
from kayse_pipeline.sandbox import FaultSpec, SandboxTransport, open_sandbox
from testing.sandbox import running_sandbox, sandbox_client

LIST = {"name": "L"}


def test_parse_and_normalize() -> None:
    spec = FaultSpec.parse("429=0.05, 500=0.05,503=0.05,lost=0.05,slow=0.1,slow_seconds=2,seed=7")
    assert spec == FaultSpec(0.05, 0.05, 0.05, 0.05, 0.1, 2.0, 7)
    assert str(spec) == "429=0.05,500=0.05,503=0.05,lost=0.05,slow=0.1,slow_seconds=2,seed=7"
    assert FaultSpec.parse("off") == FaultSpec.parse("") == FaultSpec()
    assert str(FaultSpec()) == "off"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("404=0.1", "fault spec: unknown entry '404' (known: 429, 500, 503, lost, slow, "
         "slow_seconds, seed)"),
        ("lost", "fault spec: unknown entry 'lost' (known: 429, 500, 503, lost, slow, "
         "slow_seconds, seed)"),
        ("500=x", "fault spec: 500 must be a number"),
        ("seed=1.5", "fault spec: seed must be an integer"),
        ("500=0.1,500=0.2", "fault spec: 500 is given twice"),
        ("slow=1.5", "fault spec: slow must be between 0 and 1"),
        ("500=0.6,lost=0.6", "fault spec: 429, 500, 503 and lost add up to more than 1"),
        ("slow_seconds=61", "fault spec: slow_seconds must be between 0 and 60"),
    ],
)  # fmt: skip
def test_parse_refuses(spec: str, message: str) -> None:
    with pytest.raises(SandboxError) as caught:
        FaultSpec.parse(spec)
    assert str(caught.value) == message


def statuses(tmp_path: Path, spec: str, count: int) -> list[int | str]:
    seen: list[int | str] = []
    with open_sandbox(tmp_path, rate_limit="off", faults=spec) as core, sandbox_client(core) as api:
        for _ in range(count):
            try:
                seen.append(api.get("/campaigns").status_code)
            except httpx.RemoteProtocolError:
                seen.append("lost")
    return seen


def test_same_seed_same_faults(tmp_path: Path) -> None:
    spec = "429=0.2,500=0.2,503=0.2,lost=0.2,seed=7"
    first = statuses(tmp_path / "a", spec, 60)
    assert first == statuses(tmp_path / "b", spec, 60)
    assert set(first) == {200, 429, 500, 503, "lost"}
    assert first != statuses(tmp_path / "c", spec.replace("seed=7", "seed=8"), 60)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_injected_errors_leave_data_untouched(tmp_path: Path, status: int) -> None:
    with open_sandbox(tmp_path, faults=f"{status}=1") as core, sandbox_client(core) as api:
        response = api.post("/case_lists", json=LIST)
        assert response.status_code == status
        assert response.json()["message"].startswith(
            "too many requests (injected fault)" if status == 429 else "injected fault"
        )
        if status == 429:
            assert response.headers["Retry-After"] == "1"
            assert response.headers["X-RateLimit-Remaining"] == "500"  # not counted
        assert core.dump()["case_lists"] == []
        assert core.stats()["faults"][str(status)] == 1


def test_lost_in_process_raises_after_commit(tmp_path: Path) -> None:
    with open_sandbox(tmp_path, faults="lost=1") as core, sandbox_client(core) as api:
        with pytest.raises(httpx.RemoteProtocolError):
            api.post("/case_lists", json=LIST)
        assert [x["name"] for x in core.dump()["case_lists"]] == ["L"]
        assert core.stats()["by_status"] == {"lost": 1}
        core.set_faults("off")
        assert api.get("/case_lists").json()["total"] == 1


def test_slow_answers_wait_in_the_front_door(tmp_path: Path) -> None:
    waits: list[float] = []
    with open_sandbox(tmp_path, faults="slow=1,slow_seconds=2.5") as core:
        transport = SandboxTransport(core, sleep=waits.append)
        with httpx.Client(transport=transport, base_url="http://sandbox/v1") as api:
            assert api.get("/campaigns").status_code == 200
    assert waits == [2.5]


def test_admin_routes_are_never_faulted_and_change_faults(tmp_path: Path) -> None:
    with open_sandbox(tmp_path, faults="500=1") as core, sandbox_client(core) as api:
        assert api.get("/_sandbox/stats").status_code == 200
        bad = api.post("/_sandbox/faults", json={"faults": "500=2"})
        assert (bad.status_code, bad.json()["message"]) == (
            400,
            "fault spec: 500 must be between 0 and 1",
        )
        changed = api.post("/_sandbox/faults", json={"faults": "503=1,seed=3"})
        assert changed.json() == {"faults": "503=1,seed=3"}
        assert api.get("/campaigns").status_code == 503
        assert api.post("/_sandbox/faults", json={"faults": "off"}).json() == {"faults": "off"}
        assert api.get("/campaigns").status_code == 200
        assert core.stats()["by_status"] == {"200": 1, "503": 1}


def test_faults_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAYSE_SANDBOX_FAULTS", "503=1")
    with open_sandbox(tmp_path) as core:
        assert str(core.faults) == "503=1"


def test_over_http_lost_is_committed_slow_is_slow_and_faults_switch_off(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, faults="lost=1") as sb:
        headers = {"X-API-KEY": sb.api_key}
        with httpx.Client(base_url=sb.url, headers=headers) as api:
            with pytest.raises(httpx.RemoteProtocolError):
                api.post("/case_lists", json=LIST)
            assert [x["name"] for x in sb.dump()["case_lists"]] == ["L"]
            assert sb.set_faults("slow=1,slow_seconds=0.4") == "slow=1,slow_seconds=0.4"
            started = time.monotonic()
            assert api.get("/case_lists").json()["total"] == 1
            assert time.monotonic() - started >= 0.4
            sb.set_faults("off")
            assert api.get("/case_lists").status_code == 200
        stats = sb.stats()
        assert stats["by_status"] == {"200": 2, "lost": 1}
        assert stats["faults"] == {"429": 0, "500": 0, "503": 0, "lost": 1, "slow": 1}
        assert stats["by_endpoint"] == {"GET /v1/case_lists": 2, "POST /v1/case_lists": 1}
