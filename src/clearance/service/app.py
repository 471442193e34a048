"""The FastAPI application: routes, authentication and tenant isolation.

What each role may do (enforced by ``Auth.allow`` on every route; see docs/service.md):

| route | admin | rights_holder | screener | auditor |
|---|---|---|---|---|
| POST /v1/screen/prompt, /v1/screen/media | yes | no | yes (own licences apply) | no |
| POST /v1/registry/import | any owner | only works it owns | no | no |
| GET /v1/works, /v1/works/{id} | all | works it owns | no | all |
| GET /v1/audit/{audit_id} | all | verdicts that matched its works (their matches only) | its own verdicts | all |

Screening always runs against every registered work. Anything a caller may not see is
answered 404, not 403, so ids of other tenants' works and verdicts do not leak.
"""

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from clearance import __version__, strict_json
from clearance.audit import AuditLog, UnknownAuditIdError, audited_error, entry_problem, stored_record
from clearance.db.engine import session_factory
from clearance.home import Home
from clearance.keys import KeyStore, Principal
from clearance.registry.document import RegistryFileError, decode_utf8, parse_registry
from clearance.registry.store import UnknownWorkError
from clearance.registry.views import WorkView
from clearance.screening import Screener
from clearance.service import errors
from clearance.service.auth import Auth, KeyCache
from clearance.service.errors import ERROR_RESPONSES, ApiError
from clearance.service.limits import BodyLimit
from clearance.service.pool import ScreeningPool
from clearance.service.rate_limit import prompt_cost
from clearance.settings import env_number
from clearance.verdict import MAX_MATCHES, Action, Subject, Verdict

SCREEN_TIMEOUT_S = env_number("CLEARANCE_SCREEN_TIMEOUT_S", 30)
AUDIT_WAIT_S = 5.0
"""How long an unfinished screening's ``review`` waits for the audit log before it is answered unlogged."""
PROCESSES_ENV = "CLEARANCE_SCREENING_PROCESSES"
"""How many screening processes the app starts (``clearance serve --workers``); default 1."""
MAX_PAGE = 10_000
VERDICT_KINDS = frozenset(Subject)
"""A screener reads its own verdicts only: a registry change or takedown logged under a rights holder
of the same name is not one (tenant names are not unique across roles)."""


class PromptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(max_length=200_000)
    negative_prompt: str | None = Field(default=None, max_length=200_000)


class ImportReportBody(BaseModel):
    created: int
    updated: int
    unchanged: int


class Health(BaseModel):
    status: str
    version: str
    ready: bool = Field(description="every screening process has loaded its models and indexes (requests before "
                                    "that wait for one; they are not refused)")


def create_app(home: Home | None = None) -> FastAPI:
    """The app for one home (default: resolved from the environment, as the CLI does).

    Screening runs in a pool of processes (``service.pool``); this process keeps a registry-only
    ``Screener`` (no signal types, so no models) for registry and audit reads and for imports."""
    home = home or Home.resolve()
    state: dict[str, Any] = {}
    auth = Auth()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool = state["pool"] = ScreeningPool(home, int(os.environ.get(PROCESSES_ENV) or 1), SCREEN_TIMEOUT_S)
        pool.start()
        state["screener"] = Screener(home, signal_types=())
        auth.keys = KeyCache(KeyStore(session_factory(home.database_url)))
        _on_sighup(pool.reload_soon)
        try:
            yield
        finally:
            pool.close()

    # no redirect from "/v1/works/" to "/v1/works": a bare 307 that no client follows with its key,
    # where every other unknown route is a 404 with an error body
    app = FastAPI(title="Clearance", version=__version__, lifespan=lifespan, redirect_slashes=False,
                  description="Rights-clearance screening of prompts and media against a registry of protected works.")
    app.add_middleware(BodyLimit)
    errors.install(app)

    def healthz() -> Health:
        return Health(status="ok", version=__version__, ready=state["pool"].ready)

    for method in ("GET", "HEAD"):  # HEAD too: load balancers check health that way; one id per operation
        app.add_api_route("/healthz", healthz, methods=[method], response_model=Health, tags=["service"],
                          operation_id=f"healthz_{method.lower()}")

    @app.post("/v1/screen/prompt", response_model=Verdict, response_model_exclude_none=True,
              responses=ERROR_RESPONSES, tags=["screening"])
    async def screen_prompt(body: PromptRequest,
                            who: Annotated[Principal, Depends(auth.allow("admin", "screener"))],
                            _: Annotated[None, Depends(_no_duplicate_keys)]) -> JSONResponse:
        if surcharge := prompt_cost(body.prompt, body.negative_prompt):  # the request itself took one token
            auth.rate.surcharge(who.key_id, surcharge)
        return await _screen(state["pool"].call("screen_prompt", body.prompt, body.negative_prompt, tenant=who.tenant),
                             state["screener"].audit, Subject.PROMPT, who.tenant)

    @app.post("/v1/screen/media", response_model=Verdict, response_model_exclude_none=True,
              responses=ERROR_RESPONSES, tags=["screening"])
    async def screen_media(request: Request,
                           file: Annotated[UploadFile, File(description="An image, video or audio file.")],
                           who: Annotated[Principal, Depends(auth.allow("admin", "screener"))]) -> JSONResponse:
        await _one_file(request)
        data = await file.read()
        name = file.filename or "upload"
        return await _screen(state["pool"].call("screen_media", data, name=name, tenant=who.tenant),
                             state["screener"].audit, Subject.MEDIA, who.tenant, name)

    @app.post("/v1/registry/import", response_model=ImportReportBody, responses=ERROR_RESPONSES, tags=["registry"],
              openapi_extra={"requestBody": {"required": True,
                                             "content": {"application/yaml": {"schema": {"type": "string"}}}}})
    async def registry_import(request: Request,
                              who: Annotated[Principal, Depends(auth.allow("admin", "rights_holder"))]
                              ) -> ImportReportBody:
        text = _utf8(await request.body())
        report = await run_in_threadpool(_import, state["screener"], text, who)
        await state["pool"].broadcast("catch_up")  # the importer, not a screening request, waits for the new indexes
        return report

    @app.get("/v1/works", responses=ERROR_RESPONSES, tags=["registry"])
    def works(who: Annotated[Principal, Depends(auth.allow("admin", "rights_holder", "auditor"))],
              offset: Annotated[int, Query(ge=0)] = 0,
              limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE) -> list[dict[str, Any]]:
        owner = _owner_scope(who)
        visible = [w for w in state["screener"].refresh().snapshot.works if owner is None or w.owner == owner]
        return [w.document() for w in visible[offset:offset + limit]]

    @app.get("/v1/works/{work_id}", responses=ERROR_RESPONSES, tags=["registry"])
    def work(work_id: str, who: Annotated[Principal, Depends(auth.allow("admin", "rights_holder", "auditor"))],
             owner: Annotated[str | None, Query(description="disambiguates a slug several owners use")] = None
             ) -> dict[str, Any]:
        scope = _owner_scope(who)
        if scope is not None and owner not in (None, scope):  # another owner's: as if it did not exist
            raise ApiError(404, f"no work {work_id!r}")
        return _find_work(state["screener"], work_id, scope or owner).document()

    @app.get("/v1/audit/{audit_id}", responses=ERROR_RESPONSES, tags=["audit"])
    def audit(audit_id: str, who: Annotated[Principal, Depends(auth.principal)]) -> dict[str, Any]:
        try:
            entry = state["screener"].audit.get(audit_id)
        except UnknownAuditIdError:
            raise ApiError(404, f"no audit entry {audit_id!r}") from None
        visible = (who.role in ("admin", "auditor")
                   or (who.role == "screener" and entry.tenant == who.tenant and entry.kind in VERDICT_KINDS)
                   or (who.role == "rights_holder" and any(w.rsplit("/", 1)[0] == who.tenant for w in entry.work_ids)))
        if not visible:
            raise ApiError(404, f"no audit entry {audit_id!r}")
        record, problem = stored_record(entry), entry_problem(entry)
        if who.role == "rights_holder":  # an entry edited out of shape shows it nothing of others'
            record = {} if problem else _owners_view(entry.kind, record, who.tenant)
        # an edited or forged entry was served as genuine (a verify pass): what is wrong with it alone
        return {**record, "audit_id": entry.audit_id, "kind": entry.kind, "created_at": entry.created_at,
                "integrity": problem}

    return app


async def _screen(check: Awaitable[Verdict], audit: AuditLog, kind: Subject, tenant: str | None,
                  path: str | None = None) -> JSONResponse:
    """Await a screening. Fail closed: one that errors or does not finish in time answers
    ``review`` with the reason, logged as any verdict is (``_logged_unscreened``); ``path`` names an
    upload, as its verdict would."""
    try:
        verdict = await asyncio.wait_for(check, SCREEN_TIMEOUT_S)
    except TimeoutError:
        verdict = await _logged_unscreened(f"screening timed out after {SCREEN_TIMEOUT_S:g} s", audit, kind, tenant,
                                           path)
    except Exception as exc:
        verdict = await _logged_unscreened(f"screening failed: {type(exc).__name__}: {exc}", audit, kind, tenant,
                                           path)
    return JSONResponse(verdict.public())  # already validated: skip FastAPI's second serialisation


async def _logged_unscreened(error: str, audit: AuditLog, kind: Subject, tenant: str | None,
                             path: str | None) -> Verdict:
    """The ``review`` of a screening that did not finish, appended to the audit log (a platform's
    reviews caused by timeouts left no trace) when the log takes it within ``AUDIT_WAIT_S``; answered
    without an ``audit_id`` when it does not: the log may be what failed."""
    try:
        return await asyncio.wait_for(run_in_threadpool(audited_error, audit, error, None, kind, tenant, path),
                                      AUDIT_WAIT_S)
    except Exception:  # any failure to log leaves the unlogged answer, still review
        return _unscreened(error, path)


def _unscreened(error: str, path: str | None) -> Verdict:
    """The fail-closed answer to a screening that did not finish, in the shape of every verdict."""
    return Verdict(path=path, action=Action.REVIEW, error=error, versions={"clearance": __version__})


async def _no_duplicate_keys(request: Request) -> None:
    """A body naming a key twice is refused (``strict_json``); one that is no JSON at all is left to
    FastAPI's own validation, which says so."""
    try:
        strict_json.loads(await request.body())
    except strict_json.DuplicateKeyError as exc:
        raise ApiError(422, f"body: {exc}") from None
    except ValueError:
        return


async def _one_file(request: Request) -> None:
    """The form holds one ``file`` part and nothing else. FastAPI takes the last of several parts of a
    name and ignores other names, so a form of two files was answered for the second alone: an
    ``allow`` covering a first file that blocks."""
    parts = [name for name, _ in (await request.form()).multi_items()]  # parsed once: Starlette keeps it
    if parts != ["file"]:
        raise ApiError(422, "the form must hold exactly one part, `file` (one request per file); "
                            f"it holds {', '.join(map(repr, parts))}")


def _on_sighup(reload: Callable[[], object]) -> None:
    """``kill -HUP`` replaces the screening processes (new models or indexes on disk), one at a
    time. Only the main thread of a server can take signals; elsewhere there is nothing to do."""
    with suppress(RuntimeError, ValueError, NotImplementedError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)


def _owner_scope(who: Principal) -> str | None:
    """Rights holders see only works they own (tenant = owner); admins and auditors see all."""
    return who.tenant if who.role == "rights_holder" else None


def _find_work(screener: Screener, slug: str, owner: str | None) -> WorkView:
    """From the in-memory snapshot; the database only when the snapshot predates an import. An id
    several owners use needs ``?owner=``, as the CLI needs ``--owner``: the first one found was
    returned, another owner's work as readily as the one meant."""
    found = [w for w in screener.refresh().snapshot.works if w.slug == slug and owner in (None, w.owner)]
    if not found:
        try:
            found = screener.registry.get(slug, owner)
        except UnknownWorkError:
            raise ApiError(404, f"no work {slug!r}") from None
    if len(found) > 1:
        owners = ", ".join(sorted(w.owner for w in found))
        raise ApiError(409, f"work {slug!r} is registered by several owners ({owners}): name one with ?owner=")
    return found[0]


def _owners_view(kind: str, record: dict[str, Any], owner: str) -> dict[str, Any]:
    """An audit record as a rights holder may read it. A takedown or a restore is of one file
    matched to one work, the owner's (it names no other): shown whole. Until 2026-12-08 it was read
    as a verdict and given a verdict's redaction ("matches": [], "score": null, "own_matches": ...),
    fields it does not have."""
    if kind == "registry":
        return _change_as_seen_by_owner(record, owner)
    return _as_seen_by_owner(record, owner) if kind in VERDICT_KINDS else record


def _change_as_seen_by_owner(change: dict[str, Any], owner: str) -> dict[str, Any]:
    """A registry change as a rights holder may read it: its own works only (an import of a file of
    several owners' works listed them all, policies included) and not the server's file it came from;
    how many were left out is said."""
    works = change.get("works", [])
    own = [w for w in works if w.get("owner") == owner]
    shown = {k: v for k, v in change.items() if k != "source"}
    if shown.get("by", {}).get("via") == "local":  # the server's users and machines are not theirs to read
        shown["by"] = {"via": "local"}
    return {**shown, "works": own, **({"other_owners_works": len(works) - len(own)} if len(own) < len(works) else {})}


def _as_seen_by_owner(verdict: dict[str, Any], owner: str) -> dict[str, Any]:
    """A verdict as a rights holder may read it: with its own works' matches only. Another owner's
    match quotes that owner's registry (descriptions in its evidence) and the negative prompt names
    its works, which a rights holder may not read (``GET /v1/works``); how many were left out is said.
    An owner whose match was among those a verdict did not list (``matches_omitted``: it lists the
    strictest 20) reads no score rather than 0.0, and why."""
    matches = verdict.get("matches", [])
    own = [m for m in matches if m.get("owner") == owner]
    if own and len(own) == len(matches):
        return verdict
    shown = {k: v for k, v in verdict.items() if k != "negative_prompt"}
    unlisted = {} if own else {"score": None, "own_matches": "among the matches_omitted: the verdict lists only "
                                                            f"the strictest {MAX_MATCHES} of its matches"}
    return {**shown, "matches": own, "score": max((m["score"] for m in own), default=0.0),
            "other_owners_matches": len(matches) - len(own), **unlisted}


def _utf8(body: bytes) -> str:
    """The registry document as text. Not UTF-8 is refused as the CLI refuses such a file, with
    the same message (``decode_utf8``): decoded leniently, its titles were stored with U+FFFD."""
    try:
        return decode_utf8(body, "request body")
    except RegistryFileError as exc:
        raise ApiError(422, str(exc)) from None


def _import(screener: Screener, text: str, who: Principal) -> ImportReportBody:
    """Import an uploaded registry document, logged as the caller's change (``by``). It may not point
    at server files: its references are refused before any path is looked at (``parse_registry``
    without a folder), and a work already registered keeps the reference media imported with it from
    a file."""
    owner = None if who.role == "admin" else who.tenant
    by = {"via": "api", "key_id": who.key_id, "role": who.role, "tenant": who.tenant}
    try:
        specs = parse_registry(text, "request body", None)
        report = screener.registry.import_specs(specs, "request body", owner, keep_references=True, by=by)
    except PermissionError as exc:
        raise ApiError(403, str(exc)) from None
    except RegistryFileError as exc:
        raise ApiError(422, str(exc)) from None
    return ImportReportBody(created=report.created, updated=report.updated, unchanged=report.unchanged)
