"""``clearance registry``: import, list, show and remove works; grant and revoke licences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from clearance.cli.common import DatabaseOption, HomeOption, JsonOption, console, fail, open_home, shown
from clearance.registry.document import RegistryFileError
from clearance.registry.media_store import MediaStoreError
from clearance.registry.store import AmbiguousWorkError, Registry, UnknownWorkError
from clearance.registry.views import WorkView

app = typer.Typer(help="Manage the registry of protected works.", no_args_is_help=True)


def _registry(home: str | None, database_url: str | None) -> Registry:
    return Registry.of(open_home(home, database_url))


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="Registry YAML file (CONTRACT.md, version 1).")],
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Upsert every work of FILE by (owner, id). A malformed file changes nothing."""
    try:
        report = _registry(home, database_url).import_file(file)
    except RegistryFileError as exc:
        fail(str(exc))
    except MediaStoreError as exc:
        fail(str(exc), code=1)
    repaired = f"; damaged stored media of {report.repaired} put back" if report.repaired else ""
    console.print(f"imported {file}: {report.created} created, {report.updated} updated, {report.unchanged} unchanged"
                  f"{repaired}")


@app.command("list")
def list_(owner: str | None = None, home: HomeOption = None, database_url: DatabaseOption = None,
          json_: JsonOption = False) -> None:
    """List registered works."""
    works = _registry(home, database_url).works(owner)
    if json_:
        typer.echo(json.dumps([w.document() for w in works], ensure_ascii=False))
        return
    table = Table("id", "owner", "title", "kind", "policy", "characters+elements", "references")
    for w in works:
        table.add_row(*map(shown, (w.slug, w.owner, w.title)), w.kind, w.policy, str(len(w.elements)),
                      str(len(w.references)))
    console.print(table)


@app.command("show")
def show(
    work_id: str,
    owner: str | None = None,
    names: Annotated[bool, typer.Option("--names", help="Instead, what each name needs before it blocks, and why.")]
    = False,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Print one work as JSON."""
    from clearance.signals.name_entries import name_support  # the word lists: only ``--names`` needs them

    registry = _registry(home, database_url)
    try:
        works = registry.get(work_id, owner)
    except UnknownWorkError as exc:
        fail(str(exc))
    documents = [name_support(w) if names else _checked_document(w, registry.licensees(w.slug, w.owner))
                 for w in works]
    typer.echo(json.dumps(documents if len(documents) > 1 else documents[0], indent=2, ensure_ascii=False))


def _checked_document(work: WorkView, licensees: list[str]) -> dict[str, Any]:
    """The work and the tenants licensed for it (no command listed them), each reference whose
    stored copy no longer decodes saying why under ``problem``: screening leaves such a reference
    out (with a warning in the log), which a rights holder looking at the work should see (``list``
    does not decode: it would read every file)."""
    from clearance.registry.media_check import media_problem  # decoders: only ``show`` needs them

    document = work.document() | {"licensees": licensees}
    for entry, ref in zip(document["references"], work.references, strict=True):
        if (problem := media_problem(ref.path, ref.kind)) is not None:
            entry["problem"] = problem
    return document


@app.command("remove")
def remove(work_id: str, owner: str | None = None, home: HomeOption = None,
           database_url: DatabaseOption = None) -> None:
    """Remove a work and its references from the registry and every index."""
    try:
        removed = _registry(home, database_url).remove(work_id, owner)
    except (UnknownWorkError, AmbiguousWorkError) as exc:
        fail(str(exc))
    for o, s in removed:
        console.print(f"removed {o}/{s}")


@app.command("license")
def license_(
    tenant: Annotated[str, typer.Option(help="Platform tenant that holds the licence.")],
    work_id: Annotated[str, typer.Argument()],
    owner: str | None = None,
    revoke: Annotated[bool, typer.Option(help="Revoke instead of grant.")] = False,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Grant (or revoke) a platform tenant's licence for a work: its matches become allow."""
    registry = _registry(home, database_url)
    try:
        changed = (registry.revoke_licence if revoke else registry.grant_licence)(tenant, work_id, owner)
    except (UnknownWorkError, AmbiguousWorkError, ValueError) as exc:
        fail(str(exc))
    if changed:
        console.print(f"{'revoked' if revoke else 'granted'} licence: {tenant} -> {work_id}")
    else:  # it said "revoked licence" of a licence that never was
        console.print(f"{tenant} {'held no' if revoke else 'already holds a'} licence for {work_id}: nothing changed")
