"""The state's parts on disk: its names, a saved record, a journal entry's checks, its text."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kayse_pipeline.bounds import is_id
from kayse_pipeline.model import KIND_ORDER, Kind

FORMAT = "kayse-pipeline-state"  # the "format" of a state file and of its journal's header
VERSION = 1

Status = Literal["ok", "unknown"]


@dataclass(frozen=True, slots=True)
class Saved:
    """What the state knows of a symbol: kind, ID (None while unknown) and fingerprint."""

    kind: Kind
    id: int | None
    fingerprint: str
    status: Status = "ok"


def normalize_target(url: str) -> str:
    """The form of an API URL that states compare: no trailing slash, lower-case scheme and host."""
    if url == "sandbox":
        return url
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.rstrip("/")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")


def default_state_path(manifest: Path, *, sandbox: bool) -> Path:
    """Beside the manifest, named after it; the sandbox has a file of its own."""
    suffix = ".sandbox.state.json" if sandbox else ".state.json"
    return manifest.with_name(manifest.stem + suffix)


def manifest_ref(manifest: Path, state: Path) -> str:
    """How a state names its manifest: the path from the state file's folder, with ``/``.

    Relative, so that a checkout in another folder (CI) finds the same name; a manifest
    renamed or moved is another manifest until the user says otherwise.
    """
    target, folder = manifest.resolve(), state.resolve().parent
    try:
        return Path(os.path.relpath(target, folder)).as_posix()
    except ValueError:  # another drive on Windows
        return target.as_posix()


def _ids(entry: Mapping[str, Any], name: str) -> bool:
    value = entry.get(name, [])
    return isinstance(value, list) and all(is_id(i) for i in value)


def _items(entry: Mapping[str, Any], *, with_id: bool) -> bool:
    """Pending items are ``[symbol, fingerprint]``, saved ones ``[symbol, id, fingerprint]``."""
    items = entry["items"]
    if not isinstance(items, list):
        return False
    for item in items:
        if not isinstance(item, list) or len(item) != (3 if with_id else 2):
            return False
        if not isinstance(item[0], str) or not isinstance(item[-1], str):
            return False
        if with_id and not is_id(item[1]):
            return False
    return True


def checked_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A journal entry that folds into a state that still loads; else ValueError.

    Every field is checked for the type that the state file itself demands, so that an
    entry that looks right (a ``pending`` item carrying an ID, a fingerprint that is a
    number) cannot turn a loadable state into a damaged one when the journal is folded in.
    """
    op = entry["op"]
    if op in ("pending", "saved"):
        ok = entry["kind"] in KIND_ORDER and _items(entry, with_id=op == "saved")
    elif op == "released":
        symbols = entry["symbols"]
        ok = isinstance(symbols, list) and all(isinstance(s, str) for s in symbols)
    elif op == "members":
        ok = (
            isinstance(entry["list"], str)
            and entry["field"] in ("include_ids", "client_ids")
            and _ids(entry, "add")
            and _ids(entry, "remove")
            and isinstance(entry.get("reset", False), bool)
        )
    else:
        ok = False
    if not ok:
        raise ValueError(op)
    return entry


def parse_record(entry: Any) -> Saved | None:
    """A record of the state file, or None when it is damaged."""
    if not isinstance(entry, dict):
        return None
    status, record_id = entry.get("status", "ok"), entry.get("id")
    ok = (
        entry.get("kind") in KIND_ORDER
        and isinstance(entry.get("fingerprint"), str)
        and status in ("ok", "unknown")
    )
    if ok and status == "ok":
        ok = is_id(record_id)
    if not ok:
        return None
    if status == "ok":
        return Saved(entry["kind"], record_id, entry["fingerprint"])
    return Saved(entry["kind"], None, entry["fingerprint"], "unknown")


def parse_membership(fields: Any) -> dict[str, set[int]] | None:
    """One list's memberships of the state file, or None when they are damaged."""
    if not isinstance(fields, dict) or not set(fields) <= {"include_ids", "client_ids"}:
        return None
    parsed: dict[str, set[int]] = {}
    for name, ids in fields.items():
        if not isinstance(ids, list) or not all(is_id(i) for i in ids):
            return None
        parsed[name] = set(ids)
    return parsed


def fold(
    records: dict[str, Saved],
    memberships: dict[str, dict[str, set[int]]],
    entry: Mapping[str, Any],
) -> None:
    """Apply one journal entry (checked by ``checked_entry``) to the records and memberships."""
    op = entry["op"]
    if op == "pending":
        for symbol, fingerprint in entry["items"]:
            records[symbol] = Saved(entry["kind"], None, fingerprint, "unknown")
    elif op == "saved":
        for symbol, record_id, fingerprint in entry["items"]:
            records[symbol] = Saved(entry["kind"], record_id, fingerprint)
    elif op == "released":
        for symbol in entry["symbols"]:
            records.pop(symbol, None)
    elif op == "members":
        fields = memberships.setdefault(entry["list"], {})
        ids = fields.setdefault(entry["field"], set())
        if entry.get("reset"):
            ids.clear()
        ids.update(entry.get("add", ()))
        ids.difference_update(entry.get("remove", ()))
        if not ids:
            del fields[entry["field"]]
        if not fields:
            del memberships[entry["list"]]


def render_state(
    head: Mapping[str, Any],
    records: Mapping[str, Saved],
    memberships: Mapping[str, Mapping[str, set[int]]],
) -> str:
    """The state file's text: stable order, one record a line, so that diffs stay small."""
    lines = ["{"]
    lines += [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    lines += _section("records", list(_record_lines(records)), last=False)
    lines += _section("memberships", list(_membership_lines(memberships)), last=True)
    lines.append("}")
    return "\n".join(line for line in lines if line) + "\n"


def _section(name: str, entries: list[str], *, last: bool) -> list[str]:
    comma = "" if last else ","
    if not entries:
        return [f'  "{name}": {{}}{comma}']
    return [f'  "{name}": {{', ",\n".join(entries), f"  }}{comma}"]


def _record_lines(records: Mapping[str, Saved]) -> Iterator[str]:
    for symbol in sorted(records):
        saved = records[symbol]
        entry: dict[str, Any] = {"kind": saved.kind}
        if saved.status == "ok":
            entry["id"] = saved.id
        else:
            entry["status"] = saved.status
        entry["fingerprint"] = saved.fingerprint
        yield f"    {json.dumps(symbol)}: {json.dumps(entry)}"


def _membership_lines(memberships: Mapping[str, Mapping[str, set[int]]]) -> Iterator[str]:
    for list_symbol in sorted(memberships):
        fields = {name: sorted(ids) for name, ids in sorted(memberships[list_symbol].items())}
        yield f"    {json.dumps(list_symbol)}: {json.dumps(fields)}"
