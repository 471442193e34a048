"""One error body for every failure: ``{"error": {"code": ..., "message": ...}}`` with a stable code."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "ambiguous", 413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid_request",
         429: "rate_limited", 500: "internal_error", 503: "unavailable"}


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code or CODES.get(status, "error")
        self.headers = headers


def error_response(status: int, message: str, code: str | None = None, headers: dict | None = None) -> JSONResponse:
    body = {"error": {"code": code or CODES.get(status, "error"), "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.code, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not parse the body: an undocumented code otherwise
            return error_response(422, _unparsable(exc))
        return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        return error_response(422, (problems or "invalid request") + _content_type_hint(request, exc))

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        return error_response(500, f"internal error ({type(exc).__name__})")


def _content_type_hint(request: Request, exc: RequestValidationError) -> str:
    """A JSON body sent as a form or as text (curl's ``-d`` sends a form) reaches the route as no
    object at all, and the validator's words do not say why: name the header that is missing."""
    sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
    whole_body = any(e["loc"] == ("body",) for e in exc.errors())
    if whole_body and sent != "application/json" and not sent.startswith("multipart/"):
        return f" (the body was sent as {sent or 'no content type'}; send JSON with Content-Type: application/json)"
    return ""


def _unparsable(exc: StarletteHTTPException) -> str:
    """Why FastAPI's body parsing failed (its 400 keeps the cause only as ``__cause__``): a body
    that is not UTF-8 is malformed JSON to the client, as the docs' 422 ``invalid_request`` says."""
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return f"body: not UTF-8 text ({cause.reason})"
    return f"body: {exc.detail}" + (f" ({type(cause).__name__})" if cause else "")


ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorBody} for status in (401, 403, 404, 409, 413, 422, 500, 503)}
ERROR_RESPONSES[429] = {"model": ErrorBody, "headers": {"Retry-After": {
    "description": "Seconds until the key's bucket lets a request in again", "schema": {"type": "integer"}}}}
