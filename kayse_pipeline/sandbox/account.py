"""The sandbox account's case types and statuses: defaults, and the ``--account-file`` reader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

from kayse_pipeline.errors import SandboxError
from kayse_pipeline.model import Account

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
_STR_TAG: Final = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class AccountConfig:
    """The account as the sandbox runs it: every value known, numbered from 1 in order."""

    case_types: tuple[str, ...] = DEFAULT_CASE_TYPES
    case_statuses: tuple[str, ...] = DEFAULT_CASE_STATUSES

    @classmethod
    def of(cls, account: Account | None) -> AccountConfig:
        """Fill what an ``Account`` leaves open with the defaults."""
        if account is None:
            return cls()
        return cls(
            account.case_types or DEFAULT_CASE_TYPES, account.case_statuses or DEFAULT_CASE_STATUSES
        )

    def type_names(self, ids: list[int]) -> list[str]:
        """The case-type names behind 1-based ids (ids already checked)."""
        return [self.case_types[i - 1] for i in ids]

    def status_names(self, ids: list[int]) -> list[str]:
        """The status names behind 1-based ids (ids already checked)."""
        return [self.case_statuses[i - 1] for i in ids]


def load_account_file(path: Path) -> Account:
    """Read ``case_types``/``case_statuses`` from YAML: top level, or a manifest's ``account``."""
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
            if strict:
                raise SandboxError(f"{_at(path, key)}: unknown key (expected {', '.join(_KEYS)})")
            continue
        found[key.value] = _names(path, key.value, value)
    return Account(found.get("case_types"), found.get("case_statuses"))


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
