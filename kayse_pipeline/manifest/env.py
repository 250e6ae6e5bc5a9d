"""``${NAME}`` variables in manifest strings, and the rules that keep secrets out of them.

``${NAME}`` is the variable's value, ``${NAME:-text}`` falls back to ``text`` when the
variable is unset or empty (as in a POSIX shell), and ``$${`` is a literal ``${``.
Values given on the command line (``--var``, ``--var-file``) come before the
environment. Only string values are interpolated, never mapping keys (symbols and
field names), and the result is always a string: ``${LIST_ID}`` in ``case_list_id`` is
a symbol, never an ID, because a reference written as a string is always a symbol.

A manifest's values are sent to Kayse as lead data and may be quoted in messages, so:
``${KAYSE_API_KEY}`` is refused outright, and a variable whose name looks like a
secret (it holds KEY, TOKEN, SECRET or PASSWORD) is refused unless the manifest lists
it in ``allow_variables``. No message ever quotes a variable's value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kayse_pipeline.manifest.diagnostics import DiagnosticLog
from kayse_pipeline.manifest.yaml_io import NodePath

API_KEY_VARIABLE = "KAYSE_API_KEY"
SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD")
NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"
NAME_RE = re.compile(NAME_PATTERN + r"\Z")

_REFERENCE = re.compile(
    r"\$\$\{|\$\{(?P<name>" + NAME_PATTERN + r")(?::-(?P<default>[^}]*))?\}|\$\{"
)
# ``$NAME`` without braces, not part of ``$${``: probably meant as ``${NAME}``.
_BARE = re.compile(r"(?<!\$)\$(?P<name>" + NAME_PATTERN + r")")
_MALFORMED = "invalid '${': write ${NAME} or ${NAME:-default}, or $${ for a literal ${"


def secret_word(name: str) -> str | None:
    """The word that makes a variable's name look like a secret's, if any."""
    upper = name.upper()
    return next((word for word in SECRET_WORDS if word in upper), None)


@dataclass(frozen=True)
class Values:
    """Where ``${NAME}`` takes its value: given values (``--var``) ahead of the environment."""

    environment: Mapping[str, str]
    given: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        found = self.given.get(name)
        return self.environment.get(name) if found is None else found


def interpolate(
    data: Any, values: Values, reporter: DiagnosticLog, *, allowed: frozenset[str] = frozenset()
) -> tuple[Any, frozenset[str]]:
    """``data`` with every string interpolated (in place), and the names it refers to.

    Problems are reported at their node; ``allowed`` names secret-looking variables that
    the manifest says it means to use.
    """
    walker = _Interpolation(values, reporter, allowed)
    if isinstance(data, str):
        return walker.string(data, ()), frozenset(walker.used)
    if isinstance(data, dict | list):
        walker.walk(data, ())
    return data, frozenset(walker.used)


def allowed_names(data: Any) -> frozenset[str]:
    """The manifest's ``allow_variables`` (its shape is checked by the schema)."""
    names = data.get("allow_variables") if isinstance(data, dict) else None
    if not isinstance(names, list):
        return frozenset()
    return frozenset(name for name in names if isinstance(name, str))


class _Interpolation:
    def __init__(self, values: Values, reporter: DiagnosticLog, allowed: frozenset[str]) -> None:
        self.values = values
        self.reporter = reporter
        self.allowed = allowed
        self.used: set[str] = set()

    def walk(self, node: dict[str, Any] | list[Any], path: NodePath) -> None:
        """Interpolate the strings inside a mapping or list, in place."""
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for step, item in items:
            if isinstance(item, str):
                if "$" in item:
                    node[step] = self.string(item, (*path, step))  # type: ignore[index]
            elif isinstance(item, dict | list):
                self.walk(item, (*path, step))

    def string(self, text: str, path: NodePath) -> str:
        problems: list[str] = []
        result = _REFERENCE.sub(lambda match: self._replace(match, problems), text)
        for problem in dict.fromkeys(problems):
            self.reporter.report(path, problem)
        if problems:
            self.reporter.poison(path)
        self._bare_names(text, path)
        return result

    def _replace(self, match: re.Match[str], problems: list[str]) -> str:
        token = match.group(0)
        if token == "$${":
            return "${"
        name = match.group("name")
        if name is None:
            problems.append(_MALFORMED)
            return token
        refused = self._refusal(name)
        if refused:
            problems.append(refused)
            return token
        self.used.add(name)
        found = self.values.get(name)
        default = match.group("default")
        if default is not None and not found:
            return default
        if found is None:
            problems.append(
                f"environment variable {name} is not set (export it, or give --var {name}=VALUE)"
            )
            return token
        if not found:
            problems.append(
                f"environment variable {name} is set but empty"
                f" (give it a value, or write ${{{name}:-default}})"
            )
            return token
        return found

    def _refusal(self, name: str) -> str | None:
        """Why ``${name}`` may not be used in this manifest, if it may not."""
        if name == API_KEY_VARIABLE:
            return (
                f"${{{API_KEY_VARIABLE}}} is not allowed in a manifest: the key is sent only"
                " as the request header, never as lead data"
            )
        word = secret_word(name)
        if word and name not in self.allowed:
            return (
                f"variable {name} looks like a secret (its name holds {word}) and manifest values"
                f" are sent to Kayse as lead data; if it is not a secret, list it in"
                f" allow_variables"
            )
        return None

    def _bare_names(self, text: str, path: NodePath) -> None:
        """Warn about ``$NAME`` where NAME has a value: ``${NAME}`` was probably meant."""
        for match in _BARE.finditer(text):
            name = match.group("name")
            if self._refusal(name) is None and self.values.get(name) is not None:
                self.reporter.warn(
                    path, f"'${name}' is kept as written: did you mean '${{{name}}}'?"
                )
