"""Options and helpers every command shares: the home, the database URL, error exits."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from clearance.home import Home, HomeError
from clearance.safe_text import terminal_safe

if TYPE_CHECKING:
    from clearance.registry.store import Registry

HomeOption = Annotated[
    str | None, typer.Option("--home", help="Home directory (default: $CLEARANCE_HOME or ./.clearance).")
]
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL, e.g. postgresql://... (default: SQLite in the home)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

console = Console(width=None if Console().is_terminal else 160)
errors = Console(stderr=True, soft_wrap=True)


def open_home(home: str | None, database_url: str | None) -> Home:
    try:
        return Home.resolve(home, database_url)
    except HomeError as exc:
        fail(str(exc))


def warn_if_empty(registry: Registry, home: Home) -> None:
    """Screening against an empty registry allows everything, and the usual cause is a home that
    is not the intended one (a missing or mistyped ``--home`` opens a new, empty one): say so, once,
    here (the library's ``EmptyRegistryWarning`` says it too, to programs that call it)."""
    from clearance.screening import EmptyRegistryWarning

    warnings.filterwarnings("ignore", category=EmptyRegistryWarning)
    if registry.is_empty():
        warn(f"the registry in {home.root} has no works, so every verdict is allow (import works with "
             "`clearance registry import`, or pass the right --home)")


def shown(text: str) -> str:
    """Text from a prompt, a file name or the registry as a table cell: never read as rich markup
    ("[/]" in a file name raised ``MarkupError``), never as terminal control codes."""
    return escape(terminal_safe(text))


def warn(message: str) -> None:
    """A warning on stderr, its text as it is (see ``report``)."""
    errors.print(f"[bold yellow]warning:[/] {escape(message)}", highlight=False, markup=True, emoji=False)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a usage/setup error to stderr and exit non-zero (CONTRACT.md exit codes)."""
    report(message)
    raise typer.Exit(code)


def report(message: str) -> None:
    """An error on stderr, its text as it is: a path or an address may hold what rich would read as
    markup or an emoji code ("127.0.0.1:-1:" printed a thumbs-down)."""
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True, emoji=False)
