"""``clearance serve`` and ``clearance keys create|list|revoke``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from clearance.cli.common import DatabaseOption, HomeOption, console, fail, open_home
from clearance.db.engine import session_factory
from clearance.keys import ROLES, KeyStore, UnknownKeyError

keys_app = typer.Typer(help="Manage service API keys (stored only as hashes).", no_args_is_help=True)


def _store(home: str | None, database_url: str | None) -> KeyStore:
    return KeyStore(session_factory(open_home(home, database_url).database_url))


@keys_app.command("create")
def create(
    tenant: Annotated[str, typer.Option(help="Tenant: a platform, or a rights holder (= the owner of its works).")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")],
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Create a key and print it once (it cannot be shown again)."""
    try:
        key_id, key = _store(home, database_url).create(tenant, role)
    except ValueError as exc:
        fail(str(exc))
    console.print(f"key id {key_id} for tenant {tenant!r}, role {role}; the key (shown once):", highlight=False)
    typer.echo(key)


@keys_app.command("list")
def list_(home: HomeOption = None, database_url: DatabaseOption = None) -> None:
    """List keys (ids, tenants, roles, revocation; never the keys)."""
    table = Table("key id", "tenant", "role", "created", "revoked")
    for row in _store(home, database_url).list():
        table.add_row(row.key_id, row.tenant, row.role, str(row.created_at)[:19], str(row.revoked_at or "")[:19])
    console.print(table)


@keys_app.command("revoke")
def revoke(key_id: str, home: HomeOption = None, database_url: DatabaseOption = None) -> None:
    """Revoke a key by its id; requests with it are refused from then on."""
    try:
        _store(home, database_url).revoke(key_id)
    except UnknownKeyError as exc:
        fail(str(exc))
    console.print(f"revoked {key_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")

    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
        workers: Annotated[int, typer.Option(help="Screening processes behind the one HTTP process (each loads "
                                                  "the models).", min=1)] = 1,
        home: HomeOption = None,
        database_url: DatabaseOption = None,
    ) -> None:
        """Start the HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
        from clearance.service.server import CannotListenError
        from clearance.service.server import serve as run_server

        try:
            run_server(open_home(home, database_url), host, port, workers)
        except CannotListenError as exc:
            fail(str(exc))
