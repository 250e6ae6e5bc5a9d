"""JUnit XML for CI: one testcase per record of an apply."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from kayse_pipeline.run.executor import ApplyResult
from kayse_pipeline.safe_text import safe_text


def junit_xml(result: ApplyResult) -> bytes:
    """One testcase per record; skipped dependents are skipped, unknown outcomes are errors."""
    suite = ET.Element("testsuite", name="kayse-pipeline apply")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for o in result.outcomes:
        case = ET.SubElement(
            suite, "testcase", classname=f"kayse.{o.kind}", name=safe_text(o.symbol)
        )
        counts["tests"] += 1
        if o.action == "failed":
            ET.SubElement(case, "failure", message=safe_text(o.message or "failed"))
            counts["failures"] += 1
        elif o.action == "unknown":
            ET.SubElement(case, "error", message=safe_text(o.message or "outcome unknown"))
            counts["errors"] += 1
        elif o.action == "skipped":
            ET.SubElement(case, "skipped", message=safe_text(o.message or "skipped"))
            counts["skipped"] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    text: bytes = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    return text


def write_junit(path: Path, result: ApplyResult) -> str | None:
    """Write the report; a failure is returned, to be reported after the run's own output."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(junit_xml(result))
    except OSError as exc:
        return f"cannot write the JUnit report {path}: {exc.strerror}"
    return None
