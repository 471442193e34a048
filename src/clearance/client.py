"""A typed Python client for the Clearance service (httpx), sync and async.

    with ClearanceClient("http://127.0.0.1:8000", api_key) as client:
        verdict = client.screen_prompt("Eleven riding a bike")
        if verdict.action != "allow": ...
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from clearance import strict_json
from clearance.safe_text import printable
from clearance.verdict import Verdict


class ClearanceError(Exception):
    """A non-2xx answer: the HTTP status plus the service's stable error code and message;
    ``retry_after`` (seconds) when the service said when to try again (``rate_limited``). Also a
    2xx answer that is not what was asked for (a proxy's page, a verdict without its fields:
    ``invalid_response``), a service that cannot be reached or did not answer in time (status 0,
    ``unreachable``), and a prompt that is no text or that no JSON can carry (a lone surrogate),
    refused as the service would refuse it (422 ``invalid_request``) before sending. One exception
    type, so a caller that treats it as ``review`` fails closed whatever went wrong."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


MAX_ANSWER = 64 * 1024 * 1024
"""Most bytes of an answer read: a verdict is a few kB, and an 80 MB body was read whole."""
DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
"""Headers that described the body as sent, not the body ``_Body.whole`` has decoded."""


class _Client(httpx.Client):
    """httpx's client, reading each answer whole within ``deadline`` seconds (httpx's timeouts are
    per read: an answer sent a byte at a time was waited on for 42 s with a 2 s timeout) and at most
    ``MAX_ANSWER`` bytes, and raising ``ClearanceError`` for what httpx raises on the way: a refused
    connection, a body cut short, an encoding that does not decode (httpx's own errors got past
    callers who handled ``ClearanceError`` as ``review``)."""

    def __init__(self, deadline: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deadline = deadline

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        try:
            response = super().send(request, **{**kwargs, "stream": True})
            try:
                body = _Body(response, self.deadline)
                for chunk in response.iter_bytes():
                    body.add(chunk)
                return body.whole()
            finally:
                response.close()
        except httpx.RequestError as exc:
            raise _unreachable(request, exc) from exc


class _AsyncClient(httpx.AsyncClient):
    """``_Client`` for asyncio."""

    def __init__(self, deadline: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deadline = deadline

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        try:
            response = await super().send(request, **{**kwargs, "stream": True})
            try:
                body = _Body(response, self.deadline)
                async for chunk in response.aiter_bytes():
                    body.add(chunk)
                return body.whole()
            finally:
                await response.aclose()
        except httpx.RequestError as exc:
            raise _unreachable(request, exc) from exc


class _Body:
    """An answer's body as it arrives, refused past ``MAX_ANSWER`` bytes or the deadline."""

    def __init__(self, response: httpx.Response, deadline: float) -> None:
        self.response, self.until, self.data = response, time.monotonic() + deadline, bytearray()

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > MAX_ANSWER:
            raise ClearanceError(self.response.status_code, "invalid_response",
                                 f"the answer is longer than {MAX_ANSWER} bytes")
        if time.monotonic() > self.until:
            raise _unreachable(self.response.request, TimeoutError("no whole answer within the client's timeout"))

    def whole(self) -> httpx.Response:
        """The answer with its whole body, decoded (so without the headers that described its encoding)."""
        headers = [(k, v) for k, v in self.response.headers.multi_items() if k.lower() not in DROPPED_HEADERS]
        return httpx.Response(self.response.status_code, headers=headers, content=bytes(self.data),
                              request=self.response.request)


def _unreachable(request: httpx.Request, exc: Exception) -> ClearanceError:
    return ClearanceError(0, "unreachable", f"{request.method} {request.url}: {type(exc).__name__}: {exc}")


def _missing(answer: dict[str, Any] | list[Any], fields: tuple[str, ...]) -> list[str]:
    """The ``fields`` an answer (an object, or a list of them: ``works``) lacks."""
    items = answer if isinstance(answer, list) else [answer]
    if not all(isinstance(item, dict) for item in items):
        return ["objects"]
    return [field for field in fields if any(field not in item for item in items)]


def _check(response: httpx.Response, shape: type = dict, fields: tuple[str, ...] = ()) -> Any:
    """The answer's JSON, which must be a ``shape`` (a dict, or a list of dicts) with ``fields``, or
    ``ClearanceError``. A key given twice is refused, as the service refuses it: a gateway reading
    the first ``"action"`` of two would act on another verdict than this client."""
    if response.is_success:
        try:
            answer = strict_json.loads(response.content)
        except (ValueError, RecursionError) as exc:  # nested deeper than Python's JSON reader goes
            raise ClearanceError(response.status_code, "invalid_response",
                                 f"the answer is not JSON ({exc}): {response.text[:200]!r}") from None
        missing = _missing(answer, fields) if isinstance(answer, shape) else []
        if not isinstance(answer, shape) or missing:
            says = f"no {', '.join(missing)}" if missing else f"not a JSON {shape.__name__}"
            raise ClearanceError(response.status_code, "invalid_response",
                                 f"the answer is not what was asked for ({says}): {response.text[:200]!r}")
        return answer
    retry_after = response.headers.get("retry-after", "")
    wait = int(retry_after) if retry_after.isdigit() else None
    try:
        error = response.json()["error"]
        raise ClearanceError(response.status_code, error["code"], error["message"], wait)
    except (ValueError, KeyError, TypeError):
        raise ClearanceError(response.status_code, "http_error", response.text[:200], wait) from None


VERDICT_FIELDS = ("action", "score", "matches", "versions")
"""Fields every verdict the service answers carries: an answer without them (a gateway's rewrite,
a truncated body: ``{"action": "allow"}``) is refused, not read as a verdict with defaults. The
other answers' fields, checked alike (``audit`` returned whatever JSON it was given):"""
HEALTH_FIELDS = ("status", "version", "ready")
AUDIT_FIELDS = ("audit_id", "kind", "integrity")
WORK_FIELDS = ("id", "title", "owner", "policy")
IMPORT_FIELDS = ("created", "updated", "unchanged")


def _verdict(response: httpx.Response) -> Verdict:
    """The verdict a screening answered, or ``ClearanceError``: a 2xx answer that is JSON but no
    verdict (``[1, 2]``, a proxy's ``{"ok": true}``) raised pydantic's ``ValidationError``, and one
    missing its fields, or allowing what it says could not be checked (an ``error``), was an ``allow``."""
    _check(response, dict, VERDICT_FIELDS)  # JSON, one key once each, with the verdict's fields
    try:  # strict: a score given as text or as true is no score
        verdict = Verdict.model_validate_json(response.content, strict=True)
    except ValidationError as exc:
        problem = f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
    else:
        problem = ("a score outside 0 to 1" if not 0.0 <= verdict.score <= 1.0
                   else "an allow with an error" if verdict.action == "allow" and verdict.error else "")
    if problem:
        raise ClearanceError(response.status_code, "invalid_response",
                             f"the answer is not a verdict ({problem}): {response.text[:200]!r}")
    return verdict


def _media(file: Path | str | bytes, filename: str | None) -> dict[str, tuple[str, bytes]]:
    """The upload: a path (``Path`` or ``str``, read here) or the file's bytes. A ``str`` was sent
    as the file's content, so screening a path given as text reviewed ten bytes of its name. A name
    that is not UTF-8 ("bad\\xff.jpg" on disk) is sent escaped, as the CLI shows it (httpx raised
    ``UnicodeEncodeError``)."""
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        return {"file": (printable(filename or path.name), path.read_bytes())}
    return {"file": (printable(filename or "upload"), bytes(file))}


def _segment(value: str) -> str:
    """``value`` as one path segment: escaped whole, dots too, so an id cannot step to another route
    (``audit("../works")`` answered the works list) or carry a query (``audit("x?y=1")``)."""
    return quote(value, safe="").replace(".", "%2E")


PAGE = 1000
"""Works fetched per request when listing (the service allows up to 10,000)."""


def _prompt_body(prompt: str, negative_prompt: str | None) -> dict[str, str]:
    for field, text in (("prompt", prompt), ("negative_prompt", negative_prompt or "")):
        if not isinstance(text, str):
            raise ClearanceError(422, "invalid_request", f"{field}: not text but {type(text).__name__}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # httpx raised it raw, from deep inside its JSON encoding
            raise ClearanceError(422, "invalid_request", f"{field}: not valid Unicode ({exc.reason} at "
                                                          f"character {exc.start})") from None
    return {"prompt": prompt, **({"negative_prompt": negative_prompt} if negative_prompt is not None else {})}


def _work_params(owner: str | None) -> dict[str, str]:
    return {"owner": owner} if owner else {}


class _Base:
    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = timeout


class ClearanceClient(_Base):
    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        super().__init__(base_url, api_key, timeout)
        self.http = _Client(timeout, base_url=self.base_url, headers=self.headers, timeout=timeout)

    def __enter__(self) -> ClearanceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def health(self) -> dict[str, Any]:
        return _check(self.http.get("/healthz"), dict, HEALTH_FIELDS)

    def screen_prompt(self, prompt: str, negative_prompt: str | None = None) -> Verdict:
        body = _prompt_body(prompt, negative_prompt)
        return _verdict(self.http.post("/v1/screen/prompt", json=body))

    def screen_media(self, file: Path | str | bytes, filename: str | None = None) -> Verdict:
        return _verdict(self.http.post("/v1/screen/media", files=_media(file, filename)))

    def import_registry(self, yaml_text: str) -> dict[str, int]:
        return _check(self.http.post("/v1/registry/import", content=yaml_text.encode(),
                                     headers={"Content-Type": "application/yaml"}), dict, IMPORT_FIELDS)

    def works(self) -> list[dict[str, Any]]:
        """Every work the key may see, fetched page by page."""
        found: list[dict[str, Any]] = []
        while True:
            page = _check(self.http.get("/v1/works", params={"offset": len(found), "limit": PAGE}), list,
                          WORK_FIELDS)
            found += page
            if len(page) < PAGE:
                return found

    def work(self, work_id: str, owner: str | None = None) -> dict[str, Any]:
        return _check(self.http.get(f"/v1/works/{_segment(work_id)}", params=_work_params(owner)), dict, WORK_FIELDS)

    def audit(self, audit_id: str) -> dict[str, Any]:
        return _check(self.http.get(f"/v1/audit/{_segment(audit_id)}"), dict, AUDIT_FIELDS)


class AsyncClearanceClient(_Base):
    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        super().__init__(base_url, api_key, timeout)
        self.http = _AsyncClient(timeout, base_url=self.base_url, headers=self.headers, timeout=timeout)

    async def __aenter__(self) -> AsyncClearanceClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def health(self) -> dict[str, Any]:
        return _check(await self.http.get("/healthz"), dict, HEALTH_FIELDS)

    async def screen_prompt(self, prompt: str, negative_prompt: str | None = None) -> Verdict:
        body = _prompt_body(prompt, negative_prompt)
        return _verdict(await self.http.post("/v1/screen/prompt", json=body))

    async def screen_media(self, file: Path | str | bytes, filename: str | None = None) -> Verdict:
        return _verdict(await self.http.post("/v1/screen/media", files=_media(file, filename)))

    async def import_registry(self, yaml_text: str) -> dict[str, int]:
        return _check(await self.http.post("/v1/registry/import", content=yaml_text.encode(),
                                           headers={"Content-Type": "application/yaml"}), dict, IMPORT_FIELDS)

    async def works(self) -> list[dict[str, Any]]:
        """Every work the key may see, fetched page by page."""
        found: list[dict[str, Any]] = []
        while True:
            page = _check(await self.http.get("/v1/works", params={"offset": len(found), "limit": PAGE}), list,
                          WORK_FIELDS)
            found += page
            if len(page) < PAGE:
                return found

    async def work(self, work_id: str, owner: str | None = None) -> dict[str, Any]:
        return _check(await self.http.get(f"/v1/works/{_segment(work_id)}", params=_work_params(owner)), dict,
                      WORK_FIELDS)

    async def audit(self, audit_id: str) -> dict[str, Any]:
        return _check(await self.http.get(f"/v1/audit/{_segment(audit_id)}"), dict, AUDIT_FIELDS)
