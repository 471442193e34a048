"""Request body limits, checked while the body streams in (rate limits: ``rate_limit``)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearance.service.errors import ApiError, error_response
from clearance.settings import env_number

MAX_JSON_BYTES = int(env_number("CLEARANCE_MAX_JSON_BYTES", 1 << 20))
MAX_UPLOAD_BYTES = int(env_number("CLEARANCE_MAX_UPLOAD_BYTES", 64 << 20))


class BodyLimit:
    """Refuse bodies over the limit with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = MAX_UPLOAD_BYTES if scope["path"].startswith("/v1/screen/media") else MAX_JSON_BYTES
        too_large = error_response(413, f"request body over the {limit}-byte limit")
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await too_large(scope, receive, send)
        seen, over, started = 0, False, False

        async def limited() -> Message:
            nonlocal seen, over
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                over = True
                raise ApiError(413, f"request body over the {limit}-byte limit")
            return message

        async def unless_over(message: Message) -> None:
            """Drop the app's answer to a body cut off at the limit. The error raised from
            ``receive`` does not reach us: FastAPI's body parsing turns any error into its own
            400 ("There was an error parsing the body"), for JSON and multipart alike."""
            nonlocal started
            if not over:
                started = True
                await send(message)

        try:
            await self.app(scope, limited, unless_over)
        except ApiError as exc:
            if not started:
                await error_response(exc.status, exc.message, exc.code, exc.headers)(scope, receive, send)
            return
        if over and not started:
            await too_large(scope, receive, send)
