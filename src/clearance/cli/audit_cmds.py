"""``clearance audit``: verify the hash chain, show a stored verdict."""

from __future__ import annotations

import typer
from sqlalchemy.exc import SQLAlchemyError

from clearance.audit import AuditLog, UnknownAuditIdError, entry_problem, stored_record
from clearance.cli.common import DatabaseOption, HomeOption, JsonOption, console, fail, open_home
from clearance.db.engine import session_factory
from clearance.safe_text import json_text

app = typer.Typer(help="Inspect the tamper-evident audit log.", no_args_is_help=True)


def _log(home: str | None, database_url: str | None) -> AuditLog:
    return AuditLog(session_factory(open_home(home, database_url).database_url))


@app.command("verify")
def verify(home: HomeOption = None, database_url: DatabaseOption = None) -> None:
    """Exit 0 when the chain is intact; otherwise name the first bad entry and exit 1."""
    try:
        result = _log(home, database_url).verify()
    except SQLAlchemyError as exc:  # a dropped or damaged table is a broken log, not a crash
        fail(f"audit log unreadable: {type(exc.orig or exc).__name__}: {exc.orig or exc}", code=1)
    if result.ok:
        console.print(f"audit log intact: {result.entries} entries")
        return
    console.print(f"[bold red]audit log broken[/] at entry {result.first_bad_seq} "
                  f"(audit id {result.first_bad_audit_id}): {result.problem}")
    raise typer.Exit(1)


@app.command("show")
def show(audit_id: str, home: HomeOption = None, database_url: DatabaseOption = None,
         json_: JsonOption = False) -> None:
    """Print the stored verdict (or takedown record) of AUDIT_ID; exit 1, with a warning, when the
    entry does not match its own hash or lies outside the chain (an edited or forged entry was
    printed as genuine: a QA pass, 2026-12-08)."""
    log = _log(home, database_url)
    try:
        entry = log.get(audit_id)
    except UnknownAuditIdError as exc:
        fail(str(exc))
    record = {**stored_record(entry), "audit_id": entry.audit_id}
    if json_:
        typer.echo(json_text(record))  # a takedown record may name a file that is not UTF-8
    else:
        console.print(f"#{entry.seq} {entry.kind} at {entry.created_at} tenant={entry.tenant}")
        console.print_json(json_text(record))
    if (problem := entry_problem(entry)) is not None:
        fail(f"this entry is not to be trusted: {problem}; run `clearance audit verify`", code=1)
