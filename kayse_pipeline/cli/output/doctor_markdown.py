"""``doctor --output markdown``: GitHub-flavoured Markdown for a CI job summary or a comment."""

from __future__ import annotations

from kayse_pipeline.run.doctor import DoctorReport

MARK = {"ok": "✅ ok", "warning": "⚠️ warning", "failed": "❌ failed"}


def cell(text: str) -> str:
    """Text made safe inside a table cell: no pipe, no line break, no HTML or Markdown markup."""
    for char, escaped in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, escaped)
    for char in "`*_[]":
        text = text.replace(char, "\\" + char)
    return " ".join(text.split())


def doctor_markdown(report: DoctorReport) -> str:
    """A table of checks (verdict, what was seen first), then each check's details."""
    about = f" with `{cell(str(report.manifest))}`" if report.manifest else ""
    lines = [
        f"### kayse-pipeline doctor: {cell(report.target)}{about}",
        "",
        "| check | verdict | what to do |",
        "|---|---|---|",
    ]
    for check in report.checks:
        todo = "; ".join(check.todo) or "—"
        lines.append(f"| {cell(check.title)} | {MARK[check.verdict]} | {cell(todo)} |")
    failed = sum(1 for c in report.checks if c.verdict == "failed")
    methods = ", ".join(f"{n} {m}" for m, n in sorted(report.methods.items())) or "none"
    lines += ["", f"{report.requests} request(s) sent ({methods}); {failed} check(s) failed.", ""]
    lines += ["<details><summary>What doctor saw</summary>", ""]
    for check in report.checks:
        lines.append(f"- **{cell(check.name)}** ({check.verdict})")
        lines += [f"  - {cell(saw)}" for saw in check.saw]
    lines += ["", "</details>"]
    return "\n".join(lines)
