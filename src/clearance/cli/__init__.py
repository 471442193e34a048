"""The ``clearance`` command line (Typer + rich). Each command group lives in its own module."""

from __future__ import annotations

import os
import sys

import typer

from clearance.cli import audit_cmds, batch_cmds, demo_cmds, registry_cmds, screen_cmds, service_cmds
from clearance.cli.common import DatabaseOption, HomeOption, report
from clearance.db.engine import DatabaseUnavailable
from clearance.settings import SettingError, check_environment

app = typer.Typer(
    name="clearance",
    help="Rights-clearance guard: registry of protected works, screening, scrub, sweep and audit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def before_any_command(home: HomeOption = None, database_url: DatabaseOption = None) -> None:
    """``--home`` and ``--database-url`` may come before the command too (``clearance --home DIR
    screen prompt ...``), as CONTRACT.md allows them "on any command": they stand for
    ``$CLEARANCE_HOME`` and ``$CLEARANCE_DATABASE_URL`` for this run (and the worker processes it
    starts), so the same option given after the command still wins. Every setting in the
    environment is checked here, so a malformed one stops any command (exit 2), not only the one
    that reads it (asking a command for its ``--help`` needs no settings)."""
    if not {"--help", "-h"} & set(sys.argv):
        check_environment()
    if home is not None:
        os.environ["CLEARANCE_HOME"] = home
    if database_url is not None:
        os.environ["CLEARANCE_DATABASE_URL"] = database_url


app.add_typer(registry_cmds.app, name="registry")
app.add_typer(screen_cmds.app, name="screen")
app.add_typer(audit_cmds.app, name="audit")
demo_cmds.register(app)
batch_cmds.register(app)
service_cmds.register(app)


def main() -> None:
    """The console script. A malformed setting in the environment or a database that cannot be
    opened is a setup error (exit 2), wherever it is first met: at a module's import (``clearance
    serve``) or in a command."""
    try:
        app()
    except (SettingError, DatabaseUnavailable) as exc:
        report(str(exc))
        raise SystemExit(2) from None
