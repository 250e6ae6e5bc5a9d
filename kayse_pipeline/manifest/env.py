"""``${NAME}`` environment variables in manifest strings.

``${NAME}`` is the variable's value, ``${NAME:-text}`` falls back to ``text`` when the
variable is unset or empty (as in a POSIX shell), and ``$${`` is a literal ``${``.
Only string values are interpolated, never mapping keys (symbols and field names),
and the result is always a string: ``${LIST_ID}`` in ``case_list_id`` is a symbol,
never an ID, because a reference written as a string is always a symbol.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kayse_pipeline.manifest.diagnostics import Reporter
from kayse_pipeline.manifest.yaml_io import NodePath

_REFERENCE = re.compile(
    r"\$\$\{|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|\$\{"
)
_MALFORMED = "invalid '${': write ${NAME} or ${NAME:-default}, or $${ for a literal ${"


def interpolate(data: Any, env: Mapping[str, str], reporter: Reporter) -> Any:
    """Return ``data`` with every string interpolated; report unset variables at their node."""
    if isinstance(data, str):
        return _substitute(data, (), env, reporter) if "${" in data else data
    _walk(data, (), env, reporter)
    return data


def _walk(
    node: dict[str, Any] | list[Any], path: NodePath, env: Mapping[str, str], reporter: Reporter
) -> None:
    """Interpolate the strings inside a mapping or list, in place."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for step, item in items:
        if isinstance(item, str):
            if "${" in item:
                node[step] = _substitute(item, (*path, step), env, reporter)  # type: ignore[index]
        elif isinstance(item, dict | list):
            _walk(item, (*path, step), env, reporter)


def _substitute(text: str, path: NodePath, env: Mapping[str, str], reporter: Reporter) -> str:
    problems: list[str] = []

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$${":
            return "${"
        name = match.group("name")
        if name is None:
            problems.append(_MALFORMED)
            return token
        found = env.get(name)
        default = match.group("default")
        if default is not None and not found:
            return default
        if found is None:
            problems.append(f"environment variable {name} is not set")
            return token
        return found

    result = _REFERENCE.sub(replace, text)
    for problem in dict.fromkeys(problems):
        reporter.report(path, problem)
    if problems:
        reporter.poison(path)
    return result
