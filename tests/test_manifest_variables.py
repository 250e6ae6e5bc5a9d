"""``--var`` and ``--var-file`` ahead of the environment; empty, bare and secret-looking variables.

Which value a manifest took is seen offline: ``case_list_id: ${LIST}`` names a symbol, so
the manifest is valid when LIST is ``q2`` and names an unknown symbol otherwise.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.cli import Run, kayse
from testing.sandbox import running_sandbox
from testing.sandbox_process import SandboxProcess


def m(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


LIST_FROM_VARIABLE = m("""
    version: 1
    lists:
      q2: {name: Q2, filter: {}}
    campaigns:
      calls:
        name: Calls
        agent_id: agent_1
        case_list_id: ${LIST}
        runs: [{start_date: 2026-04-01, end_date: 2026-04-30, messaging_only: true}]
""")
UNKNOWN_NOPE = "m.yaml:8:19: campaigns.calls.case_list_id: unknown symbol 'nope'"


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    (tmp_path / "m.yaml").write_text(LIST_FROM_VARIABLE)
    return tmp_path


def validate(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    return kayse(["validate", "m.yaml", *args], cwd=cwd, key=None, env=env)


def test_var_comes_before_the_environment(recipe: Path) -> None:
    assert validate(recipe, env={"LIST": "nope"}).stderr.splitlines() == [UNKNOWN_NOPE]
    run = validate(recipe, "--var", "LIST=q2", env={"LIST": "nope"})
    assert (run.code, run.stderr) == (0, "")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("values.yaml", "# values for the recipe\nLIST: q2\n"),
        ("values.yml", "LIST: 'q2'\n"),
        (".env", "# values for the recipe\nexport LIST=q2\n"),
        ("prod.env", 'LIST="q2"  # a comment\n'),
    ],
)
def test_var_file_in_both_formats(recipe: Path, name: str, text: str) -> None:
    (recipe / name).write_text(text)
    run = validate(recipe, "--var-file", name, env={"LIST": "nope"})
    assert (run.code, run.stderr) == (0, "")


def test_var_comes_before_var_file_and_later_files_win(recipe: Path) -> None:
    (recipe / "a.env").write_text("LIST=nope\n")
    (recipe / "b.yaml").write_text("LIST: q2\n")
    assert validate(recipe, "--var-file", "a.env", "--var-file", "b.yaml").code == 0
    run = validate(recipe, "--var-file", "b.yaml", "--var-file", "a.env")
    assert run.stderr.splitlines() == [UNKNOWN_NOPE]
    run = validate(recipe, "--var-file", "b.yaml", "--var", "LIST=nope")
    assert run.stderr.splitlines() == [UNKNOWN_NOPE]


@pytest.mark.parametrize(
    "args",
    [
        ["--var", "KAYSE_API_KEY=sk-through-var"],
        ["--var", "KAYSE_API_KEY="],
    ],
)
def test_the_key_is_refused_through_var(recipe: Path, args: list[str]) -> None:
    run = validate(recipe, "--var", "LIST=q2", *args)
    assert run.code == 1
    assert run.stdout == ""
    assert run.stderr == (
        "error: KAYSE_API_KEY is read from the environment only, never from --var or a var-file\n"
    )


@pytest.mark.parametrize(
    ("name", "text", "place"),
    [
        ("keys.env", "LIST=q2\nKAYSE_API_KEY=sk-through-file\n", "keys.env:2:1"),
        ("keys.yaml", "LIST: q2\n  # the key\nKAYSE_API_KEY: sk-through-file\n", "keys.yaml:3:1"),
    ],
)
def test_the_key_is_refused_through_a_var_file(
    recipe: Path, name: str, text: str, place: str
) -> None:
    (recipe / name).write_text(text)
    for command in (["validate", "m.yaml"], ["plan", "m.yaml", "--sandbox"]):
        run = kayse([*command, "--var-file", name], cwd=recipe, key=None)
        assert run.code == 1
        assert run.stderr == (
            f"{place}: KAYSE_API_KEY is read from the environment only,"
            " never from --var or a var-file\n"
        )
        assert "sk-through-file" not in run.stdout + run.stderr
    assert not list(recipe.glob("*.state.json*"))


def test_var_file_problems_are_placed(recipe: Path) -> None:
    (recipe / "bad.env").write_text("LIST=q2\nnot a line\nAGENT\nLIST=again\n")
    (recipe / "bad.yaml").write_text("LIST: [q2]\nOTHER-NAME: x\n")
    run = validate(recipe, "--var-file", "bad.env", "--var-file", "bad.yaml")
    assert run.code == 1
    assert run.stderr.splitlines() == [
        "bad.env:2:1: not a NAME=VALUE line",
        "bad.env:3:1: AGENT: no value (write AGENT=VALUE)",
        "bad.env:4:1: LIST is given twice (first at line 1)",
    ]
    run = validate(recipe, "--var-file", "bad.yaml")
    assert run.stderr.splitlines() == [
        "bad.yaml:1:1: LIST: must be text, a number or true/false, not a list or mapping",
        "bad.yaml:2:1: 'OTHER-NAME' is not a variable name (letters, digits, _)",
    ]
    run = validate(recipe, "--var-file", "missing.env")
    assert run.stderr == "missing.env:1:1: cannot read the var-file: no such file or directory\n"
    run = validate(recipe, "--var", "no equals sign")
    assert run.stderr == (
        "error: --var takes NAME=VALUE, with NAME made of letters, digits and _\n"
    )


def test_a_value_no_manifest_uses_is_a_warning(recipe: Path) -> None:
    (recipe / "values.yaml").write_text("LIST: q2\nLSIT: q3\n")
    run = validate(recipe, "--var-file", "values.yaml", "--var", "EXTRA=1")
    assert run.code == 0
    assert run.stderr.splitlines() == [
        "warning: --var EXTRA is given a value but m.yaml does not use it",
        "values.yaml:2:1: warning: LSIT is given a value but m.yaml does not use it",
    ]
    (recipe / "n.yaml").write_text(LIST_FROM_VARIABLE.replace("${LIST}", "q2"))
    run = kayse(
        ["validate", "n.yaml", "m.yaml", "--var-file", "values.yaml", "--output", "json"],
        cwd=recipe,
        key=None,
    )
    document = json.loads(run.stdout)
    assert document["errors"] == []
    assert document["warnings"] == [
        {
            "file": "values.yaml",
            "line": 2,
            "column": 1,
            "path": "LSIT",
            "message": "LSIT is given a value but any of n.yaml, m.yaml does not use it",
        }
    ]


# --- the environment's rules --------------------------------------------------------------

CAMPAIGN = m("""
    version: 1
    {allow}lists:
      q2: {{name: Q2, filter: {{}}}}
    campaigns:
      calls:
        name: {name}
        agent_id: {agent}
        case_list_id: q2
        runs: [{{start_date: 2026-04-01, end_date: 2026-04-30, messaging_only: true}}]
""")

ENV = {"AGENT": "", "KAYSE_AGENT_ID": "agent_7", "GITHUB_TOKEN": "ghp_secretvalue"}

RULES: list[tuple[str, dict[str, str], int, list[str]]] = [
    (
        "set-but-empty",
        {"agent": "${AGENT}"},
        1,
        [
            "m.yaml:7:15: campaigns.calls.agent_id: environment variable AGENT is set but empty"
            " (give it a value, or write ${AGENT:-default})"
        ],
    ),
    ("empty-with-default", {"agent": "${AGENT:-agent_0}"}, 0, []),
    ("empty-default-is-asked-for", {"agent": "a${AGENT:-}"}, 0, []),
    (
        "bare-name-that-is-set",
        {"agent": '"$KAYSE_AGENT_ID"'},
        0,
        [
            "m.yaml:7:15: warning: campaigns.calls.agent_id: '$KAYSE_AGENT_ID' is kept as"
            " written: did you mean '${KAYSE_AGENT_ID}'?"
        ],
    ),
    ("bare-name-that-is-not-set", {"agent": "$NOT_SET_ANYWHERE"}, 0, []),
    ("escaped", {"agent": "agent", "name": '"Calls $${KAYSE_AGENT_ID}"'}, 0, []),
    (
        "the-api-key",
        {"agent": "${KAYSE_API_KEY:-none}"},
        1,
        [
            "m.yaml:7:15: campaigns.calls.agent_id: ${KAYSE_API_KEY} is not allowed in a"
            " manifest: the key is sent only as the request header, never as lead data"
        ],
    ),
    (
        "the-api-key-even-when-allowed",
        {"agent": "${KAYSE_API_KEY}", "allow": "allow_variables: [KAYSE_API_KEY]\n"},
        1,
        [
            "m.yaml:8:15: campaigns.calls.agent_id: ${KAYSE_API_KEY} is not allowed in a"
            " manifest: the key is sent only as the request header, never as lead data"
        ],
    ),
    *[
        (
            f"secret-looking-{name.lower()}",
            {"agent": f"${{{name}}}"},
            1,
            [
                f"m.yaml:7:15: campaigns.calls.agent_id: variable {name} looks like a secret"
                f" (its name holds {word}) and manifest values are sent to Kayse as lead data;"
                " if it is not a secret, list it in allow_variables"
            ],
        )
        for name, word in [
            ("GITHUB_TOKEN", "TOKEN"),
            ("AWS_SECRET_ACCESS_KEY", "KEY"),
            ("db_password", "PASSWORD"),
            ("CLIENT_SECRET", "SECRET"),
        ]
    ],
    (
        "secret-looking-with-a-default",
        {"agent": "${GITHUB_TOKEN:-agent_1}"},
        1,
        [
            "m.yaml:7:15: campaigns.calls.agent_id: variable GITHUB_TOKEN looks like a secret"
            " (its name holds TOKEN) and manifest values are sent to Kayse as lead data;"
            " if it is not a secret, list it in allow_variables"
        ],
    ),
    (
        "secret-looking-but-allowed",
        {"agent": "${GITHUB_TOKEN}", "allow": "allow_variables: [GITHUB_TOKEN]\n"},
        0,
        [],
    ),
    (
        "allow-list-of-bad-names",
        {"agent": "agent", "allow": "allow_variables: [GITHUB-TOKEN]\n"},
        1,
        [
            "m.yaml:2:19: allow_variables[0]: must be a variable name (letters, digits and _),"
            " not 'GITHUB-TOKEN'"
        ],
    ),
]


@pytest.mark.parametrize(
    ("fields", "code", "expected"), [c[1:] for c in RULES], ids=[c[0] for c in RULES]
)
def test_environment_rules(
    tmp_path: Path, fields: dict[str, str], code: int, expected: list[str]
) -> None:
    values = {"allow": "", "name": "Calls"} | fields
    (tmp_path / "m.yaml").write_text(CAMPAIGN.format(**values))
    run = kayse(["validate", "m.yaml"], cwd=tmp_path, key=None, env=ENV)
    assert (run.code, run.stderr.splitlines()) == (code, expected)
    assert "ghp_secretvalue" not in run.stdout + run.stderr
    assert "agent_7" not in run.stderr


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxProcess]:
    (tmp_path / "server").mkdir()
    with running_sandbox(tmp_path / "server") as process:
        yield process


def test_values_given_reach_kayse(recipe: Path, server: SandboxProcess) -> None:
    (recipe / "m.yaml").write_text(
        LIST_FROM_VARIABLE.replace("agent_1", "${AGENT}").replace("${LIST}", "q2")
    )
    (recipe / "values.env").write_text("AGENT=agent_from_file\n")
    env = {"AGENT": "agent_from_env"}
    args = ["apply", "m.yaml", "--var-file", "values.env"]
    run = kayse(args, cwd=recipe, url=server.url, env=env)
    assert run.code == 0, run.stderr
    assert [c["agent_id"] for c in server.dump()["campaigns"]] == ["agent_from_file"]
    # The state remembers the value it was applied with: another value is a change.
    run = kayse(["plan", "m.yaml", "--detailed-exitcode"], cwd=recipe, url=server.url, env=env)
    assert run.code == 2, run.stderr
    run = kayse([*args, "--var", "AGENT=agent_from_file"], cwd=recipe, url=server.url, env=env)
    assert (run.code, run.stderr) == (0, "")


@pytest.mark.parametrize(
    ("variable", "allow"),
    [
        ("KAYSE_API_KEY", ""),
        ("GITHUB_TOKEN", ""),
        ("KAYSE_API_KEY", "allow_variables: [KAYSE_API_KEY]\n"),
    ],
)
def test_a_secret_in_a_manifest_is_never_sent(
    tmp_path: Path, server: SandboxProcess, variable: str, allow: str
) -> None:
    # Issue 11, finding 15: the key went to Kayse as a contact's field and to stderr.
    contacts = m(f"""
        contacts:
          maria:
            first_name: Maria
            last_name: Garcia
            external_source: other
            external_source_id: ${{{variable}}}
    """)
    (tmp_path / "m.yaml").write_text(f"version: 1\n{allow}{contacts}")
    env = {"GITHUB_TOKEN": "ghp_secretvalue"}
    for command in (["apply", "m.yaml"], ["plan", "m.yaml"], ["validate", "m.yaml"]):
        run = kayse(command, cwd=tmp_path, url=server.url, key=server.api_key, env=env)
        assert run.code == 1
        assert "contacts.maria.external_source_id: " in run.stderr
        assert server.api_key not in run.stdout + run.stderr
        assert "ghp_secretvalue" not in run.stdout + run.stderr
    assert server.stats()["requests"] == 0
    assert not list(tmp_path.glob("m.state.json*"))
