"""The command line: one group, one error wrapper, one module per command under ``commands/``."""

from __future__ import annotations

import sys
import traceback
from typing import Any

import click

from kayse_pipeline import __version__
from kayse_pipeline.cli.options import print_warnings
from kayse_pipeline.cli.output import colour
from kayse_pipeline.errors import KayseError, ManifestError


class KayseGroup(click.Group):
    """Turns every error into a message and an exit code; the core never prints or exits."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ManifestError as exc:
            # FILE:LINE:COL lines that editors and CI annotations parse.
            print_warnings(exc.warnings)
            click.echo(colour.error(str(exc)), err=True)
            ctx.exit(1)
        except KayseError as exc:
            click.echo(colour.error(f"error: {exc}"), err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted: everything Kayse answered so far is saved", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
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


# Registered at the end: each command module imports the core, which never imports the CLI.
from kayse_pipeline.cli.apply import apply  # noqa: E402
from kayse_pipeline.cli.destroy import destroy  # noqa: E402
from kayse_pipeline.cli.doctor import doctor  # noqa: E402
from kayse_pipeline.cli.import_ import import_  # noqa: E402
from kayse_pipeline.cli.plan import plan  # noqa: E402
from kayse_pipeline.cli.refresh import refresh  # noqa: E402
from kayse_pipeline.cli.sandbox import sandbox  # noqa: E402
from kayse_pipeline.cli.state import state  # noqa: E402
from kayse_pipeline.cli.validate import validate  # noqa: E402

cli.add_command(plan)
cli.add_command(apply)
cli.add_command(state)
cli.add_command(validate)
cli.add_command(sandbox)
cli.add_command(import_)
cli.add_command(refresh)
cli.add_command(destroy)
cli.add_command(doctor)
