"""Collecting manifest diagnostics: paths, values and suggestions in messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from typing import Any

from kayse_pipeline.errors import Diagnostic, ManifestError
from kayse_pipeline.manifest.yaml_io import Document, NodePath
from kayse_pipeline.model import PERSONAL_FIELDS

# Past this many warnings of one kind the rest are counted, so that 10,000 stay readable.
WARNINGS_SHOWN = 5


def format_path(path: NodePath) -> str:
    """``('campaigns', 'q2', 'runs', 0, 'end_time')`` -> ``campaigns.q2.runs[0].end_time``."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else step
    return text


def show(value: Any) -> str:
    """A value as the user wrote it in YAML, quoted when it is a string."""
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def is_personal(path: NodePath) -> bool:
    """Whether the node at ``path`` holds personal data (the first two steps are not fields)."""
    return any(isinstance(step, str) and step in PERSONAL_FIELDS for step in path[2:])


def show_field(value: Any, path: NodePath) -> str:
    """``show``, except that a personal field's text or number is described, not quoted."""
    if not is_personal(path) or value is None or isinstance(value, bool | dict | list):
        return show(value)
    what = "other text" if isinstance(value, str) else "a number"
    return f"{what} (personal data, not shown)"


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


class WarningLog:
    """The warnings of one manifest; past a few of one kind, the rest are counted.

    Iterating gives the warnings listed, then for each kind that has more one warning
    (at the first one not listed) that says how many more there are.
    """

    def __init__(self) -> None:
        self._listed: set[Diagnostic] = set()
        self._count: dict[str, int] = {}
        self._hidden: dict[str, tuple[Diagnostic, str]] = {}  # code -> first not listed, kind

    def add(self, warning: Diagnostic, *, code: str = "", summary: str = "") -> None:
        """Keep a warning; one with a ``code`` is listed only among the first few of its kind,
        which ``summary`` names in the line that counts the rest."""
        if not code:
            self._listed.add(warning)
            return
        if warning in self._listed:
            return
        count = self._count.get(code, 0)
        self._count[code] = count + 1
        if count < WARNINGS_SHOWN:
            self._listed.add(warning)
        elif code not in self._hidden:
            self._hidden[code] = (warning, summary)

    def __iter__(self) -> Iterator[Diagnostic]:
        yield from self._listed
        for code, (first, summary) in self._hidden.items():
            more = self._count[code] - WARNINGS_SHOWN
            message = f"… and {more:,} more {summary}, the first of them here (not listed)"
            yield Diagnostic(first.file, first.line, first.column, message)

    def __bool__(self) -> bool:
        return bool(self._listed)


class DiagnosticLog:
    """Collects every diagnostic of one manifest, each placed at its node."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.diagnostics: set[Diagnostic] = set()
        self.warnings = WarningLog()
        self._failed: set[NodePath] = set()

    def report(
        self, label: NodePath, message: str, *, at: NodePath | None = None, key: bool = False
    ) -> None:
        """Report ``label: message`` at the node ``at`` (default ``label``), or at its key."""
        self.diagnostics.add(self._place(label, message, at=at, key=key))

    def warn(
        self,
        label: NodePath,
        message: str,
        *,
        at: NodePath | None = None,
        code: str = "",
        summary: str = "",
    ) -> None:
        """Note something that is allowed but probably not meant, at the node ``label``.

        Warnings of one ``code`` past the first few are counted, not listed (``summary``
        names them in that count).
        """
        self.warnings.add(self._place(label, message, at=at), code=code, summary=summary)

    def _place(
        self, label: NodePath, message: str, *, at: NodePath | None = None, key: bool = False
    ) -> Diagnostic:
        line, column = self.document.position(label if at is None else at, key=key)
        path = format_path(label)
        text = f"{path}: {message}" if label else message
        return Diagnostic(self.document.file, line, column, text, path)

    def poison(self, path: NodePath) -> None:
        """Mark the value at ``path`` as reported, so rule checks at or below it stay silent."""
        self._failed.add(path)

    def rule(
        self, label: NodePath, message: str, *, at: NodePath | None = None, key: bool = False
    ) -> None:
        """Report a domain-rule problem unless the value at ``label`` was already reported."""
        if self._failed and any(label[:n] in self._failed for n in range(len(label) + 1)):
            return
        self.report(label, message, at=at, key=key)

    def raise_if_any(self) -> None:
        """Raise every collected diagnostic at once."""
        if self.diagnostics:
            raise ManifestError(list(self.diagnostics), self.warnings)
