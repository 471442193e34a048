"""The FastAPI application: routes, authentication and tenant isolation.

What each role may do (enforced by ``allow`` on every route, see also the README):

| route | admin | rights_holder | screener | auditor |
|---|---|---|---|---|
| POST /v1/screen/prompt, /v1/screen/media | yes | no | yes (own licences apply) | no |
| POST /v1/registry/import | any owner | only works it owns | no | no |
| GET /v1/works, /v1/works/{id} | all | works it owns | no | all |
| GET /v1/audit/{audit_id} | all | verdicts that matched its works | its own verdicts | all |

Screening always runs against every registered work. Anything a caller may not see is
answered 404, not 403, so ids of other tenants' works and verdicts do not leak.
"""


import asyncio
import json
import os
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from clearance import __version__
from clearance.audit import UnknownAuditIdError
from clearance.db.engine import session_factory
from clearance.home import Home
from clearance.keys import KeyStore, Principal
from clearance.registry.document import RegistryFileError, parse_registry
from clearance.registry.store import UnknownWorkError
from clearance.screening import Screener
from clearance.service import errors
from clearance.service.errors import ERROR_RESPONSES, ApiError
from clearance.service.limits import BodyLimit, RateLimiter
from clearance.verdict import Action, Verdict

SCREEN_TIMEOUT_S = float(os.environ.get("CLEARANCE_SCREEN_TIMEOUT_S", 30))


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


def create_app(home: Home | None = None) -> FastAPI:
    """The app for one home (default: resolved from the environment, as the CLI does)."""
    home = home or Home.resolve()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["screener"] = Screener(home)
        state["keys"] = KeyStore(session_factory(home.database_url))
        state["rate"] = RateLimiter()
        threading.Thread(target=state["screener"].warm_up, daemon=True).start()
        yield

    app = FastAPI(title="Clearance", version=__version__, lifespan=lifespan,
                  description="Rights-clearance screening of prompts and media against a registry of protected works.")
    app.add_middleware(BodyLimit)
    errors.install(app)

    def principal(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key:
            raise ApiError(401, "missing bearer API key")
        found = state["keys"].authenticate(key.strip())
        if found is None:
            raise ApiError(401, "invalid or revoked API key")
        state["rate"].check(found.key_id)
        return found

    def allow(*roles: str) -> Callable[[Principal], Principal]:
        def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
            if who.role not in roles:
                raise ApiError(403, f"role {who.role!r} may not do this")
            return who
        return check

    async def screen(fn: Callable[[], Verdict]) -> dict[str, Any]:
        """Run a check off the event loop; a check that does not finish in time is a review."""
        try:
            verdict = await asyncio.wait_for(run_in_threadpool(fn), SCREEN_TIMEOUT_S)
        except TimeoutError:
            verdict = Verdict(action=Action.REVIEW, error=f"screening timed out after {SCREEN_TIMEOUT_S:g} s")
        return verdict.public()

    @app.get("/healthz", response_model=Health, tags=["service"])
    def healthz() -> Health:
        return Health(status="ok", version=__version__)

    @app.post("/v1/screen/prompt", response_model=Verdict, response_model_exclude_none=True,
              responses=ERROR_RESPONSES, tags=["screening"])
    async def screen_prompt(body: PromptRequest,
                            who: Annotated[Principal, Depends(allow("admin", "screener"))]) -> dict[str, Any]:
        screener: Screener = state["screener"]
        return await screen(lambda: screener.screen_prompt(body.prompt, body.negative_prompt, tenant=who.tenant))

    @app.post("/v1/screen/media", response_model=Verdict, response_model_exclude_none=True,
              responses=ERROR_RESPONSES, tags=["screening"])
    async def screen_media(file: Annotated[UploadFile, File(description="An image, video or audio file.")],
                           who: Annotated[Principal, Depends(allow("admin", "screener"))]) -> dict[str, Any]:
        data = await file.read()
        name = file.filename or "upload"
        return await screen(lambda: state["screener"].screen_media(data, name=name, tenant=who.tenant))

    @app.post("/v1/registry/import", response_model=ImportReportBody, responses=ERROR_RESPONSES, tags=["registry"],
              openapi_extra={"requestBody": {"required": True,
                                             "content": {"application/yaml": {"schema": {"type": "string"}}}}})
    async def registry_import(request: Request,
                              who: Annotated[Principal, Depends(allow("admin", "rights_holder"))]) -> ImportReportBody:
        text = (await request.body()).decode("utf-8", errors="replace")
        return await run_in_threadpool(_import, state["screener"], text, None if who.role == "admin" else who.tenant)

    @app.get("/v1/works", responses=ERROR_RESPONSES, tags=["registry"])
    def works(who: Annotated[Principal, Depends(allow("admin", "rights_holder", "auditor"))]) -> list[dict[str, Any]]:
        owner = who.tenant if who.role == "rights_holder" else None
        return [w.document() for w in state["screener"].registry.works(owner)]

    @app.get("/v1/works/{work_id}", responses=ERROR_RESPONSES, tags=["registry"])
    def work(work_id: str,
             who: Annotated[Principal, Depends(allow("admin", "rights_holder", "auditor"))]) -> dict[str, Any]:
        owner = who.tenant if who.role == "rights_holder" else None
        try:
            found = state["screener"].registry.get(work_id, owner)
        except UnknownWorkError:
            raise ApiError(404, f"no work {work_id!r}") from None
        return found[0].document()

    @app.get("/v1/audit/{audit_id}", responses=ERROR_RESPONSES, tags=["audit"])
    def audit(audit_id: str, who: Annotated[Principal, Depends(principal)]) -> dict[str, Any]:
        try:
            entry = state["screener"].audit.get(audit_id)
        except UnknownAuditIdError:
            raise ApiError(404, f"no audit entry {audit_id!r}") from None
        visible = (who.role in ("admin", "auditor")
                   or (who.role == "screener" and entry.tenant == who.tenant)
                   or (who.role == "rights_holder" and any(w.startswith(f"{who.tenant}/") for w in entry.work_ids)))
        if not visible:
            raise ApiError(404, f"no audit entry {audit_id!r}")
        return {**json.loads(entry.payload), "audit_id": entry.audit_id, "kind": entry.kind,
                "created_at": entry.created_at}

    return app


def _import(screener: Screener, text: str, owner: str | None) -> ImportReportBody:
    """Import an uploaded registry document. It may not point at server files (no references)."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            specs = parse_registry(text, "request body", Path(tmp))
        except RegistryFileError as exc:
            raise ApiError(422, str(exc)) from None
        if any(spec.references for spec in specs):
            raise ApiError(422, "reference media cannot be imported over the API; use `clearance registry import`")
        path = Path(tmp) / "registry.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            report = screener.registry.import_file(path, owner=owner)
        except PermissionError as exc:
            raise ApiError(403, str(exc).replace(str(path), "request body")) from None
        except RegistryFileError as exc:
            raise ApiError(422, str(exc).replace(str(path), "request body")) from None
    return ImportReportBody(created=report.created, updated=report.updated, unchanged=report.unchanged)
