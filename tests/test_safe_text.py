"""Issue 11, finding 17: what a server or a file says reaches a terminal, a CI log and a
JUnit report without escapes, control characters or GitHub workflow commands; one rule
(``kayse_pipeline/safe_text.py``) for every output, messages and doctor's findings included.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from kayse_pipeline.safe_text import safe_line, safe_text
from testing.cli import SEED_MANIFEST, kayse
from testing.hostile_server import Reply, hostile_server

KEY = "hostile-test-key-3c9d"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text", "plain text"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("title\x1b]0;owned\x07 after", "title after"),
        ("a\x00b", "ab"),
        ("hidden\rshown", "hiddenshown"),
        ("bell\x07 del\x7f c1\x9b", "bell del c1"),
        ("rtl \u202eevil\u202c", "rtl evil"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("::error::pwned", ": :error::pwned"),
        ("ok\n  ::add-mask::x\n##[error]y", "ok\n  : :add-mask::x\n# #[error]y"),
        ("tab\tand\nlines", "tab\tand\nlines"),
        ("a ::error:: in the middle", "a ::error:: in the middle"),
    ],
)
def test_safe_text(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


@pytest.mark.parametrize(
    ("raw", "limit", "shown"),
    [
        ("plain", None, "plain"),
        ("red\x1b[31m text\x07", None, "red text"),
        ("line\nbreak\r\x00", None, "line break"),
        ("right\u202eto left", None, "right to left"),
        ("a  \t b\n\n  c ", None, "a b c"),
        ("  ::error::owned", None, ": :error::owned"),
        ("##[group]x", None, "# #[group]x"),
        ("lone \ud800", None, "lone \ufffd"),
        ("x" * 500, 160, "x" * 159 + "\u2026"),
        ("y" * 300, 300, "y" * 300),
        ("y" * 301, 300, "y" * 299 + "\u2026"),
        (404, None, "404"),
    ],
)
def test_safe_line(raw: object, limit: int | None, shown: str) -> None:
    assert safe_line(raw, limit) == shown


def test_every_control_and_format_character_is_removed() -> None:
    """What Unicode calls a control, a format character or a separator of lines: none
    is shown (tab and newline stay in text; the two joiners stay for emoji and scripts)."""
    kept = {"\t", "\n", "\u200c", "\u200d"}
    hidden = "".join(
        char
        for char in map(chr, range(sys.maxunicode + 1))
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") and char not in kept
    )
    assert safe_text(f"a{hidden}b") == "ab"
    assert safe_line(f"a{hidden}b") == "a b"
    assert safe_text("\U0001f469\u200d\U0001f4bb\tok\n") == "\U0001f469\u200d\U0001f4bb\tok\n"


HOSTILE = "\x1b[2J\x1b[31mKayse\x00 says\r\n::error::owned\u202e \ud800 ##[group]x"


def _clean(text: str) -> None:
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\ud800-\udfff]", text), text
    assert not re.search(r"^\s*(::|##\[)", text, re.MULTILINE), text


@pytest.mark.parametrize("output", ["text", "json"])
def test_server_text_in_apply_output_and_junit_is_made_safe(output: str, tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    refusal = Reply(400, {"error": "bad request", "message": HOSTILE})
    with hostile_server([refusal], max_seconds=60) as server:
        run = kayse(
            ["apply", "seed.yaml", "--junit", "out/report.xml", "--output", output],
            cwd=tmp_path,
            url=server.url,
            key=KEY,
        )
    assert run.code == 1
    assert "Kayse says" in run.stdout
    _clean(run.stdout)
    _clean(run.stderr)
    xml = (tmp_path / "out" / "report.xml").read_text(encoding="utf-8")
    _clean(xml)
    failure = ET.fromstring(xml).find("testcase/failure")  # well-formed whatever it holds
    assert failure is not None and "Kayse says" in failure.get("message", "")


def test_server_text_in_an_error_is_made_safe(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    refusal = Reply(401, {"error": "unauthorized", "message": HOSTILE})
    with hostile_server([refusal], max_seconds=60) as server:
        run = kayse(["--debug", "doctor", "seed.yaml"], cwd=tmp_path, url=server.url, key=KEY)
        refresh = kayse(["refresh", "seed.yaml"], cwd=tmp_path, url=server.url, key=KEY)
    for text in (run.stdout, run.stderr, refresh.stdout, refresh.stderr):
        _clean(text)


def test_file_text_in_messages_is_made_safe(tmp_path: Path) -> None:
    name = "::error::owned.yaml"
    (tmp_path / name).write_text(
        'version: 1\ncontacts:\n  maria:\n    "\\e[31mfirst_name\\r": x\n    last_name: y\n'
    )
    run = kayse(["validate", name], cwd=tmp_path)
    assert run.code == 1
    assert "owned.yaml:4:5" in run.stderr
    _clean(run.stderr)
