"""``init``: the files of a recipe repository that validates and applies at once.

The files come from templates shipped in the package (``scaffold/templates``); the
example workflow is the repository's own (``examples/github/kayse.yml`` links to it). No
file that exists is ever overwritten: every target is checked first, and a file that
appears meanwhile stops the writing and removes what this call wrote.
"""

from __future__ import annotations

import json
import shutil
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from kayse_pipeline import __version__
from kayse_pipeline.errors import KayseError, UsageError
from kayse_pipeline.safe_text import safe_line
from kayse_pipeline.scaffold.columns import ColumnMap, guess, read_csv

MANIFEST = PurePosixPath("recipes/leads.yaml")
WORKFLOW = PurePosixPath(".github/workflows/kayse.yml")


class ExistsError(KayseError):
    """``init`` would overwrite files that exist."""

    def __init__(self, existing: Sequence[Path]) -> None:
        self.existing = list(existing)
        names = "".join(f"\n  {path}" for path in existing)
        super().__init__(f"init never overwrites a file; nothing written, these are there:{names}")


class _Template(string.Template):
    delimiter = "%"  # templates hold ``$schema`` and ``${NAME}`` as they are


@dataclass(frozen=True)
class Scaffold:
    """What ``init`` writes: relative path -> bytes, and the CSV mapping it made, if any."""

    files: Mapping[PurePosixPath, bytes]
    columns: ColumnMap | None


def template(name: str) -> str:
    """A template shipped in the package."""
    return resources.files("kayse_pipeline.scaffold").joinpath("templates", name).read_text("utf-8")


def scaffold(folder: Path, csv_path: Path | None = None) -> Scaffold:
    """The files of a new recipe repository in ``folder``; with a CSV, a recipe over its rows.

    The CSV is copied beside the recipe, unless it is there already.
    """
    values = {"version": __version__, "manifest": str(MANIFEST)}
    files: dict[PurePosixPath, bytes] = {}
    columns = None
    if csv_path is None:
        manifest = _Template(template("recipe.yaml")).substitute(values)
    else:
        header, rows = read_csv(csv_path)
        columns = guess(csv_path.name, header, rows)
        csv_name = MANIFEST.parent / csv_path.name
        if (folder / csv_name).resolve() != csv_path.resolve():
            files[csv_name] = csv_path.read_bytes()
        manifest = _rows_recipe(columns, values)
    files[MANIFEST] = manifest.encode()
    files[WORKFLOW] = template("github-workflow.yml").encode()
    files[PurePosixPath(".gitignore")] = template("gitignore").encode()
    config = _Template(template("pre-commit-config.yaml")).substitute(values)
    files[PurePosixPath(".pre-commit-config.yaml")] = config.encode()
    return Scaffold(files, columns)


def write(folder: Path, files: Mapping[PurePosixPath, bytes]) -> list[Path]:
    """Write every file under ``folder``, or none: ExistsError names those already there."""
    targets = {folder / name: data for name, data in files.items()}
    existing = [path for path in targets if path.exists() or path.is_symlink()]
    if existing:
        raise ExistsError(existing)
    written: list[Path] = []
    made: list[Path] = []
    try:
        for path, data in targets.items():
            for parent in reversed(path.parents):
                if not parent.exists():
                    parent.mkdir()
                    made.append(parent)
            with open(path, "xb") as handle:  # never replaces a file that appeared meanwhile
                written.append(path)
                handle.write(data)
    except FileExistsError:
        _undo(written, made)
        raise ExistsError([path]) from None
    except OSError as exc:
        _undo(written, made)
        raise UsageError(f"cannot write {path}: {(exc.strerror or '').lower()}") from None
    return written


def _undo(written: list[Path], made: list[Path]) -> None:
    for path in written:
        path.unlink(missing_ok=True)
    for folder in reversed(made):
        shutil.rmtree(folder, ignore_errors=True)


def _rows_recipe(columns: ColumnMap, values: Mapping[str, str]) -> str:
    """The rows recipe for a CSV's columns, with a comment for each column not mapped."""
    contact, case = _contact_lines(columns), _case_lines(columns)
    unmapped = ""
    if columns.unmapped:
        notes = [f"    #   {_comment(c)}: {why}" for c, why in columns.unmapped.items()]
        unmapped = "\n".join(
            [
                "",
                '    # Columns not mapped: add one above as a field\'s value, "{Column}",'
                " where it fits.",
                *notes,
            ]
        )
    return _Template(template("rows_recipe.yaml")).substitute(
        values,
        csv=_comment(columns.file),
        csv_yaml=json.dumps(columns.file),
        contact="\n".join(contact),
        case="\n".join(case),
        unmapped=unmapped,
        list_name=json.dumps(f"Leads from {columns.file}"),
    )


def _contact_lines(columns: ColumnMap) -> list[str]:
    id_value = _placeholder(columns.id_column)
    source = f"from the ID column '{_comment(columns.id_column)}'"
    lines = [_line("symbol", f"lead_{id_value}", source)]
    fields = dict(columns.fields)
    name_notes: dict[str, str] = {}
    if columns.full_name is not None:
        fields.setdefault("first_name", columns.full_name)
        name_notes["first_name"] = "the whole name: split it into first and last for Kayse"
    for field in ("first_name", "last_name"):
        if field not in fields:
            lines.append(_line(field, "-", "no column found for it; Kayse requires it"))
    for field, column in fields.items():
        lines.append(_line(field, _placeholder(column), name_notes.get(field)))
    lines.append(_line("external_source_id", id_value))
    return lines


def _case_lines(columns: ColumnMap) -> list[str]:
    id_value = _placeholder(columns.id_column)
    number = _placeholder(columns.case_number) if columns.case_number else f"LEAD-{id_value}"
    return [
        _line("symbol", f"case_{id_value}"),
        _line("case_number", number, "Kayse documents it as unique"),
        _line("name", f"Lead {id_value}"),
        _line("external_source_id", f"case-{id_value}"),
        "      # no client_ids: each case is linked to the contact of its own row",
    ]


def _line(field: str, value: str, note: str | None = None) -> str:
    text = f"      {field}: {json.dumps(value)}"
    return f"{text:<46}  # {note}" if note else text


def _placeholder(column: str) -> str:
    return "{" + column + "}"


def _comment(text: str) -> str:
    """Text for a YAML comment: one line, without the line breaks YAML also reads (U+0085,
    U+2028, U+2029), which would end the comment and write the rest into the recipe."""
    return safe_line(text)
