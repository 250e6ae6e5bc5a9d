"""The command line: one group, one error wrapper, one module per command, loaded when used.

``kayse-pipeline --help`` imports no command: the group lists each one with the summary
written in ``COMMANDS`` (a test checks it against the command's own docstring).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NamedTuple

import click

from kayse_pipeline import __version__
from kayse_pipeline.cli.output import colour, print_warnings, say
from kayse_pipeline.errors import KayseError, ManifestError


class Entry(NamedTuple):
    """Where a command lives, and the first paragraph of its help."""

    module: str
    summary: str


COMMANDS: dict[str, Entry] = {
    "apply": Entry(
        "kayse_pipeline.cli.apply", "Create and update what MANIFEST describes; never prompts."
    ),
    "destroy": Entry(
        "kayse_pipeline.cli.destroy",
        "Delete the contacts and cases of MANIFEST's state; report lists and campaigns left "
        "behind.",
    ),
    "doctor": Entry(
        "kayse_pipeline.cli.doctor",
        "Check the account (and MANIFEST, if given) with at most 5 reads, before a first apply.",
    ),
    "init": Entry(
        "kayse_pipeline.cli.init",
        "Write a recipe repository in DIR (default: here): recipe, CI workflow, hooks, .gitignore.",
    ),
    "import": Entry(
        "kayse_pipeline.cli.import_",
        "Save Kayse record ID under SYMBOL, once Kayse shows it, so that apply updates it.",
    ),
    "plan": Entry(
        "kayse_pipeline.cli.plan",
        "Show what `apply` would send for MANIFEST, in order, and how many requests.",
    ),
    "refresh": Entry(
        "kayse_pipeline.cli.refresh",
        "Find records of MANIFEST deleted or changed in Kayse, so that apply puts them back.",
    ),
    "sandbox": Entry(
        "kayse_pipeline.cli.sandbox",
        "The built-in Kayse emulator: serve it over HTTP, show or empty its records.",
    ),
    "state": Entry(
        "kayse_pipeline.cli.state", "Read or correct the saved IDs of a manifest (offline)."
    ),
    "validate": Entry(
        "kayse_pipeline.cli.validate",
        "Check manifests offline: print each problem as FILE:LINE:COL: message, exit 1 if any.",
    ),
}


class KayseGroup(click.Group):
    """Loads a command's module when it runs; turns every error into a message and an exit code.

    The core never prints or exits.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        command = getattr(importlib.import_module(entry.module), entry.module.rsplit(".")[-1])
        assert isinstance(command, click.Command)
        return accept_debug(command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Every command with its summary, as click shows them, without importing any."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        # A bare command of the same help shortens it exactly as click would.
        rows = [
            (name, click.Command(name, help=COMMANDS[name].summary).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ManifestError as exc:
            # FILE:LINE:COL lines that editors and CI annotations parse.
            print_warnings(exc.warnings)
            say(str(exc), err=True, style=colour.error)
            ctx.exit(1)
        except KayseError as exc:
            say(f"error: {exc}", err=True, style=colour.error)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted: everything Kayse answered so far is saved", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                import traceback

                traceback.print_exc()
            else:
                click.echo(
                    f"unexpected error ({type(exc).__name__}); run with --debug for details",
                    err=True,
                )
            ctx.exit(1)


@click.group(cls=KayseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kayse-pipeline")
@click.option("--debug", is_flag=True, help="Show tracebacks and a redacted trace of requests.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Put leads into Kayse from a declarative manifest: contacts, cases, lists, campaigns."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _debug_on(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(dict)["debug"] = True


def accept_debug(command: click.Command) -> click.Command:
    """``command`` and its subcommands with ``--debug`` too: users type ``apply --debug``."""
    if not any(p.name == "debug" for p in command.params):
        command.params.append(
            click.Option(
                ["--debug"],
                is_flag=True,
                expose_value=False,
                is_eager=True,
                callback=_debug_on,
                help="Show tracebacks and a redacted trace of requests.",
            )
        )
    for sub in getattr(command, "commands", {}).values():
        accept_debug(sub)
    return command


def main() -> None:
    """Console entry point. Usage errors exit 1 like every other error (2 is plan's 'changes')."""
    try:
        code = cli.main(prog_name="kayse-pipeline", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
