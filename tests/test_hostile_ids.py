"""Issue 11, findings 2, 3 and 6: answers about endpoints, 404s in refresh, and IDs in answers.

The real CLI in a child process against a hostile HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from testing.cli import SEED_MANIFEST, Run, kayse
from testing.faults import lead_recipe
from testing.hostile_server import KayseLike, Reply, Seen, hostile_server

KEY = "hostile-test-key-3c9d"
HINT = "is --api-url (or KAYSE_API_URL) the Kayse Public API, ending in /v1?"


def saved(folder: Path, name: str = "seed") -> dict[str, Any]:
    records: dict[str, Any] = json.loads((folder / f"{name}.state.json").read_text())["records"]
    return records


# -- finding 2: a 404 or 405 is about the endpoint, not a record ---------------------------


@pytest.mark.parametrize(
    ("reply", "requests"),
    [
        (Reply(404, {"error": "not found", "message": "no route"}), 1),
        (Reply(405, {"error": "method not allowed", "message": "no"}), 1),
        (Reply(404, {"detail": "Not Found"}), 1),
    ],
)
def test_an_endpoint_that_answers_404_or_405_stops_the_run_at_once(
    reply: Reply, requests: int, tmp_path: Path
) -> None:
    (tmp_path / "leads.yaml").write_text(lead_recipe(16, "t"))
    with hostile_server([reply], max_seconds=60) as server:
        run = kayse(
            ["apply", "leads.yaml", "--batch-size", "8", "--output", "json"],
            cwd=tmp_path,
            url=server.url,
            key=KEY,
        )
        sent = len(server.requests)
    assert run.code == 1
    assert sent == requests  # not 31: the batch is not halved down to single records
    stopped = run.json()["stopped"]
    assert stopped.startswith(f"POST /clients/bulk: HTTP {reply.status}: ")
    assert stopped.endswith(f"HTTP {reply.status} says nothing about the records sent: {HINT}")
    assert saved(tmp_path, "leads") == {}  # refused: nothing is unknown


@pytest.mark.parametrize("status", [400, 413, 422])
def test_a_refusal_that_blames_a_record_still_halves_the_batch(status: int, tmp_path: Path) -> None:
    (tmp_path / "leads.yaml").write_text(lead_recipe(4, "t"))
    kayse_like = KayseLike()

    def respond(seen: Seen) -> Reply:
        body = seen.json()
        if isinstance(body, dict) and "t_contact_2" in json.dumps(body):
            return Reply(status, {"error": "bad request", "message": "clients[2] refused"})
        return kayse_like(seen)

    with hostile_server(respond, max_seconds=60) as server:
        run = kayse(
            ["apply", "leads.yaml", "--output", "json"], cwd=tmp_path, url=server.url, key=KEY
        )
    actions = {r["symbol"]: r["action"] for r in run.json()["records"]}
    assert actions["lead_0002"] == "failed"
    assert [actions[f"lead_000{i}"] for i in (0, 1, 3)] == ["created"] * 3


# -- finding 3: refresh and 404s ------------------------------------------------------------

SHAPED_404 = Reply(404, {"error": "not found", "message": "client not found"})


def _found(seen: Seen) -> Reply:
    record_id = int(seen.path.rstrip("/").split("/")[-1])
    if "/clients/" in seen.path:
        return Reply(200, {"id": record_id, "first_name": "Maria"})
    return Reply(200, {"id": record_id, "case_number": "PI-2026-042"})


REFRESHES: dict[str, tuple[Callable[[Seen], Reply], dict[str, str], bool]] = {
    "every record 404": (lambda seen: SHAPED_404, {}, True),
    "one record 404": (
        lambda seen: SHAPED_404 if "/clients/" in seen.path else _found(seen),
        {"maria": "gone"},
        False,
    ),
    # The key is refused before any answer finds a record: the 404 may be the wrong key's.
    "a 404, then the key refused": (
        lambda seen: SHAPED_404 if "/clients/" in seen.path else Reply(401, {"error": "no"}),
        {"maria": "unreadable"},
        True,
    ),
    "a 404 not in Kayse's shape": (
        lambda seen: (
            Reply(404, {"detail": "Not Found"}) if "/clients/" in seen.path else _found(seen)
        ),
        {"maria": "unreadable"},
        True,
    ),
    "a 404 in HTML": (
        lambda seen: Reply(404, "<h1>nginx</h1>", {"Content-Type": "text/html"}),
        {"maria": "unreadable"},
        True,
    ),
}


def seed_saved_then(
    respond: Callable[[Seen], Reply], tmp_path: Path, command: list[str]
) -> tuple[Run, int]:
    """The seed recipe with maria saved as 5 and garcia_auto as 6, then ``command`` against
    a server that answers ``respond``: its run, and how many requests the server saw."""
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    with hostile_server(respond, max_seconds=60) as server:
        setup = kayse(
            ["state", "set", "seed.yaml", "maria", "5", "garcia_auto", "6"],
            cwd=tmp_path,
            url=server.url,
            key=KEY,
        )
        assert setup.code == 0, setup.stderr
        run = kayse(command, cwd=tmp_path, url=server.url, key=KEY)
        return run, len(server.requests)


@pytest.mark.parametrize("case", sorted(REFRESHES))
def test_refresh_releases_a_record_only_on_kaysees_own_404(case: str, tmp_path: Path) -> None:
    respond, expected, stops = REFRESHES[case]
    run, _ = seed_saved_then(respond, tmp_path, ["refresh", "seed.yaml", "--output", "json"])
    assert "unexpected" not in run.stderr
    doc = run.json()
    findings = {f["symbol"]: f["action"] for f in doc["records"]}
    for symbol, action in expected.items():
        assert findings[symbol] == action
    assert run.code == (1 if stops or "unreadable" in expected.values() else 0)
    after = saved(tmp_path)
    if case == "every record 404":
        assert doc["stopped"].startswith(
            "every record answered 404: is this the right account and URL? Nothing was released"
        )
        assert set(findings.values()) == {"unreadable"}
    released = {s for s, a in expected.items() if a == "gone"}
    assert set(after) == {"maria", "garcia_auto"} - released


def _deletes_the_case(seen: Seen) -> Reply:
    if seen.path.endswith("/cases/bulk_delete"):
        return Reply(200, {"deleted_ids": [6]})
    return SHAPED_404


def _refuses_the_key_after_a_404(seen: Seen) -> Reply:
    if seen.path.endswith("/cases/bulk_delete"):
        return SHAPED_404
    return Reply(401, {"error": "unauthorized", "message": "invalid API key"})


DESTROYS: dict[str, tuple[Callable[[Seen], Reply], set[str], str | None]] = {
    # reply to each request -> symbols still saved afterwards, how the run stopped (if it did)
    "Kayse's own 404 to every record": (lambda seen: SHAPED_404, {"maria", "garcia_auto"}, "404"),
    "Kayse's own 404 to one record, the other deleted": (_deletes_the_case, set(), None),
    # The run stops before any answer shows the key sees the records: the 404 is not released.
    "Kayse's own 404, then a refused key": (
        _refuses_the_key_after_a_404,
        {"maria", "garcia_auto"},
        "401",
    ),
    "a 404 that is not Kayse's": (
        lambda seen: Reply(404, {"detail": "Not Found"}),
        {"maria", "garcia_auto"},
        "hint",
    ),
    "a 404 in HTML": (
        lambda seen: Reply(404, "<h1>nginx</h1>", {"Content-Type": "text/html"}),
        {"maria", "garcia_auto"},
        "hint",
    ),
    "a 405": (
        lambda seen: Reply(405, {"error": "method not allowed", "message": "no"}),
        {"maria", "garcia_auto"},
        "hint",
    ),
}


@pytest.mark.parametrize("case", sorted(DESTROYS))
def test_destroy_takes_only_kaysees_own_404_as_already_deleted(case: str, tmp_path: Path) -> None:
    respond, kept, stops = DESTROYS[case]
    command = ["destroy", "seed.yaml", "--yes", "--output", "json"]
    run, sent = seed_saved_then(respond, tmp_path, command)
    assert "unexpected" not in run.stderr
    assert run.code == (1 if stops else 0), run.stderr
    assert set(saved(tmp_path)) == kept  # a wrong URL or account releases nothing
    if stops == "hint":
        assert sent == 1  # the first answer about the endpoint stops the destroy
        assert run.json()["stopped"].endswith(HINT)
    if stops == "404":
        assert sent == 2  # each record asked once; the guard sends nothing more
        assert run.json()["stopped"].startswith("every record answered 404: ")
    if stops == "401":
        assert "HTTP 401" in run.json()["stopped"]
        records: list[dict[str, Any]] = run.json()["records"]
        held = next(r for r in records if r["symbol"] == "garcia_auto")
        assert held["action"] == "skipped" and "the next run asks again" in held["message"]


# -- finding 6: IDs in answers ----------------------------------------------------------------

BAD_SINGLE_IDS: list[Any] = [-5, 0, "7", 7.0, True, None, 2**63, 10**30, [7]]


@pytest.mark.parametrize("bad", BAD_SINGLE_IDS, ids=repr)
def test_a_create_answered_with_an_impossible_id_is_unknown(bad: Any, tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    with hostile_server([Reply(201, {"id": bad})], max_seconds=60) as server:
        run = kayse(
            ["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url, key=KEY
        )
    assert run.code == 1
    assert "unexpected" not in run.stderr
    assert run.json()["records"][0]["action"] == "unknown"
    assert saved(tmp_path)["maria"]["status"] == "unknown"


def _bulk_ids(ids: list[Any]) -> Callable[[Seen], Reply]:
    def respond(seen: Seen) -> Reply:
        return Reply(200, {"clients": [{"id": i} for i in ids]})

    return respond


@pytest.mark.parametrize(
    ("ids", "said"),
    [
        ([7, 7], "gave one ID to more than one record"),
        ([7, -1], "does not say which ID each record got"),
        ([7], "does not say which ID each record got"),
        ([7, 8, 9], "does not say which ID each record got"),
    ],
)
def test_a_bulk_answer_that_gives_one_id_twice_leaves_the_batch_unknown(
    ids: list[Any], said: str, tmp_path: Path
) -> None:
    (tmp_path / "leads.yaml").write_text(lead_recipe(2, "t"))
    with hostile_server(_bulk_ids(ids), max_seconds=60) as server:
        run = kayse(
            ["apply", "leads.yaml", "--output", "json"], cwd=tmp_path, url=server.url, key=KEY
        )
    assert run.code == 1
    assert said in run.json()["stopped"]
    state = saved(tmp_path, "leads")
    assert {state[s]["status"] for s in ("lead_0000", "lead_0001")} == {"unknown"}


def test_an_id_already_saved_for_another_record_is_not_given_to_a_second(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST.replace("maria:", "maria:", 1))
    two = lead_recipe(2, "t")
    (tmp_path / "leads.yaml").write_text(two)
    with hostile_server([Reply(201, {"id": 7})], max_seconds=60) as server:
        kayse(["state", "set", "leads.yaml", "lead_0000", "7"], cwd=tmp_path, url=server.url)
        run = kayse(
            ["apply", "leads.yaml", "--output", "json", "--target", "lead_0001"],
            cwd=tmp_path,
            url=server.url,
            key=KEY,
        )
    assert run.code == 1
    assert "an ID already saved for another record" in run.json()["stopped"]
    state = saved(tmp_path, "leads")
    assert state["lead_0000"]["id"] == 7 and state["lead_0001"]["status"] == "unknown"


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        ({"id": 5, "first_name": "Maria", "last_name": "Garcia"}, True),
        ({"id": 6, "first_name": "Maria"}, False),
        ({"id": "5", "first_name": "Maria"}, False),
        ({"id": 5, "case_number": "PI-1", "name": "a case"}, False),
        ({"first_name": "Maria"}, False),
    ],
)
def test_import_checks_the_answers_id_and_kind(
    answer: dict[str, Any], ok: bool, tmp_path: Path
) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    with hostile_server([Reply(200, answer)], max_seconds=60) as server:
        run = kayse(["import", "seed.yaml", "maria", "5"], cwd=tmp_path, url=server.url, key=KEY)
    assert "unexpected" not in run.stderr
    assert run.code == (0 if ok else 1), run.stderr
    if ok:
        assert saved(tmp_path)["maria"]["id"] == 5
    else:
        assert run.stderr == (
            f"error: GET /clients/{{id}}: the answer is not contact 5 but another record; {HINT}\n"
        )
        assert not (tmp_path / "seed.state.json").exists() or saved(tmp_path) == {}
