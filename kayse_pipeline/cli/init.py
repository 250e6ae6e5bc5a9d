"""``kayse-pipeline init [DIR] [--from-csv FILE]``: write a recipe repository, never overwriting."""

from __future__ import annotations

from pathlib import Path

import click

from kayse_pipeline.cli.output.text import init_text
from kayse_pipeline.scaffold.recipe import MANIFEST, scaffold, write


@click.command()
@click.argument("folder", metavar="[DIR]", default=".", type=click.Path(path_type=Path))
@click.option(
    "--from-csv",
    "csv_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Make the recipe read this CSV's rows, its columns mapped by name.",
)
def init(folder: Path, csv_path: Path | None) -> None:
    """Write a recipe repository in DIR (default: here): recipe, CI workflow, hooks, .gitignore."""
    if folder.exists() and not folder.is_dir():
        raise click.UsageError(f"{folder} is not a folder")
    made = scaffold(folder, csv_path)
    written = write(folder, made.files)
    click.echo(init_text(folder, written, made.columns, MANIFEST))
