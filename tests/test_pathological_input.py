"""Issue 11, finding 7: pathological input gets a clear message with its place, never
"unexpected error": deep nesting, numbers of thousands of digits, lone surrogates, in
manifests, ``state set``, state files, data rows and Kayse's answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing.cli import SEED_MANIFEST, kayse
from testing.hostile_server import Reply, hostile_server

KEY = "hostile-test-key-3c9d"
HEAD = "version: 1\ncontacts:\n"
CONTACT = "  a:\n    first_name: A\n    last_name: B\n    external_source: x\n"

MANIFESTS = {
    "flow nested 1,500 deep": (
        HEAD + "  a: " + "[" * 1500 + "]" * 1500 + "\n",
        "m.yaml:3:1004: invalid YAML: nested deeper than 64 levels",
    ),
    "flow nested 100 deep": (
        HEAD + "  a: " + "[" * 100 + "]" * 100 + "\n",
        "m.yaml:3:68: invalid YAML: nested deeper than 64 levels",
    ),
    "block nested 1,200 deep": (
        HEAD + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(1200)),
        "m.yaml:",
    ),
    "an integer of 5,000 digits": (
        HEAD + CONTACT + "    external_source_id: x\n    case_ids: [" + "9" * 5000 + "]\n",
        "m.yaml:8:16: a number of 5000 digits is too long (at most 30)",
    ),
    "an explicit !!int of 5,000 digits": (
        HEAD + CONTACT + "    external_source_id: x\n    case_ids: [!!int " + "9" * 5000 + "]\n",
        "m.yaml:8:16: a number of 5000 digits is too long (at most 30)",
    ),
    "an ID past 2**63": (
        HEAD + CONTACT + "    external_source_id: x\n    case_ids: [99999999999999999999]\n",
        "m.yaml:8:16: contacts.a.case_ids[0]: must be 9223372036854775807 or less (a Kayse ID),"
        " not 99999999999999999999",
    ),
    "a lone surrogate": (
        HEAD + CONTACT + '    external_source_id: "x\\ud800"\n',
        "m.yaml:7:27: invalid YAML: '\\ud800' is half of a surrogate pair, not a character",
    ),
}


@pytest.mark.parametrize("case", sorted(MANIFESTS))
def test_a_pathological_manifest_gets_a_message_with_its_place(case: str, tmp_path: Path) -> None:
    text, said = MANIFESTS[case]
    (tmp_path / "m.yaml").write_text(text)
    run = kayse(["validate", "m.yaml"], cwd=tmp_path)
    assert run.code == 1
    assert run.stderr.startswith(said), run.stderr[:300]
    assert "unexpected" not in run.stderr


def _state(records: str) -> str:
    return (
        '{"format": "kayse-pipeline-state", "version": 1, "target": "http://127.0.0.1:9/v1", '
        f'"salt": "00", "records": {records}, "memberships": {{}}}}'
    )


STATES = {
    "an ID of 5,000 digits": (
        _state('{"maria": {"kind": "contact", "id": ' + "9" * 5000 + ', "fingerprint": "f"}}'),
        "seed.state.json:1:146: state file is not valid JSON "
        "(a number of 5000 digits (at most 30))",
    ),
    "an ID past 2**63": (
        _state('{"maria": {"kind": "contact", "id": 9223372036854775808, "fingerprint": "f"}}'),
        "seed.state.json: record 'maria' is damaged; restore the file",
    ),
    "nested 100,000 deep": (
        _state('{"maria": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        "seed.state.json:1:",
    ),
}


@pytest.mark.parametrize("case", sorted(STATES))
def test_a_pathological_state_file_gets_a_message_with_its_place(case: str, tmp_path: Path) -> None:
    text, said = STATES[case]
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    (tmp_path / "seed.state.json").write_text(text)
    run = kayse(["plan", "seed.yaml"], cwd=tmp_path, url="http://127.0.0.1:9/v1")
    assert run.code == 1
    assert said in run.stderr, run.stderr[:300]
    assert "unexpected" not in run.stderr
    assert (tmp_path / "seed.state.json").read_text() == text  # left as it was


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("9" * 5000, "'99999999999999999999... (5000 characters)' is not a Kayse ID"),
        ("9223372036854775808", "'9223372036854775808' is not a Kayse ID"),
        ("١٢٣", "'١٢٣' is not a Kayse ID"),
    ],
)
def test_state_set_refuses_an_impossible_id(value: str, said: str, tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    run = kayse(["state", "set", "seed.yaml", "maria", value], cwd=tmp_path,
                url="http://127.0.0.1:9/v1")  # fmt: skip
    assert run.code == 1
    assert said in run.stderr
    assert not (tmp_path / "seed.state.json").exists()


ANSWERS = {
    "nested 100,000 deep": (
        b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "the answer is JSON beyond this client's bounds (nested deeper than 64 levels: "
        "line 1 column 71 (char 70))",
    ),
    "an ID of 5,000 digits": (
        b'{"id": ' + b"9" * 5000 + b"}",
        "the answer is JSON beyond this client's bounds (a number of 5000 digits (at most 30):"
        " line 1 column 8 (char 7))",
    ),
    "NaN": (b'{"id": NaN}', "NaN and Infinity are not JSON numbers"),
    "a lone surrogate": (b'{"id": 5, "note": "\\ud800"}', None),
}


@pytest.mark.parametrize("case", sorted(ANSWERS))
def test_a_pathological_answer_to_a_create_leaves_it_unknown(case: str, tmp_path: Path) -> None:
    body, said = ANSWERS[case]
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    reply = Reply(201, body, {"Content-Type": "application/json"})
    with hostile_server([reply], max_seconds=60) as server:
        run = kayse(
            ["apply", "seed.yaml", "--target", "maria", "--output", "json"],
            cwd=tmp_path,
            url=server.url,
            key=KEY,
        )
    assert "unexpected" not in run.stderr
    maria = json.loads((tmp_path / "seed.state.json").read_text())["records"]["maria"]
    if said is None:  # a harmless oddity elsewhere in the answer: the ID stands
        assert run.code == 0 and maria["id"] == 5
    else:
        assert run.code == 1 and maria["status"] == "unknown"
        assert said in run.json()["stopped"]
