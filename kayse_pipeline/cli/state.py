"""`kayse-pipeline state show|set|forget|fold`: read and correct the state, offline."""

from __future__ import annotations

from pathlib import Path

import click

from kayse_pipeline.cli.options import Target, id_pairs, options, target_options
from kayse_pipeline.cli.output import say
from kayse_pipeline.cli.output import show as show_output
from kayse_pipeline.cli.output.json_doc import state_json
from kayse_pipeline.cli.output.text import forgotten_text, set_text, state_text
from kayse_pipeline.run import apply as runner


@click.group()
def state() -> None:
    """Read or correct the saved IDs of a manifest (offline)."""


@state.command("show")
@target_options
def show(target: Target, output: str) -> None:
    """Symbol, kind and ID of every saved record."""
    rows = runner.state_show(options(target))
    show_output(output, as_json=lambda: state_json(rows), as_text=lambda: state_text(rows))


@state.command("set")
@target_options
@click.argument("pairs", nargs=-1, required=True)
def set_(
    target: Target,
    output: str,
    pairs: tuple[str, ...],
) -> None:
    """Record the ID a record has in Kayse: SYMBOL ID [SYMBOL ID ...]."""
    parsed = id_pairs(pairs)
    runner.state_set(options(target), parsed)
    say(set_text(parsed))


@state.command("forget")
@target_options
@click.argument("symbols", nargs=-1)
@click.option(
    "--unknown", "all_unknown", is_flag=True, help="Forget every record whose outcome is unknown."
)
def forget(
    target: Target,
    output: str,
    symbols: tuple[str, ...],
    all_unknown: bool,
) -> None:
    """Drop SYMBOLS from the state so that the next apply creates them again."""
    forgotten = runner.state_forget(options(target), list(symbols), all_unknown=all_unknown)
    say(forgotten_text(forgotten))


@state.command("fold")
@click.argument("states", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
def fold(states: tuple[Path, ...]) -> None:
    """Fold the journal a killed run left beside each STATE file into it (offline).

    Takes state files, not manifests, so that CI can save every changed state as it is.
    """
    for path in states:
        if runner.state_fold(path):
            say(f"{path}: folded the journal a stopped run left")
        else:
            say(f"{path}: no journal to fold")
