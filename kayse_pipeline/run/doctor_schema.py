"""Doctor's comparison of ``GET /metadata/objects`` with the manifest schema and a manifest.

Pure: the answer (already decoded) and the manifest in, checks out. The answer is
untrusted: its shape is checked, its sizes bounded, its text cleaned before it is shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kayse_pipeline.manifest.schema import (
    MANIFEST_ONLY_FIELDS,
    REQUIRED_FIELDS,
    manifest_schema,
)
from kayse_pipeline.model import MEMBERSHIP_FIELDS, Kind, Manifest
from kayse_pipeline.run.doctor_checks import Check, Finding, listed
from kayse_pipeline.safe_text import safe_line

# Manifest kinds and the objects Kayse's metadata names for them.
OBJECTS: Mapping[Kind, str] = {"contact": "clients", "case": "cases", "list": "case_lists"}
SECTIONS: Mapping[Kind, str] = {"contact": "contacts", "case": "cases", "list": "lists"}
MAX_OBJECTS = 100
MAX_FIELDS = 1_000
MAX_VALUES = 5_000
VALUE_FIELDS = ("type", "status", "external_source")  # fields whose values a recipe writes
FILTER_FIELDS = {"case_type_ids": "type", "status_ids": "status"}
EXAMPLES = 3  # symbols named as examples of a finding


@dataclass(frozen=True)
class MetaField:
    """One field as the account lists it."""

    name: str
    required: bool
    values: tuple[tuple[int | None, str], ...] | None  # (id, name) of a closed list


def parse_metadata(body: Any) -> dict[str, dict[str, MetaField]] | str:
    """object name -> field name -> field; or what is wrong with the answer's shape."""
    if not isinstance(body, list):
        return "the answer is not a JSON array"
    objects: dict[str, dict[str, MetaField]] = {}
    for entry in body[:MAX_OBJECTS]:
        if not isinstance(entry, dict) or not isinstance(entry.get("fields"), list):
            return "an item is not {name, fields: [...]}"
        name = entry.get("name")
        if not isinstance(name, str):
            return "an object has no name"
        fields: dict[str, MetaField] = {}
        for item in entry["fields"][:MAX_FIELDS]:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                shape = "{name, type, required, description}"
                return f"a field of {safe_line(name, 40)} is not {shape}"
            fields[item["name"]] = MetaField(
                item["name"], item.get("required") is True, _values(item.get("values"))
            )
        objects[name] = fields
    return objects


def _values(raw: Any) -> tuple[tuple[int | None, str], ...] | None:
    if not isinstance(raw, list):
        return None
    found: list[tuple[int | None, str]] = []
    for value in raw[:MAX_VALUES]:
        if isinstance(value, str):
            found.append((None, value))
        elif isinstance(value, dict) and isinstance(value.get("name"), str):
            ident = value.get("id")
            found.append((ident if type(ident) is int else None, value["name"]))
    return tuple(found)


@dataclass
class Usage:
    """What a manifest uses: fields per kind (with example symbols), values, filter IDs."""

    counts: dict[Kind, int] = field(default_factory=dict)
    fields: dict[Kind, dict[str, list[str]]] = field(default_factory=dict)
    values: dict[tuple[Kind, str], dict[str, list[str]]] = field(default_factory=dict)
    filters: list[tuple[str, str, tuple[Any, ...]]] = field(default_factory=list)

    @classmethod
    def of(cls, manifest: Manifest) -> Usage:
        usage = cls()
        for kind in OBJECTS:
            used = usage.fields.setdefault(kind, {})
            count = 0
            for record in manifest.of_kind(kind):
                count += 1
                names = [*record.fields, *record.refs]
                for name in names:
                    if not (kind == "list" and name == "client_ids"):  # an append, not a field
                        used.setdefault(name, []).append(record.symbol)
                for name in VALUE_FIELDS:
                    value = record.fields.get(name)
                    if isinstance(value, str):
                        seen = usage.values.setdefault((kind, name), {})
                        seen.setdefault(value, []).append(record.symbol)
                list_filter = record.fields.get("filter")
                if kind == "list" and isinstance(list_filter, Mapping):
                    for key, ids in list_filter.items():
                        if key in FILTER_FIELDS and isinstance(ids, list | tuple):
                            usage.filters.append((record.symbol, key, tuple(ids)))
            usage.counts[kind] = count
        return usage


def _schema_fields(kind: Kind) -> set[str]:
    defs = set(manifest_schema()["$defs"][kind]["properties"]) - MANIFEST_ONLY_FIELDS
    return {name for name in defs if not (kind == "list" and name in MEMBERSHIP_FIELDS)} | (
        {"include_ids"} if kind == "list" else set()
    )


def _examples(symbols: list[str]) -> str:
    return listed(symbols, EXAMPLES)


def fields_check(objects: dict[str, dict[str, MetaField]], usage: Usage | None) -> Check:
    """The account's fields against the manifest schema, and against a manifest's records."""
    found = Finding("fields", "the fields Kayse lists, against the manifest")
    for kind, object_name in OBJECTS.items():
        listed_fields = objects.get(object_name)
        section = SECTIONS[kind]
        if listed_fields is None:
            found.note("warning", f"the answer does not list {object_name}")
            continue
        schema = _schema_fields(kind)
        required_here = set(REQUIRED_FIELDS[section])
        used = usage.fields.get(kind, {}) if usage else {}
        count = usage.counts.get(kind, 0) if usage else 0
        for name, meta in sorted(listed_fields.items()):
            shown = f"{object_name}.{safe_line(name, 60)}"
            if not meta.required or name in required_here:
                continue
            settable = name in schema
            lacking = count - len(used.get(name, []))
            if usage is not None and count and lacking:
                without = [r for r in _symbols(usage, kind) if r not in set(used.get(name, []))]
                found.note(
                    "failed",
                    f"{shown} is required by the account; {lacking} of {count} {section} lack it "
                    f"({_examples(without)})"
                    + ("" if settable else " and the manifest language cannot set it"),
                    f"give every {section[:-1]} {name} (defaults.{section} can)"
                    if settable
                    else f"ask Kayse whether {name} is really required of API clients",
                )
            else:
                found.note(
                    "warning",
                    f"{shown} is required by the account, optional in the manifest schema"
                    + ("" if settable else " (which cannot set it)"),
                    "validate does not catch a record without it: give it in every record"
                    if settable
                    else f"ask Kayse whether {name} is really required of API clients",
                )
        for name in sorted(required_here):
            listing = listed_fields.get(name)
            if listing is not None and not listing.required:
                found.note(
                    "ok",
                    f"{object_name}.{name}: the manifest requires it, the account does not "
                    "(harmless: recipes give it)",
                )
        unknown = sorted(set(listed_fields) - schema - {"id"})
        if unknown:
            found.saw.append(
                f"{object_name} fields the manifest language cannot set: "
                f"{listed(safe_line(n, 60) for n in unknown)}"
            )
        for name, symbols in sorted(used.items()):
            if name not in listed_fields:
                found.note(
                    "warning",
                    f"{section} use {name}, which the account does not list for {object_name} "
                    f"({_examples(symbols)})",
                    "Kayse probably ignores a field it does not list: the value would not "
                    "arrive; drop it or ask Kayse",
                )
    if found.verdict == "ok":
        found.saw.insert(0, "every field the account requires is required by the manifest too")
    return found.done()


def _symbols(usage: Usage, kind: Kind) -> list[str]:
    # Every symbol of a kind is in the field usage of a field that kind always has.
    every: dict[str, None] = {}
    for symbols in usage.fields.get(kind, {}).values():
        every.update(dict.fromkeys(symbols))
    return list(every)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def values_check(
    objects: dict[str, dict[str, MetaField]],
    manifest: Manifest | None,
    usage: Usage | None,
) -> Check:
    """Allowed values (case types, statuses, sources) against the account block and records."""
    found = Finding("values", "allowed values: case types, statuses, sources")
    account_block = {
        "type": manifest.account.case_types if manifest else None,
        "status": manifest.account.case_statuses if manifest else None,
    }
    for kind, object_name in OBJECTS.items():
        for name in VALUE_FIELDS:
            meta = objects.get(object_name, {}).get(name)
            if meta is None:
                continue
            where = f"{object_name}.{name}"
            used = usage.values.get((kind, name), {}) if usage else {}
            if meta.values is None:
                if name in ("type", "status") and kind == "case":
                    found.note(
                        "warning",
                        f"{where}: the answer gives no allowed values",
                        "the manifest's account block stays the only check of case types "
                        "and statuses: copy them from Kayse exactly as it shows them",
                    )
                elif used:
                    found.saw.append(f"{where}: the answer gives no allowed values")
                continue
            allowed = [safe_line(v, 80) for _, v in meta.values]
            found.saw.append(f"{where}: {listed(allowed)}")
            for value, symbols in sorted(used.items()):
                if value in allowed:
                    continue
                near = [a for a in allowed if _norm(a) == _norm(value)]
                hint = f"write '{near[0]}' exactly" if near else f"use one of: {listed(allowed)}"
                found.note(
                    "failed",
                    f"{SECTIONS[kind]} use {name} '{safe_line(value, 80)}', which the account does "
                    f"not have ({_examples(symbols)})" + (f"; it has '{near[0]}'" if near else ""),
                    hint + " (Kayse may refuse the record, or create a new value)",
                )
            block = account_block.get(name) if kind == "case" else None
            for value in block or ():
                if value not in allowed:
                    found.note(
                        "warning",
                        f"account.case_{'types' if name == 'type' else 'statuses'} lists "
                        f"'{safe_line(value, 80)}', which the account does not have",
                        "make the account block say what Kayse has",
                    )
    _filters(found, objects, usage)
    return found.done()


def _filters(found: Finding, objects: dict[str, dict[str, MetaField]], usage: Usage | None) -> None:
    """List filters take the metadata's IDs (positions in the sandbox, database IDs in Kayse)."""
    for symbol, key, ids in usage.filters if usage else ():
        meta = objects.get("cases", {}).get(FILTER_FIELDS[key])
        known = {i: n for i, n in (meta.values or ()) if i is not None} if meta else {}
        if not known:
            found.note(
                "warning",
                f"lists.{symbol}.filter.{key}: the answer gives no IDs to check them against",
                "take the IDs from Kayse; they are not positions in a list",
            )
            continue
        bad = [str(i) for i in ids if i not in known]
        if bad:
            found.note(
                "failed",
                f"lists.{symbol}.filter.{key}: {', '.join(bad)} not among the account's IDs",
                "use the IDs the account lists: "
                + listed(f"{i} {safe_line(n, 40)}" for i, n in known.items()),
            )
        else:
            names = ", ".join(f"{i} = {safe_line(known[i], 40)}" for i in ids)
            found.saw.append(f"lists.{symbol}.filter.{key}: {names}")


def metadata_missing(answer_text: str, verdict_reason: str) -> tuple[Check, Check]:
    """The fields and values checks when the metadata answer cannot be compared."""
    fields = Finding("fields", "the fields Kayse lists, against the manifest")
    fields.note(
        "warning",
        f"{answer_text}: {verdict_reason}",
        "fields cannot be compared; the manifest schema follows kayse-api.md",
    )
    values = Finding("values", "allowed values: case types, statuses, sources")
    values.note(
        "warning",
        "no metadata to read case types, statuses and sources from",
        "the manifest's account block stays the only check: copy the names from Kayse "
        "exactly as it shows them",
    )
    return fields.done(), values.done()
