"""Bounds on what a server or a file may say: record IDs, JSON nesting and number sizes.

A server's answer, a state file and a journal line are read with ``loads_json``: a
document nested deeper than ``MAX_JSON_DEPTH``, a number of more than
``MAX_NUMBER_DIGITS`` digits, ``NaN`` or ``Infinity`` is refused as invalid JSON with
its line and column, never met later as a ``RecursionError`` or Python's limit on
integer conversion.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeGuard

MAX_ID = 2**63 - 1
"""The largest record ID accepted from a person, a file or Kayse (a signed 64-bit integer)."""
MAX_JSON_DEPTH = 64
MAX_NUMBER_DIGITS = 30
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_LONG_NUMBER = re.compile(rf"-?\d{{{MAX_NUMBER_DIGITS + 1},}}")
_NOT_A_NUMBER = re.compile(r"-?Infinity|NaN")
_ID_TEXT = re.compile(r"[0-9]{1,19}")


def is_id(value: Any) -> TypeGuard[int]:
    """Whether ``value`` is a record ID: an integer (not a boolean) from 1 to ``MAX_ID``."""
    return type(value) is int and 1 <= value <= MAX_ID


def parse_id(text: str) -> int | None:
    """The ID written as ``text`` (ASCII digits only), or None when it is not one."""
    if _ID_TEXT.fullmatch(text) is None:
        return None
    value = int(text)
    return value if is_id(value) else None


def loads_json(text: str) -> Any:
    """``json.loads`` within bounds; anything outside them is a ``JSONBoundsError``."""
    try:
        doc = json.loads(text, parse_int=_int, parse_constant=_constant)
    except _OutOfBounds:
        raise _located(text) from None
    except RecursionError:
        raise _too_deep(text) from None
    if _depth_exceeds(doc):
        raise _too_deep(text)
    return doc


class JSONBoundsError(json.JSONDecodeError):
    """Valid JSON, or nearly, that holds what no server or state should: see the module doc."""


class _OutOfBounds(ValueError):
    """A number too long, or NaN / Infinity (located afterwards, from the text)."""


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS + (text[0] == "-"):
        raise _OutOfBounds(text)
    return int(text)


def _constant(text: str) -> Any:
    raise _OutOfBounds(text)


def _blanked(text: str) -> str:
    """The text with every string's content blanked out, so offsets stay where they were."""
    return _STRING.sub(lambda m: '"' + " " * (len(m[0]) - 2) + '"', text)


def _located(text: str) -> JSONBoundsError:
    blank = _blanked(text)
    found = _LONG_NUMBER.search(blank)
    if found is not None:
        digits = len(found[0].lstrip("-"))
        return JSONBoundsError(
            f"a number of {digits} digits (at most {MAX_NUMBER_DIGITS})", text, found.start()
        )
    constant = _NOT_A_NUMBER.search(blank)
    position = constant.start() if constant is not None else 0
    return JSONBoundsError("NaN and Infinity are not JSON numbers", text, position)


def _too_deep(text: str) -> JSONBoundsError:
    depth = 0
    blank = _blanked(text)
    for match in re.finditer(r"[\[\]{}]", blank):
        depth += 1 if match[0] in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            return JSONBoundsError(
                f"nested deeper than {MAX_JSON_DEPTH} levels", text, match.start()
            )
    return JSONBoundsError(f"nested deeper than {MAX_JSON_DEPTH} levels", text, 0)


def _depth_exceeds(doc: Any) -> bool:
    """Whether a parsed document nests deeper than ``MAX_JSON_DEPTH`` (without recursion)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
