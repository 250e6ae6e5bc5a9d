"""Safe YAML reading with positions: duplicates, aliases, tags, syntax errors."""

from __future__ import annotations

import time

import pytest

from kayse_pipeline.errors import Diagnostic, ManifestError
from kayse_pipeline.manifest.yaml_io import gc_paused, load_yaml


def test_keys_are_text() -> None:
    document = load_yaml("1: a\ntrue: b\n2026-01-01: c\n", "f.yaml")
    assert document.data == {"1": "a", "true": "b", "2026-01-01": "c"}


def test_positions_of_values_and_keys() -> None:
    text = "version: 1\ncontacts:\n  maria:\n    first_name: Maria\n    tags: [a, b]\n"
    document = load_yaml(text, "f.yaml")
    assert document.position(()) == (1, 1)
    assert document.position(("contacts", "maria")) == (4, 5)
    assert document.position(("contacts", "maria"), key=True) == (3, 3)
    assert document.position(("contacts", "maria", "first_name")) == (4, 17)
    assert document.position(("contacts", "maria", "tags", 1)) == (5, 15)
    # A path that does not exist falls back to its closest existing parent.
    assert document.position(("contacts", "maria", "last_name")) == (4, 5)
    assert document.position(("contacts", "maria", "tags", 9)) == (5, 11)


def test_duplicate_keys_are_problems_at_the_second_one() -> None:
    document = load_yaml("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n", "f.yaml")
    assert document.problems == (
        Diagnostic("f.yaml", 4, 3, "duplicate key 'c' (first at line 3)"),
        Diagnostic("f.yaml", 5, 1, "duplicate key 'a' (first at line 1)"),
    )
    assert document.data == {"a": 1, "b": {"c": 1}}


def test_complex_keys_are_problems() -> None:
    document = load_yaml("? [a, b]\n: 1\n", "f.yaml")
    assert document.problems == (Diagnostic("f.yaml", 1, 3, "a mapping key must be plain text"),)


def test_every_alias_is_a_problem_and_never_expanded() -> None:
    text = "a: &x [1, 2]\nb: *x\nc: [*x, *x]\n"
    document = load_yaml(text, "f.yaml")
    hint = "write the value out, or share it through 'defaults'"
    assert document.problems == (
        Diagnostic("f.yaml", 2, 4, f"YAML aliases are not supported (*x): {hint}"),
        Diagnostic("f.yaml", 3, 5, f"YAML aliases are not supported (*x): {hint}"),
        Diagnostic("f.yaml", 3, 9, f"YAML aliases are not supported (*x): {hint}"),
    )
    assert document.data == {"a": [1, 2], "b": None, "c": [None, None]}


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    start = time.perf_counter()
    document = load_yaml("\n".join(lines) + "\n", "f.yaml")
    assert time.perf_counter() - start < 5
    assert len(document.problems) == 81


def test_a_star_inside_a_string_is_not_an_alias() -> None:
    document = load_yaml("note: '5* service'\n", "f.yaml")
    assert document.problems == ()
    assert document.data == {"note": "5* service"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!python/name:os.system x\n", "unsupported YAML tag '!!python/name:os.system'"),
        ("a: !!binary aGk=\n", "unsupported YAML tag '!!binary'"),
        ("a: !!set {x}\n", "unsupported YAML tag '!!set'"),
        ("a: !custom x\n", "unsupported YAML tag '!custom'"),
        ("a: !!int twelve\n", "'twelve' is not a valid int"),
    ],
)
def test_unsafe_or_unknown_tags_are_problems(text: str, message: str) -> None:
    document = load_yaml(text, "f.yaml")
    assert document.problems == (Diagnostic("f.yaml", 1, 4, message),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: [1\n",
            "f.yaml:2:1: invalid YAML: while parsing a flow sequence at line 1,"
            " expected ',' or ']', but got '<stream end>'",
        ),
        (
            "a:\n\tb: 1\n",
            "f.yaml:2:1: invalid YAML: while scanning for the next token,"
            " found character '\\t' that cannot start any token",
        ),
        (
            "a: 'open\n",
            "f.yaml:2:1: invalid YAML: while scanning a quoted scalar at line 1,"
            " found unexpected end of stream",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "f.yaml:2:1: invalid YAML: expected a single document in the stream at line 1,"
            " but found another document",
        ),
        ("a: \x07\n", "f.yaml:1:4: invalid YAML: character '\\x07' is not allowed"),
    ],
)
def test_syntax_errors_become_one_diagnostic(text: str, expected: str) -> None:
    with pytest.raises(ManifestError) as caught:
        load_yaml(text, "f.yaml")
    assert [str(d) for d in caught.value.diagnostics] == [expected]
    assert caught.value.__cause__ is None  # pyyaml's exception does not leak


def test_byte_order_mark_and_empty_document() -> None:
    assert load_yaml("\ufeffa: 1\n", "f.yaml").data == {"a": 1}
    empty = load_yaml("# nothing\n", "f.yaml")
    assert empty.data is None
    assert empty.position(("a",)) == (1, 1)


def test_gc_paused_restores_the_collector() -> None:
    import gc

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
