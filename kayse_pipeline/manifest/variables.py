"""Values for ``${NAME}`` given on the command line: ``--var NAME=VALUE`` and ``--var-file``.

A var-file is a YAML mapping (``.yaml``, ``.yml``, ``.json``) or ``.env`` lines
(``NAME=VALUE``, ``export NAME=VALUE``, quotes and comments as python-dotenv reads
them; values are taken as written, without ``${...}`` expansion). ``--var`` wins
over every var-file; a later var-file wins over an earlier one. The API key is never
taken from either: it stays environment-only.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kayse_pipeline.errors import Diagnostic, ManifestError, UsageError
from kayse_pipeline.manifest.env import API_KEY_VARIABLE, NAME_RE
from kayse_pipeline.manifest.yaml_io import load_yaml

MAX_VAR_FILE_BYTES = 1024 * 1024  # far above any list of values a recipe needs
YAML_SUFFIXES = frozenset({".yaml", ".yml", ".json"})

_KEY_REFUSED = (
    f"{API_KEY_VARIABLE} is read from the environment only, never from --var or a var-file"
)


@dataclass(frozen=True)
class Given:
    """Values given on the command line, and where each was given (for warnings)."""

    values: dict[str, str] = field(default_factory=dict)
    places: dict[str, Diagnostic] = field(default_factory=dict)  # var-file entries only

    def unused(self, used: Iterable[str], manifests: Sequence[str]) -> list[Diagnostic]:
        """A warning for each given value that none of ``manifests`` refers to."""
        unused = set(self.values) - set(used)
        which = "any of " + ", ".join(manifests) if len(manifests) > 1 else "".join(manifests)
        warnings = []
        for name in sorted(unused):
            place = self.places.get(name)
            message = f"{name} is given a value but {which} does not use it"
            if place is None:  # a --var: no file to place it in
                warnings.append(Diagnostic("", 0, 0, f"--var {message}", name))
            else:
                warnings.append(Diagnostic(place.file, place.line, place.column, message, name))
        return warnings


def given_values(var_files: Sequence[Path], variables: Sequence[str]) -> Given:
    """The values of ``--var-file`` files (in order) and then ``--var`` options."""
    given = Given()
    for path in var_files:
        for name, (value, place) in read_var_file(path).items():
            given.values[name] = value
            given.places[name] = place
    for text in variables:
        name, value = parse_var(text)
        given.values[name] = value
        given.places.pop(name, None)
    return given


def parse_var(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` as given to ``--var``; the value may be empty, never the key's."""
    name, sep, value = text.partition("=")
    if not sep or not NAME_RE.match(name):
        raise UsageError("--var takes NAME=VALUE, with NAME made of letters, digits and _")
    if name == API_KEY_VARIABLE:
        raise UsageError(_KEY_REFUSED)
    return name, value


def read_var_file(path: Path) -> dict[str, tuple[str, Diagnostic]]:
    """Each name of a var-file with its value and its place; ManifestError with every problem."""
    file = str(path)
    text = _read(path, file)
    if path.suffix.lower() in YAML_SUFFIXES:
        entries, problems = _yaml_entries(text, file)
    else:
        entries, problems = _dotenv_entries(text, file)
    found: dict[str, tuple[str, Diagnostic]] = {}
    for name, value, place in entries:
        if name == API_KEY_VARIABLE:
            problems.append(_at(place, _KEY_REFUSED))
        elif not NAME_RE.match(name):
            problems.append(_at(place, f"'{name}' is not a variable name (letters, digits, _)"))
        elif name in found:
            first = found[name][1].line
            problems.append(_at(place, f"{name} is given twice (first at line {first})"))
        else:
            found[name] = (value, place)
    if problems:
        raise ManifestError(problems)
    return found


def _read(path: Path, file: str) -> str:
    def fail(reason: str) -> ManifestError:
        return ManifestError([Diagnostic(file, 1, 1, f"cannot read the var-file: {reason}")])

    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise fail("not a regular file")
            raw = handle.read(MAX_VAR_FILE_BYTES + 1)
    except OSError as exc:
        raise fail((exc.strerror or type(exc).__name__).lower()) from None
    if len(raw) > MAX_VAR_FILE_BYTES:
        raise fail(f"larger than {MAX_VAR_FILE_BYTES // 1024} KiB")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise fail("not UTF-8 text") from None


Entry = tuple[str, str, Diagnostic]


def _yaml_entries(text: str, file: str) -> tuple[list[Entry], list[Diagnostic]]:
    document = load_yaml(text, file)
    problems = list(document.problems)
    data = document.data
    if data is None:
        return [], problems
    if not isinstance(data, dict):
        return [], [*problems, Diagnostic(file, 1, 1, "a var-file is a mapping of NAME: value")]
    entries: list[Entry] = []
    for name, value in data.items():
        line, column = document.position((name,), key=True)
        place = Diagnostic(file, line, column, "", name)
        if isinstance(value, bool):
            entries.append((name, "true" if value else "false", place))
        elif isinstance(value, str | int | float):
            entries.append((name, str(value), place))
        else:
            what = "null" if value is None else "a list or mapping"
            problems.append(_at(place, f"{name}: must be text, a number or true/false, not {what}"))
    return entries, problems


def _dotenv_entries(text: str, file: str) -> tuple[list[Entry], list[Diagnostic]]:
    from dotenv.parser import parse_stream  # only a .env file needs it

    entries: list[Entry] = []
    problems: list[Diagnostic] = []
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        if binding.error:
            problems.append(Diagnostic(file, line, 1, "not a NAME=VALUE line"))
        elif binding.key is not None:
            place = Diagnostic(file, line, 1, "", binding.key)
            if binding.value is None:
                problems.append(_at(place, f"{binding.key}: no value (write {binding.key}=VALUE)"))
            else:
                entries.append((binding.key, binding.value, place))
    return entries, problems


def _at(place: Diagnostic, message: str) -> Diagnostic:
    return Diagnostic(place.file, place.line, place.column, message, place.path)
