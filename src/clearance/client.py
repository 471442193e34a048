"""A typed Python client for the Clearance service (httpx), sync and async.

    with ClearanceClient("http://127.0.0.1:8000", api_key) as client:
        verdict = client.screen_prompt("Eleven riding a bike")
        if verdict.action != "allow": ...
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

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


class _Transport(httpx.HTTPTransport):
    """httpx's transport, raising ``ClearanceError`` where the service cannot be reached: httpx's
    own ``ConnectError`` got past callers who handled ``ClearanceError`` as ``review``."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except httpx.TransportError as exc:
            raise _unreachable(request, exc) from exc


class _AsyncTransport(httpx.AsyncHTTPTransport):
    """``_Transport`` for the async client."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.TransportError as exc:
            raise _unreachable(request, exc) from exc


def _unreachable(request: httpx.Request, exc: httpx.TransportError) -> ClearanceError:
    return ClearanceError(0, "unreachable", f"{request.method} {request.url}: {type(exc).__name__}: {exc}")


def _check(response: httpx.Response, shape: type = dict) -> Any:
    """The answer's JSON, which must be a ``shape`` (a dict or a list), or ``ClearanceError``."""
    if response.is_success:
        try:
            answer = response.json()
        except ValueError:
            raise ClearanceError(response.status_code, "invalid_response",
                                 f"the answer is not JSON: {response.text[:200]!r}") from None
        if not isinstance(answer, shape):
            raise ClearanceError(response.status_code, "invalid_response",
                                 f"the answer is not a JSON {shape.__name__}: {response.text[:200]!r}")
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
a truncated body: ``{"action": "allow"}``) is refused, not read as a verdict with defaults."""


def _verdict(response: httpx.Response) -> Verdict:
    """The verdict a screening answered, or ``ClearanceError``: a 2xx answer that is JSON but no
    verdict (``[1, 2]``, a proxy's ``{"ok": true}``) raised pydantic's ``ValidationError``, and one
    missing its fields, or allowing what it says could not be checked (an ``error``), was an ``allow``."""
    answer = _check(response)
    missing = [field for field in VERDICT_FIELDS if field not in answer]
    try:
        verdict = Verdict.model_validate(answer)
    except ValidationError:
        missing = missing or ["a verdict's values"]
    if missing or (verdict.action == "allow" and verdict.error):
        says = f"no {', '.join(missing)}" if missing else "an allow with an error"
        raise ClearanceError(response.status_code, "invalid_response",
                             f"the answer is not a verdict ({says}): {response.text[:200]!r}")
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
        self.http = httpx.Client(base_url=self.base_url, headers=self.headers, timeout=timeout,
                                 transport=_Transport())

    def __enter__(self) -> ClearanceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def health(self) -> dict[str, Any]:
        return _check(self.http.get("/healthz"))

    def screen_prompt(self, prompt: str, negative_prompt: str | None = None) -> Verdict:
        body = _prompt_body(prompt, negative_prompt)
        return _verdict(self.http.post("/v1/screen/prompt", json=body))

    def screen_media(self, file: Path | str | bytes, filename: str | None = None) -> Verdict:
        return _verdict(self.http.post("/v1/screen/media", files=_media(file, filename)))

    def import_registry(self, yaml_text: str) -> dict[str, int]:
        return _check(self.http.post("/v1/registry/import", content=yaml_text.encode(),
                                     headers={"Content-Type": "application/yaml"}))

    def works(self) -> list[dict[str, Any]]:
        """Every work the key may see, fetched page by page."""
        found: list[dict[str, Any]] = []
        while True:
            page = _check(self.http.get("/v1/works", params={"offset": len(found), "limit": PAGE}), list)
            found += page
            if len(page) < PAGE:
                return found

    def work(self, work_id: str, owner: str | None = None) -> dict[str, Any]:
        return _check(self.http.get(f"/v1/works/{_segment(work_id)}", params=_work_params(owner)))

    def audit(self, audit_id: str) -> dict[str, Any]:
        return _check(self.http.get(f"/v1/audit/{_segment(audit_id)}"))


class AsyncClearanceClient(_Base):
    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        super().__init__(base_url, api_key, timeout)
        self.http = httpx.AsyncClient(base_url=self.base_url, headers=self.headers, timeout=timeout,
                                      transport=_AsyncTransport())

    async def __aenter__(self) -> AsyncClearanceClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def health(self) -> dict[str, Any]:
        return _check(await self.http.get("/healthz"))

    async def screen_prompt(self, prompt: str, negative_prompt: str | None = None) -> Verdict:
        body = _prompt_body(prompt, negative_prompt)
        return _verdict(await self.http.post("/v1/screen/prompt", json=body))

    async def screen_media(self, file: Path | str | bytes, filename: str | None = None) -> Verdict:
        return _verdict(await self.http.post("/v1/screen/media", files=_media(file, filename)))

    async def import_registry(self, yaml_text: str) -> dict[str, int]:
        return _check(await self.http.post("/v1/registry/import", content=yaml_text.encode(),
                                           headers={"Content-Type": "application/yaml"}))

    async def works(self) -> list[dict[str, Any]]:
        """Every work the key may see, fetched page by page."""
        found: list[dict[str, Any]] = []
        while True:
            page = _check(await self.http.get("/v1/works", params={"offset": len(found), "limit": PAGE}), list)
            found += page
            if len(page) < PAGE:
                return found

    async def work(self, work_id: str, owner: str | None = None) -> dict[str, Any]:
        return _check(await self.http.get(f"/v1/works/{_segment(work_id)}", params=_work_params(owner)))

    async def audit(self, audit_id: str) -> dict[str, Any]:
        return _check(await self.http.get(f"/v1/audit/{_segment(audit_id)}"))
