"""The import rules of the stages (README "Architecture"), read from the source with ``ast``.

Every import counts: at the top, inside a function (lazy) or under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kayse_pipeline"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports (absolute names; relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = (package or module_name(path)).split(".")
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([base] if base else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
PROJECT = "kayse_pipeline"


def project_imports(module: str) -> set[str]:
    """The project's modules that ``module`` imports (a name imported from one counts as it)."""
    found = set()
    for name in imports(MODULES[module]):
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def stage(name: str) -> str:
    return f"{PROJECT}.{name}"


# (modules the rule is about, may not import, except these)
RULES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    # The planner looks calls up in the endpoint table, which is data and imports only model.
    ("plan", ("api", "run", "cli", "sandbox"), ("api.endpoints",)),
    ("manifest", ("api", "run", "cli", "plan", "sandbox"), ()),
    ("run", ("cli",), ()),
    ("api", ("run", "cli", "plan", "manifest", "sandbox"), ()),
    ("api.endpoints", ("api.client", "api.pacing", "errors", "state", "graph"), ()),
]


def test_the_rules_see_every_stage() -> None:
    for name in ("plan", "manifest", "run", "api", "cli", "sandbox"):
        assert any(under(m, stage(name)) for m in MODULES), name
    assert project_imports(stage("run.apply")), "the parser finds the project's imports"


@pytest.mark.parametrize(("package", "forbidden", "allowed"), RULES)
def test_a_stage_imports_only_what_it_may(
    package: str, forbidden: tuple[str, ...], allowed: tuple[str, ...]
) -> None:
    broken = sorted(
        f"{module} imports {target}"
        for module in MODULES
        if under(module, stage(package))
        for target in project_imports(module)
        if any(under(target, stage(f)) for f in forbidden)
        and not any(under(target, stage(a)) for a in allowed)
    )
    assert broken == []


SHARED = ("advice", "bounds", "graph", "naming", "safe_files", "state", "state_format",
          "state_journal", "state_lock")  # fmt: skip
STAGES = ("manifest", "plan", "run", "api", "cli", "sandbox", "scaffold")


@pytest.mark.parametrize("name", SHARED)
def test_the_shared_modules_import_no_stage(name: str) -> None:
    """Beside the stages, for all of them: the error tree, the model and one another only."""
    module = stage(name)
    assert module in MODULES
    staged = sorted(t for t in project_imports(module) if any(under(t, stage(s)) for s in STAGES))
    assert staged == []


def test_model_errors_and_safe_text_import_nothing_of_the_project() -> None:
    for module in (stage("model"), stage("errors"), stage("safe_text")):
        assert project_imports(module) == set(), module


def test_the_sandbox_knows_nothing_of_the_pipeline() -> None:
    """Only the error tree and the model's names of kinds; no stage of the pipeline."""
    broken = sorted(
        f"{module} imports {target}"
        for module in MODULES
        if under(module, stage("sandbox"))
        for target in project_imports(module)
        if not under(target, stage("sandbox"))
        and target not in (stage("errors"), stage("model"), PROJECT)
    )
    assert broken == []


def test_only_the_cli_imports_the_cli() -> None:
    broken = sorted(
        f"{module} imports {target}"
        for module in MODULES
        if not under(module, stage("cli")) and module != f"{PROJECT}.__main__"
        for target in project_imports(module)
        if under(target, stage("cli"))
    )
    assert broken == []


def test_the_package_never_imports_test_support() -> None:
    broken = sorted(
        f"{module} imports {name}"
        for module, path in MODULES.items()
        for name in imports(path)
        if under(name, "testing") or under(name, "tests")
    )
    assert broken == []
