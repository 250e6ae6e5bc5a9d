"""Row templates: contact and case records written once, filled in from each data row.

A template string is text with placeholders: ``{name}`` is the row's value in column
``name`` (CSV) or under key ``name`` (JSON Lines); ``{{`` and ``}}`` are literal braces.

- A string that is one placeholder and nothing else takes the value typed by the field
  it fills: text for text fields (a JSON number becomes its digits), ``true``/``false``
  (also ``yes``/``no``, ``1``/``0``, any case) for boolean fields, digits for integer
  fields, and in a reference field an integer ID for digits and a symbol otherwise. A
  value that does not convert stays as it is and is reported like any wrong value.
- An empty value (an empty or blank cell, JSON ``null`` or a missing key) leaves an
  optional field out, and a list item out of its list; a required field stays ``""`` and
  is reported as empty.
- A string with text around its placeholders is always text.
- Symbols are made from row values: in ``symbol`` and in the symbols of reference fields,
  each value is lower-cased, trimmed, and every character other than a-z, 0-9 and _
  becomes _ (``CRM-0042`` -> ``crm_0042``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from kayse_pipeline.manifest.schema import REQUIRED_FIELDS, manifest_schema
from kayse_pipeline.manifest.yaml_io import NodePath
from kayse_pipeline.model import SECTION_OF_KIND, Kind


class _Omit:
    """The value of a field that an empty row value leaves out."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()
Cells = Sequence[Any]
"""One row's values, in the order of its source's slots (one slot per placeholder name)."""
Render = Callable[[Cells], Any]
FieldType = Literal["string", "integer", "boolean", "ref", "raw"]

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_DIGITS = re.compile(r"\s*[-+]?[0-9]+\s*\Z")
_ID = re.compile(r"\s*[0-9]+\s*\Z")
_NOT_SYMBOL = re.compile(r"[^a-z0-9_]")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


class TemplateError(ValueError):
    """A template string that cannot be read: its message is shown at the template's node."""


@dataclass(frozen=True, slots=True)
class Placeholder:
    """``{name}`` in a template string."""

    name: str


def parse(text: str) -> tuple[str | Placeholder, ...]:
    """A template string as literal parts and placeholders; raise TemplateError if malformed."""
    parts: list[str | Placeholder] = []
    literal = ""
    position = 0
    for match in _TOKEN.finditer(text):
        literal += text[position : match.start()]
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal += token[0]
        elif match.group(1) is not None:
            name = match.group(1).strip()
            if not name:
                raise TemplateError("empty placeholder '{}': name a column, or write {{ for {")
            if literal:
                parts.append(literal)
            parts.append(Placeholder(name))
            literal = ""
        else:
            raise TemplateError(
                f"unbalanced '{token}' in a template: write {token}{token} for a literal {token}"
            )
    literal += text[position:]
    if literal:
        parts.append(literal)
    return tuple(parts)


def is_empty(value: Any) -> bool:
    """A row value that counts as absent: None, or text that is empty or blank."""
    return value is None or (isinstance(value, str) and not value.strip())


def as_text(value: Any) -> str:
    """A row value as text inside a longer string."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def as_symbol_part(value: Any) -> str:
    """A row value as part of a symbol: trimmed, lower-cased, other characters as _."""
    return _NOT_SYMBOL.sub("_", as_text(value).strip().lower())


def _as_string(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _as_integer(value: Any) -> Any:
    return int(value) if isinstance(value, str) and _DIGITS.match(value) else value


def _as_boolean(value: Any) -> Any:
    if value.__class__ is int and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return value


def _as_ref(value: Any) -> Any:
    if isinstance(value, str):
        return int(value) if _ID.match(value) else as_symbol_part(value)
    return value


def _as_raw(value: Any) -> Any:
    return value


_COERCE: Mapping[FieldType, Callable[[Any], Any]] = {
    "string": _as_string,
    "integer": _as_integer,
    "boolean": _as_boolean,
    "ref": _as_ref,
    "raw": _as_raw,
}


@functools.cache
def field_types(kind: Kind) -> Mapping[str, tuple[FieldType, FieldType]]:
    """Each field of a kind: the type a whole placeholder converts to, and that of list items."""
    defs = manifest_schema()["$defs"]

    def resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = schema.get("$ref")
        return resolve(defs[ref.rsplit("/", 1)[1]]) if isinstance(ref, str) else schema

    def simple(schema: Mapping[str, Any]) -> FieldType:
        kind_name = schema.get("type")
        if kind_name == ["string", "integer"]:
            return "ref"
        if kind_name in ("string", "integer", "boolean"):
            return cast(FieldType, kind_name)
        return "raw"

    types: dict[str, tuple[FieldType, FieldType]] = {}
    for name, prop in defs[kind]["properties"].items():
        schema = resolve(prop)
        item = resolve(schema["items"]) if schema.get("type") == "array" else {}
        types[name] = (simple(schema), simple(item))
    return types


@dataclass(frozen=True)
class RowTemplate:
    """One kind's compiled template in one row source."""

    kind: Kind
    path: NodePath  # where the template is written: ("rows", SOURCE, KIND)
    symbol: Render
    fields: tuple[tuple[str, Render], ...]
    written: frozenset[str]
    slots: Mapping[NodePath, int | None]  # each written node -> its first placeholder's slot
    own_contact: bool = False  # client_ids is the contact of the same row

    @property
    def section(self) -> str:
        return SECTION_OF_KIND[self.kind]

    def render(self, cells: Cells) -> dict[str, Any]:
        """The record's own values for one row (``defaults`` not merged yet)."""
        values: dict[str, Any] = {}
        for name, render in self.fields:
            value = render(cells)
            if value is not OMIT:
                values[name] = value
        return values

    def field(self, name: str) -> Render | None:
        """The render function of one field, or None when the template does not make it."""
        return self._by_name.get(name)

    @functools.cached_property
    def _by_name(self) -> Mapping[str, Render]:
        return dict(self.fields)

    def slot_at(self, path: NodePath) -> tuple[bool, int | None, NodePath]:
        """For a path inside a record: (written in the template?, slot, the written node's path)."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.slots:
                return True, self.slots[path[:end]], path[:end]
        return False, None, ()


class TemplateCompiler:
    """Compiles the templates of one row source; every placeholder name gets a slot."""

    def __init__(self, problem: Callable[[NodePath, str], None]) -> None:
        self.problem = problem
        self.slot_of: dict[str, int] = {}
        self.uses: dict[str, list[NodePath]] = {}  # name -> template nodes that use it
        self.required: frozenset[NodePath] = frozenset()

    def compile(
        self, kind: Kind, path: NodePath, node: Mapping[str, Any], implicit: Render | None
    ) -> RowTemplate | None:
        """A kind's template, or None when its ``symbol`` is unusable (already reported)."""
        slots: dict[NodePath, int | None] = {}
        types = field_types(kind)
        self.required = frozenset((name,) for name in REQUIRED_FIELDS[SECTION_OF_KIND[kind]])
        symbol = self._symbol(node.get("symbol"), (*path, "symbol"), slots)
        fields: list[tuple[str, Render]] = []
        for name, value in node.items():
            if name == "symbol" or name not in types:
                continue  # an unknown field is the schema's to report
            whole, item = types[name]
            fields.append((name, self._node(value, (*path, name), (name,), whole, item, slots)))
        written = frozenset(name for name, _ in fields)
        own_contact = implicit is not None and "client_ids" not in written
        if implicit is not None and own_contact:
            fields.append(("client_ids", implicit))
        if symbol is None:
            return None
        return RowTemplate(kind, path, symbol, tuple(fields), written, slots, own_contact)

    def _symbol(
        self, value: Any, path: NodePath, slots: dict[NodePath, int | None]
    ) -> Render | None:
        if not isinstance(value, str):
            return None  # missing or not text: the schema reports it
        try:
            parts = parse(value)
        except TemplateError as exc:
            self.problem(path, str(exc))
            return None
        if not any(isinstance(part, Placeholder) for part in parts):
            self.problem(path, "needs a {column} placeholder: every row needs a symbol of its own")
            return None
        literal = "".join(part for part in parts if isinstance(part, str))
        if _NOT_SYMBOL.search(literal) or (isinstance(parts[0], str) and not parts[0][0].isalpha()):
            self.problem(
                path,
                f"{value!r} cannot make a valid symbol: its text may hold only a-z, 0-9 and _, "
                "and it starts with a lowercase letter",
            )
            return None
        return self._text(parts, path, ("symbol",), slots, symbol=True)

    def _node(
        self,
        value: Any,
        path: NodePath,
        at: NodePath,
        whole: FieldType,
        item: FieldType,
        slots: dict[NodePath, int | None],
    ) -> Render:
        """A render function for one template node (a field's value or something inside it)."""
        if isinstance(value, str):
            try:
                parts = parse(value)
            except TemplateError as exc:
                self.problem(path, str(exc))
                slots[at] = None
                return _constant(value)
            if len(parts) == 1 and isinstance(parts[0], Placeholder):
                slot = self._slot(parts[0].name, path)
                slots[at] = slot
                # A required field's empty value stays "" so that the rules say it is empty.
                return _whole(slot, _COERCE[whole], "" if at in self.required else OMIT)
            return self._text(parts, path, at, slots, symbol=whole == "ref")
        if isinstance(value, list):
            items = [
                self._node(v, (*path, i), (*at, i), item, "raw", slots) for i, v in enumerate(value)
            ]
            slots[at] = _first(slots, at, len(value))
            return _list(items) if items else _constant_list
        if isinstance(value, dict):
            members = [
                (k, self._node(v, (*path, k), (*at, k), "raw", "raw", slots))
                for k, v in value.items()
            ]
            slots[at] = _first(slots, at, list(value))
            return _mapping(members)
        slots[at] = None
        return _constant(value)

    def _text(
        self,
        parts: Sequence[str | Placeholder],
        path: NodePath,
        at: NodePath,
        slots: dict[NodePath, int | None],
        *,
        symbol: bool,
    ) -> Render:
        pieces: list[str | int] = []
        for part in parts:
            pieces.append(self._slot(part.name, path) if isinstance(part, Placeholder) else part)
        numbered = [piece for piece in pieces if isinstance(piece, int)]
        slots[at] = numbered[0] if numbered else None
        if not numbered:
            return _constant("".join(str(piece) for piece in pieces))
        return _joined(tuple(pieces), as_symbol_part if symbol else as_text)

    def _slot(self, name: str, path: NodePath) -> int:
        self.uses.setdefault(name, []).append(path)
        return self.slot_of.setdefault(name, len(self.slot_of))


def _first(slots: Mapping[NodePath, int | None], at: NodePath, keys: Sequence[Any] | int) -> Any:
    """The first placeholder slot among a container's members, or None."""
    names = range(keys) if isinstance(keys, int) else keys
    for key in names:
        slot = slots.get((*at, key))
        if slot is not None:
            return slot
    return None


def _constant(value: Any) -> Render:
    return lambda cells: value


def _constant_list(cells: Cells) -> Any:
    return []  # a new list per record: no two records share a mutable value


def _whole(slot: int, coerce: Callable[[Any], Any], empty: Any) -> Render:
    if coerce is _as_string:  # the common case, CSV text into a text field, kept short

        def text(cells: Cells) -> Any:
            value = cells[slot]
            if value.__class__ is str:
                return empty if not value or value.isspace() else value
            return empty if value is None else _as_string(value)

        return text

    def render(cells: Cells) -> Any:
        value = cells[slot]
        return empty if is_empty(value) else coerce(value)

    return render


def _joined(pieces: tuple[str | int, ...], text: Callable[[Any], str]) -> Render:
    def render(cells: Cells) -> Any:
        return "".join([p if isinstance(p, str) else text(cells[p]) for p in pieces])

    return render


def _list(items: Sequence[Render]) -> Render:
    def render(cells: Cells) -> Any:
        values = [value for value in (item(cells) for item in items) if value is not OMIT]
        return values or OMIT  # every item empty: the field is left out

    return render


def _mapping(members: Sequence[tuple[str, Render]]) -> Render:
    def render(cells: Cells) -> Any:
        return {key: value for key, item in members if (value := item(cells)) is not OMIT}

    return render
