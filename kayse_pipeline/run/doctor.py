"""``doctor``: check a target account against kayse-pipeline's assumptions, with reads only.

At most ``MAX_REQUESTS`` GETs, each sent once (no retry, no wait):

1. ``GET /metadata/objects``: is it Kayse, is the key good, the rate-limit headers, the
   fields and allowed values the account lists;
2. ``GET /case_lists`` (one page of 100): a documented read in both doc sites, so a
   missing metadata endpoint is told apart from a server that is not Kayse; the
   existing lists a manifest names;
3. the existing cases and contacts a manifest names by ID, one ``GET`` each;
4. when no error answer was seen yet and a request is left: one read of a client ID no
   account has, to see Kayse's error body.

It stops early when an answer makes the next request pointless (no answer, not Kayse,
the key refused, a 429, a spent budget).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kayse_pipeline.api.client import KayseClient
from kayse_pipeline.api.endpoints import ENDPOINTS
from kayse_pipeline.errors import KayseError, TransportError
from kayse_pipeline.model import Manifest
from kayse_pipeline.plan.apply import make_plan
from kayse_pipeline.run.doctor_checks import (
    SHOWN_TEXT,
    Answer,
    Check,
    Finding,
    budget_check,
    key_check,
    listed,
    rate_check,
    url_check,
)
from kayse_pipeline.run.doctor_schema import (
    Usage,
    fields_check,
    metadata_missing,
    parse_metadata,
    values_check,
)
from kayse_pipeline.run.session import Options, checkup
from kayse_pipeline.safe_text import safe_line

MAX_REQUESTS = 5
LIST_PAGE = 100  # the documented maximum page size of GET /case_lists
NO_SUCH_ID = 999_999_999_999_999_999  # 18 digits: a valid ID that no account reaches
HEADERS_KEPT = 40  # headers of an answer that doctor looks at


@dataclass(frozen=True)
class DoctorReport:
    """Every check, and what doctor sent to make them."""

    target: str
    manifest: Path | None
    checks: tuple[Check, ...]
    requests: int
    methods: Mapping[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Nothing failed (warnings do not fail)."""
        return all(c.verdict != "failed" for c in self.checks)


@dataclass
class _Wanted:
    """What a manifest names that already exists in Kayse, and where."""

    cases: dict[int, list[str]] = field(default_factory=dict)
    contacts: dict[int, list[str]] = field(default_factory=dict)
    lists: dict[int, list[str]] = field(default_factory=dict)
    agents: dict[str, list[str]] = field(default_factory=dict)
    new_lists: dict[str, str] = field(default_factory=dict)  # name -> symbol

    @classmethod
    def of(cls, manifest: Manifest, creates: set[str]) -> _Wanted:
        wanted = cls()
        for record in manifest.of_kind("contact"):
            for ref in record.fields.get("case_ids", ()):
                if isinstance(ref, int):
                    wanted.cases.setdefault(ref, []).append(f"contacts.{record.symbol}")
        for record in manifest.of_kind("case"):
            for ref in record.refs.get("client_ids", ()):
                if isinstance(ref, int):
                    wanted.contacts.setdefault(ref, []).append(f"cases.{record.symbol}")
        for record in manifest.of_kind("list"):
            for name, refs in record.refs.items():
                into = wanted.contacts if name == "client_ids" else wanted.cases
                for ref in refs:
                    if isinstance(ref, int):
                        into.setdefault(ref, []).append(f"lists.{record.symbol}.{name}")
            if record.symbol in creates and isinstance(record.fields.get("name"), str):
                wanted.new_lists[record.fields["name"]] = record.symbol
        for record in manifest.of_kind("campaign"):
            for ref in record.refs.get("case_list_id", ()):
                if isinstance(ref, int):
                    wanted.lists.setdefault(ref, []).append(f"campaigns.{record.symbol}")
            agent = record.fields.get("agent_id")
            if isinstance(agent, str):
                wanted.agents.setdefault(agent, []).append(record.symbol)
        return wanted

    def __bool__(self) -> bool:
        return bool(self.cases or self.contacts or self.lists or self.agents or self.new_lists)


def doctor(
    options: Options,
    *,
    with_manifest: bool,
    log: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> DoctorReport:
    """Run every check against the target of ``options`` (its manifest only when given)."""
    target = options.target
    with checkup(options, with_manifest=with_manifest, log=log) as run:
        manifest = run.manifest
        needed, plan_note, creates = None, None, set()
        if manifest is not None:
            try:
                the_plan = make_plan(manifest, run.state(), batch_size=options.batch_size)
                needed = the_plan.requests
                creates = {r.symbol for r in the_plan.records if r.action == "create"}
            except KayseError as exc:
                plan_note = f"the plan cannot be made: {exc}"
        wanted = _Wanted.of(manifest, creates) if manifest is not None else _Wanted()
        probe = _Probe(run.client, options.api_key.strip())
        probe.run(wanted)
    answers = probe.answers
    checks = [
        url_check(_shown_target(options), answers),
        key_check(answers, key_given=bool(probe.key), sandbox=options.sandbox),
        rate_check(answers, clock()),
        budget_check(answers, clock(), needed, plan_note),
        *_metadata_checks(probe.metadata, manifest),
    ]
    if wanted:
        checks.append(_existing_check(wanted, probe))
    methods: dict[str, int] = {}
    for answer in answers:
        methods[answer.method] = methods.get(answer.method, 0) + 1
    return DoctorReport(target, options.manifest if with_manifest else None, tuple(checks),
                        len(answers), methods)  # fmt: skip


def _shown_target(options: Options) -> str:
    return "http://sandbox.invalid/v1" if options.sandbox else options.target


class _Probe:
    """Sends doctor's reads, in order, and stops when the next one would tell nothing."""

    def __init__(self, client: KayseClient, key: str) -> None:
        self.client = client
        self.key = key
        # A proxy or a foreign server may echo the key: it never reaches the report.
        self.secrets = [s.encode() for s in (key, json.dumps(key)[1:-1]) if len(s) >= 4]
        self.answers: list[Answer] = []
        self.metadata: Answer | None = None
        self.lists: Answer | None = None
        self.by_id: dict[tuple[str, int], Answer] = {}
        self.stopped = ""

    def run(self, wanted: _Wanted) -> None:
        self.metadata = self._send("metadata.objects")
        self.lists = self._send("case_lists.list", params={"page_size": LIST_PAGE})
        for kind, ids in (("cases", wanted.cases), ("clients", wanted.contacts)):
            for record_id in ids:
                answer = self._send(f"{kind}.get", id=record_id)
                if answer is not None:
                    self.by_id[(kind, record_id)] = answer
        if not any(a.status is not None and a.status >= 400 for a in self.answers):
            self._send("clients.get", id=NO_SUCH_ID)

    def _send(
        self, name: str, *, id: int | None = None, params: Mapping[str, str | int] | None = None
    ) -> Answer | None:
        if self.stopped or len(self.answers) >= MAX_REQUESTS:
            return None
        endpoint = ENDPOINTS[name]
        path = endpoint.path.format(id=id) if id is not None else endpoint.path
        try:
            raw = self.client.read_once(name, id=id, params=params)
        except TransportError as exc:
            self.answers.append(Answer(endpoint.method, path, failure=safe_line(exc, SHOWN_TEXT)))
            self.stopped = "no answer"
            return self.answers[-1]
        headers = {
            safe_line(k, 60).lower(): safe_line(
                self._redacted(v.encode()).decode("utf-8", "replace"), SHOWN_TEXT
            )
            for k, v in list(raw.headers.items())[:HEADERS_KEPT]
        }
        kind = headers.get("content-type", "").split(";")[0].strip()
        body, is_json = None, False
        if raw.body and not raw.truncated:
            text = self._redacted(raw.body)
            try:
                body, is_json = json.loads(text), True
            except ValueError:
                body = safe_line(text.decode("utf-8", "replace"), 80)
        elif raw.truncated:
            body = "(larger than doctor reads)"
        answer = Answer(endpoint.method, path, raw.status, kind, headers, body, is_json)
        self.answers.append(answer)
        remaining = self.client.pacer.remaining
        if raw.status in (401, 429) or 300 <= raw.status < 400 or (raw.body and not is_json):
            self.stopped = f"HTTP {raw.status}"
        elif remaining is not None and remaining <= 0:
            self.stopped = "the budget is spent"
        return answer

    def _redacted(self, data: bytes) -> bytes:
        for secret in self.secrets:
            data = data.replace(secret, b"[redacted]")
        return data


def _metadata_checks(answer: Answer | None, manifest: Manifest | None) -> list[Check]:
    if answer is None or answer.status is None:
        return list(metadata_missing("GET /metadata/objects was not answered", "not compared"))
    if not answer.success:
        reason = (
            "this account does not offer it (only Kayse's older docs show it)"
            if answer.status == 404 and answer.kayse_error
            else "not compared"
        )
        return list(metadata_missing(answer.described(), reason))
    objects = parse_metadata(answer.body)
    if isinstance(objects, str):
        shape = "not shaped as the older docs show ([{name, fields: [...]}])"
        return list(metadata_missing(f"GET /metadata/objects: {objects}", shape))
    usage = Usage.of(manifest) if manifest is not None else None
    return [fields_check(objects, usage), values_check(objects, manifest, usage)]


def _existing_check(wanted: _Wanted, probe: _Probe) -> Check:
    """What a manifest names in Kayse: confirmed by reads where a read exists, said where not."""
    found = Finding("existing", "records the manifest names in Kayse")
    for kind, ids in (("cases", wanted.cases), ("clients", wanted.contacts)):
        noun = kind[:-1] if kind == "cases" else "contact"
        unread = [str(i) for i in ids if (kind, i) not in probe.by_id]
        if unread:  # one line, however many: a recipe may name thousands
            found.note(
                "warning",
                f"{len(unread)} existing {noun}(s) not read (doctor sends at most "
                f"{MAX_REQUESTS} requests): {listed(unread)}",
                "look them up in Kayse before the first apply",
            )
        for record_id, where in ids.items():
            answer = probe.by_id.get((kind, record_id))
            named = f"{noun} {record_id} (named by {listed(where, 3)})"
            if answer is None:
                continue
            if answer.success:
                found.note("ok", f"{named} exists")
            elif answer.status == 404:
                found.note(
                    "failed", f"{named} does not exist (HTTP 404)", "fix the ID in the manifest"
                )
            else:
                found.note("warning", f"{named}: {answer.described()}")
    rows, total = _list_rows(probe.lists)
    for list_id, where in wanted.lists.items():
        named = f"list {list_id} (named by {listed(where, 3)})"
        if rows is None:
            found.note("warning", f"{named}: the lists could not be read")
        elif list_id in rows:
            found.note("ok", f"{named} exists: '{safe_line(rows[list_id], 80)}'")
        elif total is not None and total <= LIST_PAGE:
            found.note("failed", f"{named} is not among the account's {total} lists",
                       "fix the ID in the manifest")  # fmt: skip
        else:
            found.note(
                "warning",
                f"{named}: not among the first {LIST_PAGE} lists doctor reads "
                "(Kayse documents no read of one list by ID)",
                "look it up in Kayse before the first apply",
            )
    if rows is not None:
        names = {name: list_id for list_id, name in rows.items()}
        for name, symbol in wanted.new_lists.items():
            if name in names:
                found.note(
                    "warning",
                    f"lists.{symbol}: a list named '{safe_line(name, 80)}' already exists "
                    f"(id {names[name]}); apply would create a second one",
                    f"if it is the same list, adopt it: kayse-pipeline import MANIFEST {symbol} "
                    f"{names[name]}",
                )
    for agent, symbols in wanted.agents.items():
        found.note(
            "warning",
            f"agent_id '{safe_line(agent, 80)}' (campaigns {listed(symbols, 3)}): cannot be "
            "confirmed: Kayse documents no read of agents",
            "check the agent's ID in Kayse before the first apply: a campaign cannot be "
            "corrected or deleted through the API",
        )
    return found.done()


def _list_rows(answer: Answer | None) -> tuple[dict[int, str] | None, int | None]:
    """id -> name of the lists in a ``GET /case_lists`` answer, and the total it gives."""
    if answer is None or not answer.success or not isinstance(answer.body, dict):
        return None, None
    data = answer.body.get("data")
    if not isinstance(data, list):
        return None, None
    rows: dict[int, str] = {}
    for row in data[:LIST_PAGE]:
        if isinstance(row, dict) and type(row.get("id")) is int:
            rows[row["id"]] = str(row.get("name", ""))
    total: Any = answer.body.get("total")
    return rows, total if type(total) is int else None
