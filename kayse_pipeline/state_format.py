"""The state's parts on disk: a saved record, the checks of a journal entry, the file's text."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kayse_pipeline.bounds import is_id
from kayse_pipeline.model import KIND_ORDER, Kind

Status = Literal["ok", "unknown"]


@dataclass(frozen=True, slots=True)
class Saved:
    """What the state knows of a symbol: kind, ID (None while unknown) and fingerprint."""

    kind: Kind
    id: int | None
    fingerprint: str
    status: Status = "ok"


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
