"""`kayse-pipeline doctor`: check the target account against our assumptions, reads only."""

from __future__ import annotations

from pathlib import Path

import click

from kayse_pipeline.cli.options import (
    Target,
    batch_size_option,
    debug_log,
    doctor_options,
    options,
)
from kayse_pipeline.cli.output import show
from kayse_pipeline.cli.output.doctor_markdown import doctor_markdown
from kayse_pipeline.cli.output.json_doc import doctor_json
from kayse_pipeline.cli.output.text import doctor_text
from kayse_pipeline.run.doctor import doctor as run_doctor


@click.command()
@doctor_options
@batch_size_option
@click.pass_context
def doctor(
    ctx: click.Context,
    manifest: Path | None,
    state: Path | None,
    api_url: str | None,
    sandbox: bool,
    output: str,
    batch_size: int,
) -> None:
    """Check the account (and MANIFEST, if given) with at most 5 reads, before a first apply."""
    opts = options(Target(manifest or Path("."), state, api_url, sandbox), batch_size=batch_size)
    report = run_doctor(opts, with_manifest=manifest is not None, log=debug_log(ctx))
    show(
        output,
        as_json=lambda: doctor_json(report),
        as_text=lambda: doctor_text(report),
        as_markdown=lambda: doctor_markdown(report),
    )
    if not report.ok:
        ctx.exit(1)
