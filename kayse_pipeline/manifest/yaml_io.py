"""Safe YAML reading that keeps every node's 1-based line and column.

The text is composed into nodes (libyaml's C parser when present, with the same node
marks as the pure-Python one) and turned into plain values by our own small
constructor, so that no YAML tag can ever run code and every value keeps its place:

- Anchors may be written, but aliases (``*name``) are refused: one alias of an alias
  of a list can expand a few hundred bytes into gigabytes ("billion laughs"), and a
  manifest has ``defaults`` for sharing values.
- A key written twice in one mapping is an error at its second occurrence.
- Mapping keys are taken as their text (``1:`` is the key ``"1"``); ``<<`` merge keys
  are not special.
- Scalars follow YAML 1.2 where YAML 1.1 surprises (yaml_scalars.py):
  ``yes``/``no``/``on``/``off`` stay strings; ``17:00`` stays the string ``"17:00"``
  (no base-60 numbers), so times need no quotes; a date or timestamp such as
  ``2026-04-01`` stays its text, so dates need no quotes and an impossible date is
  reported instead of crashing. Other numbers read as in pyyaml (``0x1f``, ``1_000``,
  ``017`` octal, ``1.5``).
- Only the standard tags for strings, numbers, booleans, null, lists and mappings
  are accepted; any other tag (``!!python/object``, ``!!binary``, ``!custom``) is an
  error at its node.

Syntax errors are reported by the pure-Python parser so that the wording and the
position do not depend on whether libyaml is installed.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from kayse_pipeline.errors import Diagnostic, ManifestError
from kayse_pipeline.manifest.yaml_scalars import (
    BOOLS,
    MAYBE_NOT_STR,
    NumberTooLong,
    read_float,
    read_int,
    read_plain,
)

NodePath = tuple[str | int, ...]
"""Where a value sits in a document: mapping keys and sequence indexes from the root."""

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP, _TIMESTAMP = _TAG + "seq", _TAG + "map", _TAG + "timestamp"
_PLAIN = "plain"  # an untagged, unquoted scalar, typed by read_plain() (yaml_scalars.py)
# No manifest nests deeper than a dozen levels. Past this a node is refused at its place,
# before libyaml's own limit (1,000) or Python's recursion limit is met.
MAX_DEPTH = 64
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class _PlainResolver:
    """Leaves plain scalars untyped: pyyaml's resolver is slow and follows YAML 1.1."""

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        """The tag of an untagged node: plain scalars are typed later, by read_plain()."""
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return _MAP if kind is MappingNode else _SEQ

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """Path-based resolvers are not used."""

    def ascend_resolver(self) -> None:
        """Path-based resolvers are not used."""


try:  # libyaml is much faster on big manifests; the pure-Python parser gives the same marks
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how pyyaml was built
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _Composer(_PlainResolver, _SafeLoader):
    """The safe loader's parser and composer with our resolver; its constructor is never used."""


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a manifest is read and checked."""
    # Building a big tree of acyclic values triggers collections that cost more than
    # the parsing itself (4x on a 20,000-record manifest).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Loc:
    """Where one node and, for a mapping value, its key stand (1-based), plus its children."""

    __slots__ = ("children", "column", "key_column", "key_line", "line")

    def __init__(self, line: int, column: int, key_line: int, key_column: int) -> None:
        self.line = line
        self.column = column
        self.key_line = key_line
        self.key_column = key_column
        self.children: dict[str, Loc] | list[Loc] | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A YAML document as plain values, with the position of every node.

    ``problems`` holds what is wrong with the YAML itself (duplicate keys, aliases,
    unsupported tags); the caller decides when to report them.
    """

    file: str
    data: Any
    root: Loc
    problems: tuple[Diagnostic, ...]

    def position(self, path: NodePath, *, key: bool = False) -> tuple[int, int]:
        """Line and column of the node at ``path`` (of its key with ``key``), or of its parent."""
        loc = self.root
        for step in path:
            children = loc.children
            child: Loc | None = None
            if isinstance(children, dict) and isinstance(step, str):
                child = children.get(step)
            elif isinstance(children, list) and isinstance(step, int) and 0 <= step < len(children):
                child = children[step]
            if child is None:
                return loc.line, loc.column  # the closest node that exists
            loc = child
        return (loc.key_line, loc.key_column) if key else (loc.line, loc.column)


def load_yaml(text: str, file: str) -> Document:
    """Parse one YAML document; raise ManifestError for text that is not YAML."""
    try:
        composer = _Composer(text)
        try:
            node = composer.get_single_node()
        finally:
            composer.dispose()
    except yaml.YAMLError:
        raise ManifestError([_syntax_diagnostic(text, file)]) from None
    except RecursionError:  # a parser without libyaml's nesting limit
        raise ManifestError([_depth_diagnostic(text, file) or _too_deep(file, 1, 1)]) from None
    # Only a text with a '*' can hold an alias; the event scan is skipped otherwise.
    aliases = _alias_diagnostics(text, file) if "*" in text else []
    builder = _Builder(file, track_aliases=bool(aliases))
    builder.problems.extend(aliases)
    if node is None:
        return Document(file, None, Loc(1, 1, 1, 1), tuple(builder.problems))
    line, column = node.start_mark.line + 1, node.start_mark.column + 1
    root = Loc(line, column, line, column)
    data = builder.build(node, root)
    return Document(file, data, root, tuple(builder.problems))


class _Builder:
    """Turns composed nodes into plain values, filling in positions and collecting problems."""

    def __init__(self, file: str, *, track_aliases: bool) -> None:
        self.file = file
        self.track_aliases = track_aliases
        self.seen: set[int] = set()
        self.problems: list[Diagnostic] = []

    def problem(self, line: int, column: int, message: str) -> None:
        self.problems.append(Diagnostic(self.file, line, column, message))

    def build(self, node: Node, loc: Loc, depth: int = 1) -> Any:
        if depth > MAX_DEPTH:
            self.problems.append(_too_deep(self.file, loc.line, loc.column))
            return None
        if self.track_aliases:
            # An alias shares its anchor's node; expanding it again could explode.
            if id(node) in self.seen:
                return None
            self.seen.add(id(node))
        if isinstance(node, ScalarNode):
            return self.scalar(node, loc)
        if node.tag != (_MAP if isinstance(node, MappingNode) else _SEQ):
            self.problem(loc.line, loc.column, f"unsupported YAML tag '{_written(node.tag)}'")
        if isinstance(node, MappingNode):
            return self.mapping(node, loc, depth)
        items: list[Any] = []
        children: list[Loc] = []
        for item in node.value:
            mark = item.start_mark
            line, column = mark.line + 1, mark.column + 1
            child = Loc(line, column, line, column)
            children.append(child)
            items.append(self.build(item, child, depth + 1))
        loc.children = children
        return items

    def mapping(self, node: MappingNode, loc: Loc, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        children: dict[str, Loc] = {}
        for key_node, value_node in node.value:
            kmark, vmark = key_node.start_mark, value_node.start_mark
            if not isinstance(key_node, ScalarNode):
                self.problem(kmark.line + 1, kmark.column + 1, "a mapping key must be plain text")
                continue
            key = key_node.value
            if key in children:
                first = children[key].key_line
                self.problem(
                    kmark.line + 1,
                    kmark.column + 1,
                    f"duplicate key '{key}' (first at line {first})",
                )
                continue
            child = Loc(vmark.line + 1, vmark.column + 1, kmark.line + 1, kmark.column + 1)
            children[key] = child
            if value_node.tag == _PLAIN and not self.track_aliases:
                value = value_node.value  # the common case, inlined for big manifests
                if value and value[0] not in MAYBE_NOT_STR:
                    result[key] = value
                else:
                    result[key] = self.plain(value, child)
            else:
                result[key] = self.build(value_node, child, depth + 1)
        loc.children = children
        return result

    def plain(self, value: str, loc: Loc) -> Any:
        """A plain scalar's value; a number too long to read is a problem at its place."""
        try:
            return read_plain(value)
        except NumberTooLong as exc:
            self.problem(loc.line, loc.column, str(exc))
            return None

    def scalar(self, node: ScalarNode, loc: Loc) -> Any:
        tag, value = node.tag, node.value
        if tag == _PLAIN:
            return self.plain(value, loc)
        if tag in (_STR, _TIMESTAMP):
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL and value in BOOLS:
            return BOOLS[value]
        if tag in (_INT, _FLOAT):  # an explicit !!int or !!float
            try:
                return read_int(value) if tag == _INT else read_float(value)
            except NumberTooLong as exc:
                self.problem(loc.line, loc.column, str(exc))
                return None
            except (ValueError, IndexError):
                pass
        if tag in (_BOOL, _INT, _FLOAT):
            shown = value if len(value) <= 40 else f"{value[:37]}..."
            self.problem(loc.line, loc.column, f"'{shown}' is not a valid {tag[len(_TAG) :]}")
        else:
            self.problem(loc.line, loc.column, f"unsupported YAML tag '{_written(tag)}'")
        return None


def _written(tag: str) -> str:
    """A tag as the user wrote it: ``!!binary`` rather than ``tag:yaml.org,2002:binary``."""
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _alias_diagnostics(text: str, file: str) -> list[Diagnostic]:
    """One diagnostic per alias in the text (only called when the text contains '*')."""
    found = []
    for event in yaml.parse(text, Loader=_Composer):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            found.append(
                Diagnostic(
                    file,
                    line,
                    column,
                    f"YAML aliases are not supported (*{event.anchor}): "
                    "write the value out, or share it through 'defaults'",
                )
            )
    return found


def _too_deep(file: str, line: int, column: int) -> Diagnostic:
    return Diagnostic(file, line, column, f"invalid YAML: nested deeper than {MAX_DEPTH} levels")


def _depth_diagnostic(text: str, file: str) -> Diagnostic | None:
    """Where the text first nests deeper than ``MAX_DEPTH``, read as events (no recursion)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Composer):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                    return _too_deep(file, line, column)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:  # libyaml stops at 1,000 levels before any event
        mark = exc.problem_mark
        if "nesting depth" in (exc.problem or "") and mark is not None:
            return _too_deep(file, mark.line + 1, mark.column + 1)
    except yaml.YAMLError:
        pass
    return None


def _surrogate_diagnostic(text: str, file: str) -> Diagnostic | None:
    """The first ``\\uD800``-style escape that is half of a surrogate pair, not a character."""
    for found in _SURROGATE_ESCAPE.finditer(text):
        high = found[0][3].lower() in "89ab"
        after = text[found.end() : found.end() + 6]
        if high and re.fullmatch(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}", after):
            continue
        before = text[max(0, found.start() - 6) : found.start()]
        if not high and _SURROGATE_ESCAPE.fullmatch(before) and before[3].lower() in "89ab":
            continue
        line = text.count("\n", 0, found.start()) + 1
        column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
        return Diagnostic(
            file,
            line,
            column,
            f"invalid YAML: '{found[0]}' is half of a surrogate pair, not a character",
        )
    return None


def _syntax_diagnostic(text: str, file: str) -> Diagnostic:
    """The pure-Python parser's account of why ``text`` is not one YAML document."""
    deep = _depth_diagnostic(text, file)
    if deep is not None:
        return deep
    try:
        loader = yaml.SafeLoader(text)
        try:
            loader.get_single_node()
        finally:
            loader.dispose()
    except RecursionError:
        return _too_deep(file, 1, 1)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "invalid YAML"
        if exc.context:  # pyyaml's wording reads "while parsing X at line N, expected Y"
            where = f" at line {exc.context_mark.line + 1}" if exc.context_mark else ""
            problem = f"{exc.context}{where}, {problem}"
        return Diagnostic(file, line, column, f"invalid YAML: {problem}")
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        character = chr(exc.character) if isinstance(exc.character, int) else exc.character
        return Diagnostic(
            file, line, column, f"invalid YAML: character {character!r} is not allowed"
        )
    except yaml.YAMLError as exc:
        return Diagnostic(file, 1, 1, f"invalid YAML: {exc}")
    # The fast parser refused what the pure-Python one accepts (a lone surrogate).
    return _surrogate_diagnostic(text, file) or Diagnostic(file, 1, 1, "invalid YAML")
