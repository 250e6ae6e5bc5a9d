"""Every way a user can go wrong: a clear message, exit 1, and nothing half-written.

The real CLI runs as a child process against ``sandbox serve``, a closed port, or a web
server that is not Kayse; the disk is filled with /dev/full; Ctrl-C is a real SIGINT.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from kayse_pipeline.api.client import KayseClient
from kayse_pipeline.errors import StateError
from kayse_pipeline.manifest.load import load_manifest
from kayse_pipeline.plan.apply import make_plan
from kayse_pipeline.run.executor import Executor
from kayse_pipeline.sandbox import SandboxTransport, open_sandbox
from kayse_pipeline.state import StateStore
from testing.cli import SEED_MANIFEST, actions, kayse
from testing.sandbox import TEST_KEY, running_sandbox
from testing.sandbox_process import SandboxProcess

needs_dev_full = pytest.mark.skipif(
    sys.platform != "linux" or not Path("/dev/full").exists(), reason="needs /dev/full"
)


def seed(tmp_path: Path, text: str = SEED_MANIFEST) -> None:
    (tmp_path / "seed.yaml").write_text(text)


def folder_snapshot(tmp_path: Path) -> dict[str, bytes]:
    """Every file the CLI may have written beside the manifest (not the sandbox's own)."""
    return {
        p.name: p.read_bytes()
        for p in tmp_path.iterdir()
        if p.is_file() and not p.name.startswith("sandbox-")
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "version: 1\ncontacts:\n  maria: {first_name: Maria\n",
            "seed.yaml:4:1: invalid YAML: while parsing a flow mapping at line 3, expected ',' "
            "or '}', but got '<stream end>'\n",
        ),
        (
            SEED_MANIFEST.replace("    last_name: Garcia\n", ""),
            "seed.yaml:9:3: contacts.maria.last_name: required field missing\n",
        ),
    ],
    ids=["malformed-yaml", "invalid-record"],
)
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_an_invalid_manifest_sends_nothing_and_writes_nothing(
    tmp_path: Path, server: SandboxProcess, command: str, text: str, message: str
) -> None:
    seed(tmp_path, text)
    run = kayse([command, "seed.yaml"], cwd=tmp_path, url=server.url)
    assert (run.code, run.stdout, run.stderr) == (1, "", message)
    assert server.stats()["requests"] == 0
    assert folder_snapshot(tmp_path) == {"seed.yaml": text.encode()}


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    seed(tmp_path)
    url = f"http://127.0.0.1:{port}/v1"
    started = time.monotonic()
    run = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=url)
    assert run.code == 1
    assert run.json()["stopped"] == (
        f"cannot connect to {url} (connection refused or host not found); gave up after 5 "
        "attempts: is the API URL right, and is the network up?"
    )
    assert set(actions(run).values()) == {"skipped"}
    assert time.monotonic() - started < 30  # bounded backoff, not a hang
    assert json.loads((tmp_path / "seed.state.json").read_text())["records"] == {}


class _HtmlSite(BaseHTTPRequestHandler):
    """A web server that is not Kayse: every request gets a page."""

    status = 200

    def _page(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"<html><body><h1>Welcome</h1></body></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = _page

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def html_site(status: int) -> Iterator[str]:
    handler = type("Site", (_HtmlSite,), {"status": status})
    site = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}/v1"
    finally:
        site.shutdown()
        site.server_close()


def test_a_success_that_is_not_json_leaves_the_create_unknown(tmp_path: Path) -> None:
    seed(tmp_path)
    with html_site(200) as url:
        run = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=url)
    assert run.code == 1
    assert run.json()["stopped"].startswith(
        "POST /clients: the answer is not JSON (text/html); "
        "is --api-url (or KAYSE_API_URL) the Kayse Public API, ending in /v1? "
        "Not known whether Kayse created 1 contact(s) (maria)."
    )
    assert run.json()["requests"] == 1
    saved = json.loads((tmp_path / "seed.state.json").read_text())["records"]
    assert saved["maria"]["status"] == "unknown"


@pytest.mark.parametrize(
    ("status", "stopped"),
    [
        (
            404,
            "{url} answered POST /clients with HTTP 404 and text/html, not Kayse's JSON: "
            "is --api-url (or KAYSE_API_URL) the Kayse Public API, ending in /v1?",
        ),
    ],
)
def test_a_server_that_is_not_kayse_is_a_clear_error(
    tmp_path: Path, status: int, stopped: str
) -> None:
    seed(tmp_path)
    with html_site(status) as url:
        run = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=url)
    assert run.code == 1
    assert run.json()["stopped"] == stopped.format(url=url)
    assert run.json()["requests"] == 1  # no retry, no halving of the batch
    # Nothing was created in Kayse: nothing is left unknown for a person to check.
    assert json.loads((tmp_path / "seed.state.json").read_text())["records"] == {}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda text: text[: len(text) // 2],
            "error: seed.state.json:{line}:{column}: state file is not valid JSON "
            "({reason}); restore it from version control\n",
        ),
        (
            lambda text: text.replace('"id": ', '"id": "', 1).replace(
                ', "fingerprint"', '", "fingerprint"', 1
            ),
            "error: seed.state.json: record 'garcia_auto' is damaged; restore the file\n",
        ),
        (
            lambda text: text.replace('"format": "kayse-pipeline-state"', '"format": "other"'),
            "error: seed.state.json is not a kayse-pipeline state file\n",
        ),
        (
            lambda text: text.replace('{"kind": "contact"', '{"kind": "case"'),
            "error: seed.yaml:9:3: symbol 'maria' is saved as a case but the manifest makes it "
            "a contact; run `kayse-pipeline state forget` for it first, or use another symbol\n",
        ),
    ],
    ids=["truncated", "id-not-a-number", "not-a-state-file", "kind-changed"],
)
def test_a_damaged_or_hand_edited_state_is_refused_untouched(
    tmp_path: Path, server: SandboxProcess, edit: Any, message: str
) -> None:
    seed(tmp_path)
    assert kayse(["apply", "seed.yaml"], cwd=tmp_path, url=server.url).code == 0
    state = tmp_path / "seed.state.json"
    damaged = edit(state.read_text())
    state.write_text(damaged)
    before = server.stats()["requests"]
    for command in ("plan", "apply"):
        run = kayse([command, "seed.yaml"], cwd=tmp_path, url=server.url)
        assert run.code == 1
        if "{line}" in message:
            try:
                json.loads(damaged)
            except json.JSONDecodeError as exc:
                expected = message.format(line=exc.lineno, column=exc.colno, reason=exc.msg)
            assert run.stderr == expected
        else:
            assert run.stderr == message
    assert state.read_text() == damaged
    assert server.stats()["requests"] == before
    assert sorted(p.name for p in tmp_path.glob("seed.state.json*")) == [
        "seed.state.json",
        "seed.state.json.lock",  # kept: a lock file removed on release lets two runs hold it
    ]


@needs_dev_full
def test_a_full_disk_while_saving_loses_no_id(tmp_path: Path, server: SandboxProcess) -> None:
    seed(tmp_path)

    env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    env |= {"KAYSE_API_URL": server.url, "KAYSE_API_KEY": TEST_KEY}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[1]), env.get("PYTHONPATH", "")])
    done = subprocess.run(  # the disk is full for the state file's temporary copy
        [
            sys.executable,
            "-m",
            "testing.disk",
            ".seed.state.json.*.tmp",
            "--",
            "apply",
            "seed.yaml",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.endswith(
        "error: cannot save seed.state.json: No space left on device; the journal "
        "seed.state.json.journal still holds every ID, run again once it can be written\n"
    )
    assert not (tmp_path / "seed.state.json").exists()  # nothing half-written
    assert (tmp_path / "seed.state.json.journal").exists()
    assert not list(tmp_path.glob(".seed.state.json.*.tmp"))
    sent = server.stats()["requests"]
    run = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    assert set(actions(run).values()) == {"unchanged"}
    assert server.stats()["requests"] == sent
    dump = server.dump()
    assert [len(dump[k]) for k in ("clients", "cases", "case_lists", "campaigns")] == [1, 1, 1, 1]


class _DiskFillsAfterTheCaseCreate(httpx.BaseTransport):
    """Kayse answers the case create; at that moment the disk under the journal fills up."""

    def __init__(self, inner: httpx.BaseTransport, state: StateStore) -> None:
        self.inner = inner
        self.state = state

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/cases"):
            self.state._journal.file = open("/dev/full", "a", encoding="utf-8")  # noqa: SIM115
        return response


@needs_dev_full
def test_ids_that_could_not_be_saved_are_in_the_message(tmp_path: Path) -> None:
    seed(tmp_path)
    manifest = load_manifest(tmp_path / "seed.yaml")
    with open_sandbox(tmp_path / "sandbox", rate_limit="off", faults="off") as core:
        store = StateStore.open(tmp_path / "seed.state.json", "sandbox")
        with pytest.raises(StateError) as err, store as state:
            transport = _DiskFillsAfterTheCaseCreate(SandboxTransport(core), state)
            client = KayseClient("http://sandbox.invalid/v1", None, transport=transport)
            Executor(manifest, make_plan(manifest, state), state, client).run()
        (case,) = core.dump()["cases"]
    assert str(err.value) == (
        f"cannot write {tmp_path / 'seed.state.json.journal'}: No space left on device; nothing "
        "more will be sent until the state can be saved. Kayse created 1 case(s) whose IDs could "
        f"not be saved: once the state can be written, run `kayse-pipeline state set MANIFEST "
        f"garcia_auto {case['id']}`"
    )
    saved = StateStore.open(tmp_path / "seed.state.json", "sandbox", lock=False)
    assert saved.get("garcia_auto") is not None and saved.unknown() == ["garcia_auto"]


def test_ctrl_c_mid_run_exits_130_and_saves_the_answer_in_flight(tmp_path: Path) -> None:
    seed(tmp_path)
    with running_sandbox(tmp_path, faults="slow=1,slow_seconds=3") as slow:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
        env |= {"KAYSE_API_URL": slow.url, "KAYSE_API_KEY": TEST_KEY}
        child = subprocess.Popen(
            [sys.executable, "-m", "kayse_pipeline", "apply", "seed.yaml"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while slow.stats()["requests"] == 0 and child.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        child.send_signal(signal.SIGINT)  # the contact create is in flight
        _, err = child.communicate(timeout=30)
        assert child.returncode == 130
        assert err.endswith(
            "stopped by SIGINT: 1 record(s) done, 3 left for the next run, 0 unknown; "
            "every ID Kayse returned is saved in seed.state.json\n"
        )
        state = StateStore.open(tmp_path / "seed.state.json", slow.url, lock=False)
        assert state.unknown() == []
        (contact,) = slow.dump()["clients"]
        assert state.id_of("maria") == contact["id"]  # the answer that came during the grace
        assert sorted(p.name for p in tmp_path.glob("seed.state.json*")) == [
            "seed.state.json",
            "seed.state.json.lock",  # kept: a lock file removed on release lets two runs hold it
        ]
        slow.set_faults("off")
        final = kayse(["apply", "seed.yaml"], cwd=tmp_path, url=slow.url)
        assert final.code == 0, final.stderr
        dump = slow.dump()
        assert [len(dump[k]) for k in ("clients", "cases", "case_lists", "campaigns")] == [
            1,
            1,
            1,
            1,
        ]
