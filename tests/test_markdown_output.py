"""``--output markdown``: the seed recipe against a reviewed golden file, the size bound on
a 10,000-lead plan, escaping of untrusted text, and no personal value or key anywhere."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest

from kayse_pipeline.cli.output.doctor_markdown import doctor_markdown
from kayse_pipeline.cli.output.markdown_blocks import (
    COMMENT_LIMIT,
    Section,
    assemble,
    bullet_list,
    code,
    code_block,
    escape,
)
from kayse_pipeline.run.doctor import DoctorReport
from kayse_pipeline.run.doctor_checks import Check
from testing.cli import kayse
from testing.imports import write_import
from testing.sandbox import running_sandbox

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "fixtures" / "quickstart.plan.md"


def sandbox_run(args: list[str], cwd: Path) -> str:
    done = kayse(args, cwd=cwd, key=None, env={"KAYSE_SANDBOX_DIR": str(cwd / "sb")})
    assert done.code == 0, done.stderr
    return done.stdout


def test_seed_recipe_plan_matches_the_reviewed_golden_file(tmp_path: Path) -> None:
    shutil.copy(ROOT / "manifests" / "quickstart.yaml", tmp_path / "quickstart.yaml")
    out = sandbox_run(["plan", "quickstart.yaml", "--sandbox", "--output", "markdown"], tmp_path)
    assert out == GOLDEN.read_text(encoding="utf-8")


def test_seed_recipe_apply_then_plan_say_what_happened(tmp_path: Path) -> None:
    shutil.copy(ROOT / "manifests" / "quickstart.yaml", tmp_path / "quickstart.yaml")
    args = ["quickstart.yaml", "--sandbox", "--output", "markdown"]
    applied = sandbox_run(["apply", *args], tmp_path)
    assert "| **total** | **4** | **0** | **0** | **0** | **0** | **0** |" in applied
    assert "**6 requests sent**; every record is in place." in applied
    assert '  s0["1. contacts<br/>1 created"]' in applied
    again = sandbox_run(["plan", *args], tmp_path)
    assert "**0 requests** (fits in one hour's budget of 500 requests): nothing to do" in again
    assert "<details>" not in again  # no record to change


def test_a_10000_lead_plan_stays_under_the_comment_limit_with_whole_tables(tmp_path: Path) -> None:
    write_import(tmp_path, 10_000)
    out = sandbox_run(["plan", "leads.yaml", "--sandbox", "--output", "markdown"], tmp_path)
    assert len(out) < COMMENT_LIMIT
    # Every table is whole: a heading row, an alignment row, rows of as many cells.
    for block in re.findall(r"(?:^\|.*\|\n)+", out, flags=re.M):
        widths = {len(re.split(r"(?<!\\)\|", line)) for line in block.splitlines()}
        assert len(widths) == 1, block
    assert "| **total** | **20002** | **0** | **0** | **0** | **0** |" in out
    assert out.count("<details>") == out.count("</details>") == 1
    assert re.search(r"- … and \d+ more: see `--output json`\n\n</details>\n$", out)


def test_no_personal_value_and_no_key_in_any_report(tmp_path: Path) -> None:
    write_import(tmp_path, 30)
    key = "md-secret-key-0123456789"
    with running_sandbox(tmp_path, api_key=key) as server:
        outputs = []
        for args in (
            ["plan", "leads.yaml"],
            ["apply", "leads.yaml", "--batch-size", "7"],
            ["refresh", "leads.yaml"],
            ["plan", "leads.yaml", "--refresh"],
            ["plan", "leads.yaml", "--destroy"],
            ["destroy", "leads.yaml", "--yes"],
        ):
            done = kayse([*args, "--output", "markdown"], cwd=tmp_path, url=server.url, key=key)
            assert done.code == 0, done.stderr
            outputs.append(done.stdout + done.stderr)
    text = "\n".join(outputs)
    assert key not in text
    rows = (tmp_path / "leads.csv").read_text().splitlines()[1:]
    personal = {value for row in rows for value in row.split(",")[1:6]}  # names, email, phone
    assert {value for value in personal if value in text} == set()
    assert "kayse-pipeline destroy" in text and "deleted" in text


def test_skipped_rows_are_counted_and_placed_never_shown(tmp_path: Path) -> None:
    manifest = write_import(tmp_path, 3)
    text = manifest.read_text().replace(
        "file: leads.csv\n", "file: leads.csv\n    on_bad_row: skip\n"
    )
    manifest.write_text(text)
    personal = [
        "Zelda",
        "Quixote",
        "zelda.quixote@example.com",
        "555-CALL-ZQ",
        "Waco",
        "1979-02-28",
    ]
    with (tmp_path / "leads.csv").open("a", encoding="utf-8") as csv:
        csv.write(f"IN-BAD001,{','.join(personal[:5])},TX,{personal[5]},Boat fire,2026-06-01\n")
    out = sandbox_run(["plan", "leads.yaml", "--sandbox", "--output", "markdown"], tmp_path)
    assert "Leads\\: 1 bad row\\(s\\) skipped \\(on\\_bad\\_row\\: skip\\)" in out
    assert (
        "<details>\n<summary>Bad rows skipped (1)</summary>\n\n"
        "- <code>leads.csv:5</code>: contacts\\.lead\\_in\\_bad001\\.mobile "
        "\\(column 'phone'\\)\\: not a phone number\\: it has letters"
    ) in out
    assert out.count("<details>") == out.count("</details>") == 2
    assert {value for value in personal if value.lower() in out.lower()} == set()


def test_drifted_fields_are_named_never_shown(tmp_path: Path) -> None:
    write_import(tmp_path, 3)
    with running_sandbox(tmp_path) as server:
        assert kayse(["apply", "leads.yaml"], cwd=tmp_path, url=server.url).code == 0
        contact = server.dump()["clients"][0]
        body = {k: contact[k] for k in ("first_name", "last_name", "external_source_id")}
        body |= {"email": "changed.by.hand@example.com", "external_source": "import"}
        body["case_ids"] = contact["case_ids"]
        httpx.put(
            f"{server.url}/clients/{contact['id']}",
            json=body,
            headers={"X-API-KEY": server.api_key},
        ).raise_for_status()
        done = kayse(
            ["plan", "leads.yaml", "--refresh", "--output", "markdown"],
            cwd=tmp_path,
            url=server.url,
        )
    assert done.code == 0, done.stderr
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("- contact <code>lead_in_0")]
    assert line.startswith("- contact <code>lead_in_000000</code> (id 1): changed in Kayse (")
    assert "<code>email</code>" in line
    assert "changed.by.hand" not in done.stdout


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"),
        ("@org/team please", "&#64;org/team please"),
        ("a | b\nc", "a \\| b c"),
        ("**bold** [x](http://e)", "\\*\\*bold\\*\\* \\[x\\]\\(http\\://e\\)"),
        ("bidi\u202etxt\x1b[31m", "bidi txt"),
    ],
)
def test_untrusted_text_is_escaped(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


def test_code_spans_and_blocks_cannot_be_broken_out_of() -> None:
    assert code("a`b|<i>") == "<code>a`b&#124;&lt;i&gt;</code>"
    block = code_block(["``` end", "ok"])
    assert block[0] == "````" and block[-1] == "````"


def test_assemble_summarises_whole_sections_never_cuts_them() -> None:
    big = Section.of([f"| {n} |" for n in range(5000)], ["| 5000 rows |"], priority=1)
    keep = Section.of(["# title"], priority=9)
    text = assemble([keep, big], limit=1000)
    assert text == "# title\n\n| 5000 rows |\n"
    items = bullet_list([f"item {n}" for n in range(100)], budget=100, more="and {n} more")
    assert items[-1] == "- and 89 more" and len("\n".join(items[:-1])) <= 100


def test_doctor_markdown_stays_under_the_bound_with_the_table_whole() -> None:
    """A recipe naming thousands of existing lists: what doctor saw is summarised first."""
    saw = tuple(
        f"list {n} (named by campaigns.c{n}): the lists could not be read" for n in range(5_000)
    )
    checks = (
        Check("url", "the URL answers like Kayse", "ok", ("GET /metadata/objects answered 200",)),
        Check("existing", "records the manifest names in Kayse", "warning", saw),
    )
    text = doctor_markdown(DoctorReport("https://x.invalid/v1", None, checks, 2, {"GET": 2}))
    assert len(text) <= COMMENT_LIMIT
    assert "| records the manifest names in Kayse | ⚠️ warning | — |" in text
    assert "5001 findings, too long for this report: see `doctor --output text`." in text
    small = doctor_markdown(DoctorReport("https://x.invalid/v1", None, checks[:1], 2, {"GET": 2}))
    assert "<summary>What doctor saw</summary>" in small
