"""``kayse-pipeline init``: from a CSV to a recipe that validates and applies without an edit.

Every step runs the real CLI in a child process; the sandbox is the in-process one that
``apply --sandbox`` opens, read back with ``sandbox dump``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kayse_pipeline import __version__
from testing.cli import kayse

ROOT = Path(__file__).resolve().parent.parent

# Three intake exports, each headed its own way.
CSVS: dict[str, str] = {
    "plain": (
        "id,first_name,last_name,email,phone,city\n"
        "1001,Maria,Garcia,maria.garcia@example.com,+15125550101,Austin\n"
        "1002,Ben,Okafor,ben.okafor@example.com,+15125550102,Dallas\n"
        "1003,Lena,Novak,,+15125550103,Houston\n"
    ),
    "titled": (
        "Lead ID,First Name,Last Name,E-mail Address,Mobile Phone,DOB,Notes\n"
        "IN-0001,Maria,Garcia,maria.garcia@example.com,+15125550101,1980-02-03,called twice\n"
        'IN-0002,Ben,Okafor,ben.okafor@example.com,+15125550102,,"prefers text, evenings"\n'
    ),
    "unusual": (
        "\ufeffIntake Ref #,Given Name,Surname,Cell,Electronic Mail,Birthday (m/d/y),Referred By\n"
        "A-17,Maria,Garcia,+15125550101,maria.garcia@example.com,02/03/1980,radio\n"
        "A-18,Ben,Okafor,+15125550102,ben.okafor@example.com,11/30/1975,web\n"
        "A-19,Lena,Novak,+15125550103,,,\n"
        "A-20,Jo,Park,+15125550104,jo.park@example.com,,web\n"
    ),
}
EXPECTED_MAPPING = {
    "plain": {"first_name": "first_name", "email": "email", "mobile": "phone", "city": "city"},
    "titled": {"email": "E-mail Address", "mobile": "Mobile Phone", "date_of_birth": "DOB"},
    "unusual": {"first_name": "Given Name", "last_name": "Surname", "mobile": "Cell"},
}
NOT_MAPPED = {
    "plain": [],
    "titled": ["Notes"],
    "unusual": ["Birthday (m/d/y)", "Referred By"],
}
FILES = [
    "recipes/leads.yaml",
    ".github/workflows/kayse.yml",
    ".gitignore",
    ".pre-commit-config.yaml",
]


def rows(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.lstrip("\ufeff").splitlines()[1:]]


def dump(cwd: Path) -> dict[str, list[dict[str, Any]]]:
    """The sandbox's records: its folder is beside the recipe's state."""
    run = kayse(["sandbox", "dump", "--dir", "recipes/.kayse-sandbox"], cwd=cwd, key=None)
    assert run.code == 0, run.stderr
    records: dict[str, list[dict[str, Any]]] = json.loads(run.stdout)
    return records


@pytest.mark.parametrize("name", sorted(CSVS))
def test_init_from_csv_validates_and_applies(tmp_path: Path, name: str) -> None:
    (tmp_path / f"{name}.csv").write_text(CSVS[name], encoding="utf-8")
    run = kayse(["init", "repo", "--from-csv", f"{name}.csv"], cwd=tmp_path, key=None)
    assert run.code == 0, run.stderr
    repo = tmp_path / "repo"
    recipe = (repo / "recipes" / "leads.yaml").read_text(encoding="utf-8")
    contact = yaml.safe_load(recipe)["rows"]["leads"]["contact"]
    for field, column in EXPECTED_MAPPING[name].items():
        assert contact[field] == "{" + column + "}"
    for column in NOT_MAPPED[name]:
        assert re.search(rf"^    #   {re.escape(column)}: ", recipe, re.MULTILINE), column
        assert f"{column}: not mapped" in run.stdout
    assert (repo / "recipes" / f"{name}.csv").read_bytes() == (
        tmp_path / f"{name}.csv"
    ).read_bytes()

    run = kayse(["validate", "recipes/leads.yaml"], cwd=repo, key=None)
    assert (run.code, run.stderr) == (0, "")
    run = kayse(["apply", "recipes/leads.yaml", "--sandbox"], cwd=repo, key=None)
    assert run.code == 0, run.stderr

    records = dump(repo)
    people = [(r[1], r[2]) for r in rows(CSVS[name])]
    assert sorted((c["first_name"], c["last_name"]) for c in records["clients"]) == sorted(people)
    assert len(records["cases"]) == len(people)
    assert all(len(case["client_ids"]) == 1 for case in records["cases"])
    emails = {c["email"] for c in records["clients"]} - {None}
    assert emails == {"maria.garcia@example.com", "ben.okafor@example.com"} | (
        {"jo.park@example.com"} if name == "unusual" else set()
    )
    run = kayse(["apply", "recipes/leads.yaml", "--sandbox"], cwd=repo, key=None)
    assert run.code == 0
    assert run.stdout.startswith("Nothing to do")


@pytest.mark.parametrize("breaks", ["\u2028", "\u2029", "\x85", "\r"])
def test_a_header_cannot_write_into_the_recipe(tmp_path: Path, breaks: str) -> None:
    """A column's name is shown in a comment; YAML's other line breaks cannot end it."""
    header = f"Notes{breaks}injected: true"
    csv = f'id,first_name,last_name,"{header}"\n1,Maria,Garcia,x\n'
    (tmp_path / "leads.csv").write_text(csv, encoding="utf-8")
    run = kayse(["init", "repo", "--from-csv", "leads.csv"], cwd=tmp_path, key=None)
    assert run.code == 0, run.stderr
    recipe = yaml.safe_load((tmp_path / "repo" / "recipes" / "leads.yaml").read_text("utf-8"))
    assert "injected" not in recipe and "injected" not in recipe["rows"]["leads"]
    run = kayse(["validate", "recipes/leads.yaml"], cwd=tmp_path / "repo", key=None)
    assert (run.code, run.stderr) == (0, "")


def test_init_without_csv_validates_and_applies(tmp_path: Path) -> None:
    run = kayse(["init"], cwd=tmp_path, key=None)
    assert run.code == 0, run.stderr
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == (
        sorted(FILES)
    )
    assert kayse(["validate", "recipes/leads.yaml"], cwd=tmp_path, key=None).code == 0
    run = kayse(["apply", "recipes/leads.yaml", "--sandbox"], cwd=tmp_path, key=None)
    assert run.code == 0, run.stderr
    assert [c["first_name"] for c in dump(tmp_path)["clients"]] == ["Maria"]


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_init_twice_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(CSVS["plain"])
    assert kayse(["init", "repo", "--from-csv", "leads.csv"], cwd=tmp_path, key=None).code == 0
    repo = tmp_path / "repo"
    (repo / "recipes" / "leads.yaml").write_text("# edited by hand\n")
    before = _snapshot(repo)
    run = kayse(["init", "repo", "--from-csv", "leads.csv"], cwd=tmp_path, key=None)
    assert run.code == 1
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        "error: init never overwrites a file; nothing written, these are there:",
        *[f"  repo/{name}" for name in ["recipes/leads.csv", *FILES]],
    ]
    assert _snapshot(repo) == before


def test_a_csv_already_beside_the_recipe_is_not_copied(tmp_path: Path) -> None:
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "intake.csv").write_text(CSVS["titled"])
    run = kayse(["init", "--from-csv", "recipes/intake.csv"], cwd=tmp_path, key=None)
    assert run.code == 0, run.stderr
    assert "recipes/intake.csv" not in run.stdout.split("Columns")[0]
    assert kayse(["validate", "recipes/leads.yaml"], cwd=tmp_path, key=None).code == 0


def test_one_existing_file_stops_everything(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\n")
    run = kayse(["init"], cwd=tmp_path, key=None)
    assert run.code == 1
    assert run.stderr.splitlines() == [
        "error: init never overwrites a file; nothing written, these are there:",
        "  .gitignore",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gitignore"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "first_name,last_name,email\nMaria,Garcia,m@example.com\n",
            "error: --from-csv: no column of leads.csv looks like an ID (such as 'id' or"
            " 'lead_id'): a recipe makes each row's symbol and external_source_id from one;"
            " add such a column",
        ),
        ("\n", "error: --from-csv: leads.csv has no header: its first line must name the columns"),
    ],
)
def test_a_csv_init_cannot_use(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "leads.csv").write_text(text)
    run = kayse(["init", "repo", "--from-csv", "leads.csv"], cwd=tmp_path, key=None)
    assert (run.code, run.stderr.strip()) == (1, message)
    assert not (tmp_path / "repo").exists()


def test_the_workflow_is_the_repository_example(tmp_path: Path) -> None:
    assert kayse(["init"], cwd=tmp_path, key=None).code == 0
    written = (tmp_path / ".github" / "workflows" / "kayse.yml").read_bytes()
    assert written == (ROOT / "examples" / "github" / "kayse.yml").read_bytes()
    workflow = yaml.safe_load(written)
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    ours = [s for s in steps if s.get("uses", "").startswith("kayse-pipeline/kayse-pipeline@")]
    assert ours
    inputs = set(yaml.safe_load((ROOT / "action.yml").read_text())["inputs"])
    for step in ours:  # the Action's inputs are what the workflow gives it
        assert set(step["with"]) <= inputs


def test_pre_commit_config_uses_this_repository_hook(tmp_path: Path) -> None:
    assert kayse(["init"], cwd=tmp_path, key=None).code == 0
    config = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text())
    [repo] = config["repos"]
    assert repo["repo"] == "https://github.com/kayse-pipeline/kayse-pipeline"
    assert repo["rev"] == f"v{__version__}"
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in repo["hooks"]] == [h["id"] for h in hooks]
    ignored = (tmp_path / ".gitignore").read_text().splitlines()
    for pattern in (
        "*.state.json.lock",
        "*.state.json.pid",
        "*.state.json.journal",
        ".kayse-sandbox/",
    ):
        assert pattern in ignored


@pytest.mark.parametrize(
    ("path", "matched"),
    [
        ("recipes/leads.yaml", True),
        ("recipes/weekly/intake.yml", True),
        ("clients/acme/recipes/leads.yaml", True),
        ("recipes/leads.state.json", False),
        ("recipes/leads.sandbox.state.json", False),
        (".github/workflows/kayse.yml", False),
        (".pre-commit-config.yaml", False),
        ("myrecipes/leads.yaml", False),
    ],
)
def test_the_hook_matches_recipes_only(path: str, matched: bool) -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert bool(re.search(hook["files"], path)) is matched


def test_the_hook_entry_checks_the_files_it_is_given(tmp_path: Path) -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["entry"] == "kayse-pipeline validate"
    assert kayse(["init"], cwd=tmp_path, key=None).code == 0
    (tmp_path / "recipes" / "broken.yaml").write_text("version: 1\nlists: {q2: {nme: Q2}}\n")
    run = kayse(["validate", "recipes/leads.yaml", "recipes/broken.yaml"], cwd=tmp_path, key=None)
    assert run.code == 1
    assert run.stderr.splitlines() == [
        "recipes/broken.yaml:2:9: lists.q2.name: required field missing",
        "recipes/broken.yaml:2:14: lists.q2: unknown field 'nme' (did you mean 'name'?)",
    ]
