"""``kayse-pipeline validate MANIFEST...``: offline checks, every problem on its own line."""

from __future__ import annotations

from pathlib import Path

import click

from kayse_pipeline.errors import Diagnostic, ManifestError
from kayse_pipeline.manifest.load import load_manifest
from kayse_pipeline.model import KIND_ORDER, Manifest


@click.command()
@click.argument("manifests", nargs=-1, required=True, type=click.Path(path_type=str))
def validate(manifests: tuple[str, ...]) -> None:
    """Check manifests offline: print each problem as FILE:LINE:COL: message, exit 1 if any."""
    problems: list[Diagnostic] = []
    for name in manifests:
        try:
            manifest = load_manifest(Path(name), display_name=name)
        except ManifestError as exc:
            problems.extend(exc.diagnostics)
            continue
        click.echo(f"{name}: valid ({summary(manifest)})")
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        # Not ctx.exit(1): click's non-standalone main() returns that code instead of exiting.
        raise SystemExit(1)


def summary(manifest: Manifest) -> str:
    """``1 contact, 2 cases, 1 list, 0 campaigns``."""
    counts = {kind: manifest.count(kind) for kind in KIND_ORDER}  # rows: without building them
    return ", ".join(f"{n} {kind}{'' if n == 1 else 's'}" for kind, n in counts.items())
