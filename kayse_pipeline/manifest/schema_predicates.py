"""The manifest schema's keywords compiled into plain predicates, to find suspect records fast.

jsonschema spends about 150 microseconds on each record; a manifest of 20,000
records would take seconds. These predicates answer only "valid or not" and let
jsonschema explain the records they reject, so every message still comes from
jsonschema. They know only the keywords that the manifest schema uses and refuse
any other, so that a new keyword can never be skipped silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples"}
)
_OBJECT_KEYWORDS = frozenset({"properties", "additionalProperties", "propertyNames", "required"})


def _is_integer(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPES: Mapping[str, Predicate] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "null": lambda value: value is None,
}


def _both(first: Predicate, second: Predicate) -> Predicate:
    # Chained closures: a generator over the checks costs more than the checks.
    return lambda value: first(value) and second(value)


class PredicateCompiler:
    """Compiles subschemas of one root schema; ``$ref`` points into the root."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self._cache: dict[int, Predicate] = {}

    def compile(self, schema: Mapping[str, Any] | bool) -> Predicate:
        """A predicate that is true exactly when jsonschema finds ``schema`` satisfied."""
        if isinstance(schema, bool):
            return (lambda value: True) if schema else (lambda value: False)
        cached = self._cache.get(id(schema))
        if cached is None:
            cached = self._cache[id(schema)] = self._compile(schema)
        return cached

    def _compile(self, schema: Mapping[str, Any]) -> Predicate:
        checks: list[Predicate] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or keyword in _OBJECT_KEYWORDS:
                continue
            checks.append(self._keyword(keyword, value))
        if _OBJECT_KEYWORDS & schema.keys():
            checks.append(self._object(schema))
        combined = checks[0] if checks else (lambda value: True)
        for check in checks[1:]:
            combined = _both(combined, check)
        return combined

    def _keyword(self, keyword: str, value: Any) -> Predicate:
        if keyword == "$ref":
            prefix = "#/$defs/"
            if not value.startswith(prefix):
                raise ValueError(f"unsupported $ref {value!r}")
            return self.compile(self.root["$defs"][value[len(prefix) :]])
        if keyword == "type":
            tests = [_TYPES[name] for name in ([value] if isinstance(value, str) else value)]
            return tests[0] if len(tests) == 1 else (lambda item: any(t(item) for t in tests))
        if keyword == "pattern":
            search = re.compile(value).search
            return lambda item: not isinstance(item, str) or search(item) is not None
        if keyword == "minimum":
            return lambda item: not _is_number(item) or item >= value
        if keyword == "maximum":
            return lambda item: not _is_number(item) or item <= value
        if keyword == "minItems":
            return lambda item: not isinstance(item, list) or len(item) >= value
        if keyword == "items":
            each = self.compile(value)
            return lambda item: not isinstance(item, list) or all(each(x) for x in item)
        if keyword == "uniqueItems":
            if not value:
                return lambda item: True
            # Exact for strings; any other array is left to jsonschema (1 == 1.0 there).
            return lambda item: (
                not isinstance(item, list)
                or (all(isinstance(x, str) for x in item) and len(set(item)) == len(item))
            )
        if keyword == "const":
            return lambda item: type(item) is type(value) and item == value
        if keyword == "enum":
            return lambda item: any(type(item) is type(v) and item == v for v in value)
        raise ValueError(f"unsupported JSON Schema keyword {keyword!r}")

    def _object(self, schema: Mapping[str, Any]) -> Predicate:
        if "patternProperties" in schema:
            raise ValueError("unsupported JSON Schema keyword 'patternProperties'")
        properties = {k: self.compile(v) for k, v in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties", True)
        additional = None if extra is True else self.compile(extra)
        names = self.compile(schema["propertyNames"]) if "propertyNames" in schema else None
        required = tuple(schema.get("required", ()))

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for name, item in value.items():
                test = properties.get(name, additional)
                if test is not None and not test(item):
                    return False
                if names is not None and not names(name):
                    return False
            return all(name in value for name in required)

        return check
