"""``doctor --output markdown``: GitHub-flavoured Markdown for a CI job summary or a comment.

Built from ``markdown_blocks`` as the plan's report is: what the server or the manifest
said is escaped, and the report stays under the comment bound (what doctor saw is
summarised first).
"""

from __future__ import annotations

from kayse_pipeline.cli.output.markdown_blocks import (
    Section,
    assemble,
    code,
    details,
    escape,
    table,
)
from kayse_pipeline.run.doctor import DoctorReport

MARK = {"ok": "✅ ok", "warning": "⚠️ warning", "failed": "❌ failed"}


def doctor_markdown(report: DoctorReport) -> str:
    """A table of checks (verdict, what to do), then what each check saw, collapsed."""
    about = f" with {code(str(report.manifest))}" if report.manifest else ""
    rows = [
        (escape(c.title), MARK[c.verdict], escape("; ".join(c.todo)) or "—") for c in report.checks
    ]
    failed = sum(1 for c in report.checks if c.verdict == "failed")
    methods = ", ".join(f"{n} {m}" for m, n in sorted(report.methods.items())) or "none"
    head = [
        f"### kayse-pipeline doctor: {code(report.target)}{about}",
        "",
        *table(["check", "verdict", "what to do"], rows),
        "",
        f"{report.requests} request(s) sent ({methods}); {failed} check(s) failed.",
    ]
    saw = [
        line
        for c in report.checks
        for line in (f"- **{escape(c.name)}** ({c.verdict})", *(f"  - {escape(s)}" for s in c.saw))
    ]
    findings = sum(len(c.saw) for c in report.checks)
    too_long = f"{findings} findings, too long for this report: see `doctor --output text`."
    return assemble(
        [
            Section.of(head, priority=9),
            Section.of(details("What doctor saw", saw), [too_long], priority=1),
        ]
    )
