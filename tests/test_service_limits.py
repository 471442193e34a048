"""The HTTP service at its limits, through a real server on loopback: large uploads, long prompts,
bodies that are too large or not UTF-8, and readiness of a stuck screening process."""

from __future__ import annotations

import io
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from clearance.client import ClearanceClient, ClearanceError
from clearance.db.engine import session_factory
from clearance.home import Home
from clearance.keys import KeyStore
from clearance.registry.document import RegistryFileError, load_registry_file
from tests.test_service import _wait_until_ready, _workers_of, serving, works_and_key

UPLOAD_CAP = 8 << 20
"""The server's upload cap here: room for the test image, small enough to overrun quickly."""
NOT_UTF8_YAML = b'version: 1\nworks:\n  - id: qa-utf\n    title: "QA \xff\xfe bad"\n    owner: QAOwner\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Home]]:
    """One screening process; a rate slow enough that a spent bucket stays spent during a test,
    with the default burst (400)."""
    home, _ = works_and_key(tmp_path_factory.mktemp("limits") / "home")
    env = {"CLEARANCE_RATE_PER_S": "0.01", "CLEARANCE_MAX_UPLOAD_BYTES": str(UPLOAD_CAP)}
    with serving(home, workers=1, env=env) as (url, proc):
        yield url, proc.pid, home


def new_key(home: Home, role: str = "screener") -> str:
    """A key of its own per test, so each test starts from a full bucket."""
    return KeyStore(session_factory(home.database_url)).create("acme" if role == "screener" else "ops", role)[1]


def noise_png(side: int) -> bytes:
    """An incompressible PNG (~3 bytes a pixel): far larger than the pipe's ~210 kB buffer."""
    pixels = np.random.default_rng(7).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def test_a_large_upload_is_screened_and_the_next_prompt_answers_at_once(server: tuple, tmp_path: Path) -> None:
    """A 3 MB upload used to kill (or wedge) the screening process: the pipe, made non-blocking
    by uvloop, took only part of the message. It gets a verdict now, from the same process, and
    a prompt right after it is answered within seconds, not after the 30 s time limit."""
    url, pid, home = server
    image = tmp_path / "noise.png"
    image.write_bytes(noise_png(1000))
    assert image.stat().st_size > 2_500_000
    with ClearanceClient(url, new_key(home)) as client:
        _wait_until_ready(client)
        before = _workers_of(pid)
        media = client.screen_media(image)
        started = time.monotonic()
        prompt = client.screen_prompt("Vecna in the attic")
        took = time.monotonic() - started
    assert media.error is None and media.path == "noise.png", media
    assert prompt.action == "block" and took < 5, (prompt, took)
    assert _workers_of(pid) == before  # nothing died on the way


def test_a_prompt_longer_than_the_bucket_is_accepted_and_spends_it(server: tuple) -> None:
    """A 200,000-character prompt (the documented maximum) with a negative prompt is screened on an
    idle key; before, any prompt over ~40,000 characters cost more than a full bucket holds and was
    refused for good. It still costs more than one request: the bucket is empty after it."""
    url, _, home = server
    long_prompt = ("a quiet walk through an old forest at dawn with mist over the river " * 3000)[:200_000]
    with ClearanceClient(url, new_key(home), timeout=120) as client:
        _wait_until_ready(client)
        verdict = client.screen_prompt(long_prompt, negative_prompt=long_prompt)
        with pytest.raises(ClearanceError) as refused:
            client.screen_prompt("a cat on a sofa")
    assert verdict.action == "review" and "truncated to 20000 for screening" in (verdict.error or ""), verdict
    assert refused.value.code == "rate_limited" and (refused.value.retry_after or 0) >= 1


def test_a_body_that_is_not_utf8_is_an_invalid_request(server: tuple) -> None:
    url, _, home = server
    answer = httpx.post(f"{url}/v1/screen/prompt", content=b'{"prompt": "a \xff cat"}',
                        headers={"Authorization": f"Bearer {new_key(home)}", "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == {"code": "invalid_request", "message": "body: not UTF-8 text (invalid start byte)"}


def test_json_sent_as_a_form_or_as_text_is_told_which_header_to_send(server: tuple) -> None:
    """curl's ``-d`` sends a form: the answer said only "Input should be a valid dictionary"."""
    url, _, home = server
    key = {"Authorization": f"Bearer {new_key(home)}"}
    for sent in ("application/x-www-form-urlencoded", "text/plain"):
        answer = httpx.post(f"{url}/v1/screen/prompt", content=b'{"prompt": "a cat"}',
                            headers={**key, "Content-Type": sent})
        assert answer.status_code == 422 and answer.json()["error"]["message"].endswith(
            f"(the body was sent as {sent}; send JSON with Content-Type: application/json)"), answer.text
    wrong_field = httpx.post(f"{url}/v1/screen/prompt", json={"text": "a cat"}, headers=key)
    assert wrong_field.status_code == 422 and "Content-Type" not in wrong_field.text  # no hint where it is no help


def chunks(head: bytes, size: int, tail: bytes = b"") -> Iterator[bytes]:
    """``head``, ``size`` bytes of filler, ``tail``, as a generator: httpx sends it chunked,
    with no Content-Length."""
    yield head
    for _ in range(size // 65_536):
        yield b"a" * 65_536
    yield tail


@pytest.mark.parametrize("route", ["prompt", "media"])
def test_a_chunked_body_over_the_cap_is_payload_too_large(server: tuple, route: str) -> None:
    url, _, home = server
    headers = {"Authorization": f"Bearer {new_key(home)}"}
    if route == "prompt":
        body = chunks(b'{"prompt": "', (1 << 20) + 65_536, b'"}')
        headers["Content-Type"] = "application/json"
    else:
        body = chunks(b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\n'
                      b"Content-Type: image/png\r\n\r\n", UPLOAD_CAP + 65_536, b"\r\n--b--\r\n")
        headers["Content-Type"] = "multipart/form-data; boundary=b"
    answer = httpx.post(f"{url}/v1/screen/{route}", content=body, headers=headers, timeout=60)
    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"]["code"] == "payload_too_large"


def test_a_registry_body_that_is_not_utf8_is_refused_as_the_cli_refuses_the_file(server: tuple,
                                                                                 tmp_path: Path) -> None:
    url, _, home = server
    admin = {"Authorization": f"Bearer {new_key(home, 'admin')}"}
    answer = httpx.post(f"{url}/v1/registry/import", content=NOT_UTF8_YAML,
                        headers={**admin, "Content-Type": "application/yaml"})
    path = tmp_path / "registry.yaml"
    path.write_bytes(NOT_UTF8_YAML)
    with pytest.raises(RegistryFileError) as cli:
        load_registry_file(path)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == {"code": "invalid_request",
                                      "message": str(cli.value).replace(str(path), "request body")}
    assert httpx.get(f"{url}/v1/works/qa-utf", headers=admin).status_code == 404  # nothing was stored


def test_healthz_is_not_ready_while_the_screening_process_is_stopped(tmp_path: Path) -> None:
    """A screening process that stops answering (here SIGSTOP; a deadlock or a garbled pipe alike)
    makes ``ready`` false within seconds, and true again once it answers."""
    home, key = works_and_key(tmp_path / "home")
    with serving(home, workers=1) as (url, proc), ClearanceClient(url, key) as client:
        _wait_until_ready(client)
        [worker] = _workers_of(proc.pid)
        os.kill(worker, signal.SIGSTOP)
        try:
            stuck = _ready_within(client, False, 10)
        finally:
            os.kill(worker, signal.SIGCONT)
        back = _ready_within(client, True, 10)
        after = client.screen_prompt("Vecna in the attic")
    assert stuck is False and back is True
    assert after.action == "block"


def _ready_within(client: ClearanceClient, wanted: bool, seconds: float) -> bool:
    """``/healthz``'s ``ready`` once it equals ``wanted``, or as it is after ``seconds``."""
    deadline = time.monotonic() + seconds
    ready = client.health()["ready"]
    while ready != wanted and time.monotonic() < deadline:
        time.sleep(0.2)
        ready = client.health()["ready"]
    return ready
