"""Issue 11, finding 19: a create's "pending" entry is on disk (fsynced) before the create is sent.

A SIGKILL test cannot tell a flushed journal from an fsynced one: the page cache
survives the process. So the real CLI runs against the real sandbox with a small
``sitecustomize`` that watches the operating system's edge: every ``os.fsync`` of the
journal (with the journal's size then) and every request as it goes out on a socket
(with the journal's size and last line at that moment).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from testing.cli import kayse
from testing.faults import lead_recipe
from testing.sandbox_process import sandbox_process

WATCHER = """
import json, os, socket

_LOG = os.environ["KAYSE_ORDER_LOG"]
_JOURNAL = os.environ["KAYSE_ORDER_JOURNAL"]
_fsync = os.fsync
_send = socket.socket.send
_sendall = socket.socket.sendall


def _log(event):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(event) + "\\n")


def _size():
    try:
        return os.stat(_JOURNAL).st_size
    except OSError:
        return 0


def fsync(fd):
    _fsync(fd)
    try:
        path = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        path = ""
    if path == _JOURNAL:
        _log({"op": "fsync", "size": _size()})


def _watch(data):
    first = bytes(data[:200]).split(b"\\r\\n", 1)[0].decode("latin-1")
    if first.split(" ")[0] in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            with open(_JOURNAL, encoding="utf-8") as journal:
                lines = journal.read().splitlines()
        except OSError:
            lines = []
        _log({"op": "send", "request": first, "size": _size(), "last": lines[-1] if lines else ""})


def send(self, data, *args):
    _watch(data)
    return _send(self, data, *args)


def sendall(self, data, *args):
    _watch(data)
    return _sendall(self, data, *args)


os.fsync = fsync
socket.socket.send = send
socket.socket.sendall = sendall
"""
CREATES = ("/clients", "/clients/bulk", "/cases", "/cases/bulk", "/case_lists",
           "/case_lists/bulk", "/campaigns")  # fmt: skip


def events(tmp_path: Path, leads: int, batch: int) -> list[dict[str, Any]]:
    watcher = tmp_path / "watcher"
    watcher.mkdir()
    (watcher / "sitecustomize.py").write_text(WATCHER)
    (tmp_path / "leads.yaml").write_text(lead_recipe(leads, "o"))
    log = tmp_path / "order.log"
    with sandbox_process(tmp_path / "sandbox") as sandbox:
        run = kayse(
            ["apply", "leads.yaml", "--batch-size", str(batch)],
            cwd=tmp_path,
            url=sandbox.url,
            env={
                "PYTHONPATH": str(watcher),
                "KAYSE_ORDER_LOG": str(log),
                "KAYSE_ORDER_JOURNAL": str((tmp_path / "leads.state.json.journal").resolve()),
            },
        )
    assert run.code == 0, run.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_pending_is_fsynced_before_each_create_is_sent(tmp_path: Path) -> None:
    seen = events(tmp_path, leads=6, batch=2)
    fsynced = 0
    creates = 0
    for event in seen:
        if event["op"] == "fsync":
            fsynced = event["size"]
            continue
        method, target = event["request"].split(" ")[:2]
        if method != "POST" or target.removeprefix(urlpath(target)) not in CREATES:
            continue
        creates += 1
        # Everything in the journal when the request left was on disk, its last line this
        # batch's "pending" entry (whatever else was written with it in the same fsync).
        assert event["size"] == fsynced, f"{event['request']}: journal not fsynced"
        assert json.loads(event["last"])["op"] == "pending", event
    assert creates == 3 + 3 + 1 + 1  # contacts and cases in batches of 2, a list, a campaign


def urlpath(target: str) -> str:
    """The URL's prefix before the endpoint path: ``/v1``."""
    return target[: target.index("/", 1)] if target.count("/") > 1 else ""
