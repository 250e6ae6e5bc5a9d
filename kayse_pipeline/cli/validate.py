"""``kayse-pipeline validate MANIFEST...``: offline checks, every problem on its own line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kayse_pipeline.cli.output import colour, echo_json, print_warnings, say
from kayse_pipeline.cli.output.notes import notes_json, notes_summary, notes_text
from kayse_pipeline.cli.variables import given, var_options
from kayse_pipeline.errors import Diagnostic, ManifestError
from kayse_pipeline.manifest.load import read_manifest
from kayse_pipeline.manifest.variables import Given
from kayse_pipeline.model import KIND_ORDER, Manifest


@click.command()
@click.argument("manifests", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one document on stdout listing every problem and warning.",
)
@var_options
def validate(manifests: tuple[str, ...], output: str) -> None:
    """Check manifests offline: print each problem as FILE:LINE:COL: message, exit 1 if any."""
    problems: list[Diagnostic] = []
    warnings: list[Diagnostic] = []
    results: list[dict[str, Any]] = []
    try:
        values: Given | None = given()
    except ManifestError as exc:  # a var-file's own problems
        problems.extend(exc.diagnostics)
        values = None
    used: set[str] = set()
    for name in manifests:
        if values is None:
            break
        try:
            loaded = read_manifest(Path(name), given=values.values, display_name=name)
        except ManifestError as exc:
            problems.extend(exc.diagnostics)
            warnings.extend(exc.warnings)
            results.append({"file": name, "valid": False})
            continue
        warnings.extend(loaded.warnings)
        used |= loaded.variables
        notes = loaded.manifest.notes
        results.append(
            {"file": name, "valid": True, "records": counts(loaded.manifest)} | notes_json(notes)
        )
        if output == "text":
            leads = notes_summary(notes, prefix="")
            say(f"{name}: valid ({summary(loaded.manifest)})" + (f"; {leads}" if leads else ""))
            if skipped := notes_text(notes):
                say(skipped, err=True)
    if values is not None and not problems:  # an invalid manifest may use what it was given
        warnings.extend(values.unused(used, list(manifests)))
    if output == "json":
        from kayse_pipeline.cli.output.json_doc import diagnostic_json  # loads the endpoint table

        echo_json(
            {
                "valid": not problems,
                "manifests": results,
                "errors": [diagnostic_json(d) for d in problems],
                "warnings": [diagnostic_json(d) for d in warnings],
            }
        )
    else:
        print_warnings(warnings)
        for problem in problems:
            say(str(problem), err=True, style=colour.error)
    if problems:
        # Not ctx.exit(1): click's non-standalone main() returns that code instead of exiting.
        raise SystemExit(1)


def counts(manifest: Manifest) -> dict[str, int]:
    return {kind: manifest.count(kind) for kind in KIND_ORDER}  # rows: without building them


def summary(manifest: Manifest) -> str:
    """``1 contact, 2 cases, 1 list, 0 campaigns``."""
    return ", ".join(f"{n} {kind}{'' if n == 1 else 's'}" for kind, n in counts(manifest).items())
