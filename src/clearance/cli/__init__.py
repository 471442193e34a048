"""The ``clearance`` command line (Typer + rich). Each command group lives in its own module."""

from __future__ import annotations

import typer

from clearance.cli import audit_cmds, batch_cmds, demo_cmds, registry_cmds, screen_cmds, service_cmds

app = typer.Typer(
    name="clearance",
    help="Rights-clearance guard: registry of protected works, screening, scrub, sweep and audit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(registry_cmds.app, name="registry")
app.add_typer(screen_cmds.app, name="screen")
app.add_typer(audit_cmds.app, name="audit")
demo_cmds.register(app)
batch_cmds.register(app)
service_cmds.register(app)


def main() -> None:
    app()
