"""The sandbox account: case types, statuses and field tables; the ``--account-file`` reader."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import yaml

from kayse_pipeline.errors import SandboxError
from kayse_pipeline.model import Account
from kayse_pipeline.sandbox.fields import TABLES, Field, FieldChange, changed

# The values of the docs' examples and of our recipes.
DEFAULT_CASE_TYPES: Final = (
    "civil",
    "criminal",
    "family",
    "personal_injury",
    "workers_compensation",
)
DEFAULT_CASE_STATUSES: Final = ("active", "closed", "pending", "open", "new_lead")

_KEYS: Final = ("case_types", "case_statuses")
_FILE_KEYS: Final = (*_KEYS, "fields")
_FIELD_STATES: Final = {"required": True, "optional": False}
_STR_TAG: Final = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class AccountConfig:
    """The account as the sandbox runs it: every value known, numbered from 1 in order."""

    case_types: tuple[str, ...] = DEFAULT_CASE_TYPES
    case_statuses: tuple[str, ...] = DEFAULT_CASE_STATUSES
    changes: tuple[FieldChange, ...] = ()

    @classmethod
    def of(cls, account: Account | AccountConfig | None) -> AccountConfig:
        """Fill what an ``Account`` leaves open with the defaults."""
        if isinstance(account, AccountConfig):
            return account
        if account is None:
            return cls()
        return cls(
            account.case_types or DEFAULT_CASE_TYPES, account.case_statuses or DEFAULT_CASE_STATUSES
        )

    def table(self, name: str) -> tuple[Field, ...]:
        """The fields of ``clients``, ``cases`` or ``case_lists`` as this account takes them."""
        return _table(self, name)

    def type_names(self, ids: list[int]) -> list[str]:
        """The case-type names behind 1-based ids (ids already checked)."""
        return [self.case_types[i - 1] for i in ids]

    def status_names(self, ids: list[int]) -> list[str]:
        """The status names behind 1-based ids (ids already checked)."""
        return [self.case_statuses[i - 1] for i in ids]


@functools.cache
def _table(account: AccountConfig, name: str) -> tuple[Field, ...]:
    # A case's type and status take the account's names, numbered from 1 in metadata.
    names = {"type": account.case_types, "status": account.case_statuses}
    fields = changed(name, account.changes)
    if name == "cases":
        fields = tuple(replace(f, values=names.get(f.name, f.values)) for f in fields)
    return fields


def load_account_config(path: Path) -> AccountConfig:
    """An account file as the sandbox runs it: its names, and its ``fields`` changes."""
    account, root = _read(path)
    block = next((v for k, v in root.value if k.value == "fields"), None)
    changes = _changes(path, block) if block is not None else ()
    return replace(AccountConfig.of(account), changes=changes)


def load_account_file(path: Path) -> Account:
    """Read ``case_types``/``case_statuses`` from YAML: top level, or a manifest's ``account``."""
    return _read(path)[0]


def _read(path: Path) -> tuple[Account, yaml.MappingNode]:
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SandboxError(f"{path}: cannot read the account file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise SandboxError(f"{where}: not valid YAML") from exc
    if not isinstance(root, yaml.MappingNode):
        raise SandboxError(f"{path}:1:1: the account file must be a mapping")
    block = next((v for k, v in root.value if k.value == "account"), None)
    strict = block is None  # a manifest may hold other keys; a bare account file may not
    node = root if block is None else block
    if not isinstance(node, yaml.MappingNode):
        raise SandboxError(f"{_at(path, node)}: account must be a mapping")
    found: dict[str, tuple[str, ...]] = {}
    for key, value in node.value:
        if key.value not in _KEYS:
            if strict and key.value not in _FILE_KEYS:
                expected = ", ".join(_FILE_KEYS)
                raise SandboxError(f"{_at(path, key)}: unknown key (expected {expected})")
            continue
        found[key.value] = _names(path, key.value, value)
    return Account(found.get("case_types"), found.get("case_statuses")), root


def _changes(path: Path, block: yaml.Node) -> tuple[FieldChange, ...]:
    """``fields: {TABLE: {FIELD: required|optional|absent|{required: BOOL, values: [...]}}}``."""
    if not isinstance(block, yaml.MappingNode):
        raise SandboxError(f"{_at(path, block)}: fields must be a mapping of {', '.join(TABLES)}")
    found: list[FieldChange] = []
    for table, fields in block.value:
        if table.value not in TABLES:
            raise SandboxError(f"{_at(path, table)}: unknown object (expected {', '.join(TABLES)})")
        if not isinstance(fields, yaml.MappingNode):
            where = _at(path, fields)
            raise SandboxError(f"{where}: {table.value} must map field names to changes")
        known = {f.name for f in TABLES[table.value]}
        for name, spec in fields.value:
            change = _change(path, table.value, name.value, spec)
            if change.absent and name.value not in known:
                raise SandboxError(f"{_at(path, spec)}: {name.value} is not a field to leave out")
            found.append(change)
    return tuple(found)


def _change(path: Path, table: str, name: str, spec: yaml.Node) -> FieldChange:
    if isinstance(spec, yaml.ScalarNode) and spec.value == "absent":
        return FieldChange(table, name, absent=True)
    if isinstance(spec, yaml.ScalarNode) and spec.value in _FIELD_STATES:
        return FieldChange(table, name, required=_FIELD_STATES[spec.value])
    if not isinstance(spec, yaml.MappingNode):
        raise SandboxError(
            f"{_at(path, spec)}: a field change is required, optional, absent, "
            "or a mapping of required and values"
        )
    required: bool | None = None
    values: tuple[str, ...] | None = None
    for key, value in spec.value:
        if key.value == "required" and value.tag == "tag:yaml.org,2002:bool":
            required = value.value.lower() == "true"
        elif key.value == "values":
            values = _names(path, "values", value)
        else:
            raise SandboxError(f"{_at(path, key)}: expected required: true|false or values: [...]")
    return FieldChange(table, name, required=required, values=values)


def _names(path: Path, key: str, node: yaml.Node) -> tuple[str, ...]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise SandboxError(f"{_at(path, node)}: {key} must be a non-empty list of names")
    names: list[str] = []
    for item in node.value:
        if not isinstance(item, yaml.ScalarNode) or item.tag != _STR_TAG or not item.value:
            raise SandboxError(f"{_at(path, item)}: each of {key} must be a non-empty string")
        names.append(item.value)
    return tuple(names)


def _at(path: Path, node: yaml.Node) -> str:
    return f"{path}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"
