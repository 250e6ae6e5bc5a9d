"""Which CSV column fills which contact field: guesses from the header, checked on the values.

A header is compared in a normal form (lower case, every run of other characters than
letters and digits as one ``_``), so ``First Name``, ``first-name`` and ``FIRST_NAME``
are one name. A column is mapped to at most one field, the first whose names it matches;
a date field is mapped only when every value of the column is already ``YYYY-MM-DD``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kayse_pipeline.errors import UsageError

MAX_CSV_BYTES = 64 * 1024 * 1024  # init reads the whole file once to check date columns

# Contact fields in the order a recipe lists them, each with the names it is guessed from.
CONTACT_GUESSES: Mapping[str, tuple[str, ...]] = {
    "first_name": ("first_name", "firstname", "first", "given_name", "forename", "fname"),
    "last_name": ("last_name", "lastname", "last", "surname", "family_name", "lname"),
    "email": ("email", "e_mail", "email_address", "mail", "email_addr"),
    "mobile": (
        "mobile",
        "mobile_phone",
        "mobile_number",
        "cell",
        "cell_phone",
        "cellphone",
        "phone",
        "phone_number",
        "telephone",
        "tel",
        "primary_phone",
        "contact_number",
    ),
    "address_line1": (
        "address",
        "address_line1",
        "address_1",
        "address1",
        "street",
        "street_address",
    ),
    "address_line2": ("address_line2", "address_2", "address2"),
    "city": ("city", "town"),
    "state": ("state", "province", "region"),
    "postal_code": ("postal_code", "zip", "zip_code", "zipcode", "postcode"),
    "date_of_birth": ("date_of_birth", "dob", "birth_date", "birthdate", "birthday"),
}
# Words that make a column a field's when no name above matched (``Electronic Mail``).
CONTACT_WORDS: Mapping[str, tuple[str, ...]] = {
    "email": ("email", "mail"),
    "mobile": ("mobile", "cell", "phone", "cellphone", "telephone"),
}
FULL_NAME = ("name", "full_name", "fullname", "client_name", "contact_name", "lead_name")
CASE_NUMBER = ("case_number", "case_no", "case_num", "matter_number", "matter_no", "file_number")
DATE_FIELDS = frozenset({"date_of_birth"})
# An ID column: exactly one of these, else a name that says ID, reference or number.
ID_NAMES = ("id", "lead_id", "external_id", "record_id", "intake_id", "crm_id", "contact_id")
_ID_WORDS = re.compile(r"(^|_)(id|ref|reference|no|num|number|key|code)(_|$)")
_FIELD_NAMES = frozenset(
    name for names in (*CONTACT_GUESSES.values(), FULL_NAME, CASE_NUMBER) for name in names
)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


@dataclass(frozen=True)
class ColumnMap:
    """How a CSV's columns fill a recipe: by field, the column; and what was left unmapped."""

    file: str
    fields: dict[str, str]  # contact field -> column
    id_column: str
    case_number: str | None  # a column for the case number, else the ID makes one
    full_name: str | None  # one column holds the whole name (no first / last columns)
    unmapped: dict[str, str]  # column -> why it was not mapped


def normal(name: str) -> str:
    """``First Name`` -> ``first_name``."""
    return _NOT_ALNUM.sub("_", name.lower()).strip("_")


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a CSV file, bounded in size; UsageError when it is not one."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise UsageError(f"--from-csv: {path} is not a regular file")
        if size > MAX_CSV_BYTES:
            raise UsageError(f"--from-csv: {path} is larger than {MAX_CSV_BYTES >> 20} MiB")
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle, strict=True))
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise UsageError(f"--from-csv: cannot read {path}: {reason}") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise UsageError(f"--from-csv: {path} is not a UTF-8 CSV file ({exc})") from None
    header = [cell.strip() for cell in rows[0]] if rows else []
    if not any(header):
        raise UsageError(f"--from-csv: {path} has no header: its first line must name the columns")
    return header, rows[1:]


def guess(file: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> ColumnMap:
    """Map a CSV's columns to a contact's fields; UsageError when no column can be the ID."""
    usable = [c for c in dict.fromkeys(header) if c and "{" not in c and "}" not in c]
    unmapped = {
        c: "a column name with braces cannot be a placeholder"
        for c in header
        if c and c not in usable
    }
    by_normal = {normal(c): c for c in reversed(usable)}  # the first of equal names wins
    taken: set[str] = set()

    def find(names: Iterable[str]) -> str | None:
        for name in names:
            column = by_normal.get(name)
            if column is not None and column not in taken:
                taken.add(column)
                return column
        return None

    def find_word(words: Iterable[str]) -> str | None:
        for column in usable:
            if column not in taken and set(normal(column).split("_")) & set(words):
                taken.add(column)
                return column
        return None

    id_column = find(ID_NAMES) or _id_like(usable, taken)
    if id_column is None:
        raise UsageError(
            f"--from-csv: no column of {file} looks like an ID (such as 'id' or 'lead_id'):"
            " a recipe makes each row's symbol and external_source_id from one; add such a column"
        )
    fields: dict[str, str] = {}
    for field, names in CONTACT_GUESSES.items():
        column = find(names) or find_word(CONTACT_WORDS.get(field, ()))
        if column is None:
            continue
        if field in DATE_FIELDS and not _all_dates(rows, header.index(column)):
            unmapped[column] = f"looks like {field}, but not every value is a date YYYY-MM-DD"
            continue
        fields[field] = column
    full_name = None
    if "first_name" not in fields or "last_name" not in fields:
        full_name = find(FULL_NAME)
    case_number = find(CASE_NUMBER)
    for column in usable:
        if column not in taken and column not in unmapped:
            unmapped[column] = "no contact field has this name"
    return ColumnMap(file, fields, id_column, case_number, full_name, unmapped)


def _id_like(columns: Sequence[str], taken: set[str]) -> str | None:
    """The first column whose name says ID, reference or number, and names no field."""
    for column in columns:
        name = normal(column)
        if name in _FIELD_NAMES or column in taken:
            continue
        if _ID_WORDS.search(name):
            taken.add(column)
            return column
    return None


def _all_dates(rows: Sequence[Sequence[str]], index: int) -> bool:
    values = [row[index].strip() for row in rows if index < len(row) and row[index].strip()]
    return all(_ISO_DATE.match(value) for value in values)
