"""The HTTP service through real HTTP on loopback: every route, roles and tenants, limits, PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text as sqlalchemy_text
from typer.testing import CliRunner

from clearance.audit import AuditLog
from clearance.cli import app
from clearance.client import AsyncClearanceClient, ClearanceClient, ClearanceError
from clearance.db.engine import session_factory
from clearance.home import Home
from clearance.keys import KeyStore
from clearance.screening import FRESHNESS_S, Screener
from clearance.service.pool import IN_FLIGHT, MAX_EARLY_DEATHS, ScreeningPool, ScreeningUnavailableError
from tests.conftest import DATA, WORKS_YAML, model_scratch_dirs, unwritable_model_cache
from tests.pg_cluster import create_database

NEW_WORK = """version: 1
works:
  - id: moon-rangers
    title: Moon Rangers
    owner: Netflix
    kind: series
    characters:
      - name: Captain Zorblax
        description: Lunar ranger in a silver spacesuit with a crescent-shaped helmet
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(home: Home, workers: int = 1, env: dict[str, str] | None = None) -> Iterator[str]:
    with serving(home, workers, env) as (url, _):
        yield url


@contextmanager
def serving(home: Home, workers: int = 1,
            env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A `clearance serve` answering on a free loopback port: (its url, the supervisor process)."""
    port = _free_port()
    cmd = [sys.executable, "-m", "clearance.cli.main", "serve", "--port", str(port), "--workers", str(workers),
           "--home", str(home.root), "--database-url", home.database_url]
    with server_log(home).open("wb") as log:  # a file, not a pipe no one reads while it runs
        proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=log,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail(f"server did not start: {server_log(home).read_text()}")
        yield url, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def server_log(home: Home) -> Path:
    """Where `serving` writes the server's stderr (its warnings and errors), beside the home."""
    return home.root.with_name(f"{home.root.name}-serve.log")


def works_and_key(root: Path, database_url: str | None = None) -> tuple[Home, str]:
    """A home with the test works registered, and a screener key for tenant acme."""
    home = Home.resolve(root, database_url)
    Screener(home).registry.import_file(WORKS_YAML)
    return home, KeyStore(session_factory(home.database_url)).create("acme", "screener")[1]


def keys_for(home: Home) -> dict[str, str]:
    store = KeyStore(session_factory(home.database_url))
    made = {name: store.create(tenant, role)[1] for name, (tenant, role) in {
        "admin": ("ops", "admin"), "netflix": ("Netflix", "rights_holder"), "disney": ("Disney", "rights_holder"),
        "acme": ("acme", "screener"), "globex": ("globex", "screener"), "auditor": ("audit-co", "auditor"),
    }.items()}
    revoked_id, made["revoked"] = store.create("acme", "screener")
    store.revoke(revoked_id)
    return made


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            pg_server: str) -> Iterator[tuple[str, dict[str, str], Home]]:
    """A running server with keys for every role, on SQLite and (second run) on PostgreSQL."""
    database_url = create_database(pg_server) if request.param == "postgresql" else None
    home = Home.resolve(tmp_path_factory.mktemp("service") / "home", database_url)
    Screener(home).registry.import_file(WORKS_YAML)
    keys = keys_for(home)
    with running_server(home, env={"CLEARANCE_RATE_PER_S": "1000", "CLEARANCE_RATE_BURST": "1000"}) as url:
        yield url, keys, home


def client(service: tuple, who: str) -> ClearanceClient:
    url, keys, _ = service
    return ClearanceClient(url, keys[who])


def test_screening_routes(service: tuple) -> None:
    url = service[0]
    spec = httpx.get(f"{url}/openapi.json").json()
    assert spec["paths"]["/v1/screen/prompt"]["post"]["security"] == [{"api_key": []}]  # /docs can send a key
    assert spec["components"]["securitySchemes"]["api_key"] == {**spec["components"]["securitySchemes"]["api_key"],
                                                                "type": "http", "scheme": "bearer"}
    operations = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(operations) == len(set(operations))  # GET and HEAD /healthz shared one id: an invalid document
    assert "security" not in spec["paths"]["/healthz"]["get"]
    assert "swagger" in httpx.get(f"{url}/docs").text.lower()
    with client(service, "acme") as acme:
        assert acme.health()["status"] == "ok"
        verdict = acme.screen_prompt("Eleven from Stranger Things", negative_prompt="blurry")
        assert verdict.action == "block" and verdict.audit_id and verdict.negative_prompt.startswith("blurry")
        media = acme.screen_media(DATA / "images" / "copies" / "ref_001_crop.jpg")
        assert media.action == "block" and media.matches[0].work_id == "squid-game"
        bad = acme.screen_media(b"not an image", filename="x.bin")
        assert bad.action == "review" and bad.error
        assert acme.audit(verdict.audit_id)["matches"][0]["work_id"] == "stranger-things"
    odd = httpx.post(f"{url}/v1/screen/prompt", content=b'{"prompt": "\\ud800 Eleven from Stranger Things"}',
                     headers={"Authorization": f"Bearer {service[1]['acme']}", "Content-Type": "application/json"})
    assert odd.status_code == 422 and odd.json()["error"]["code"] == "invalid_request"  # not valid Unicode: refused

    async def async_round() -> str:
        async with AsyncClearanceClient(service[0], service[1]["globex"]) as globex:
            return (await globex.screen_prompt("a golden retriever on a beach")).action

    assert asyncio.run(async_round()) == "allow"


def test_a_media_form_holds_one_file_and_nothing_else(service: tuple) -> None:
    """FastAPI answered a form of two files for the last one alone: a blocking picture followed by a
    clean one was answered ``allow``. Extra parts and a second file are refused, before screening."""
    url, keys, _ = service
    headers = {"Authorization": f"Bearer {keys['acme']}"}
    copy = (DATA / "images" / "copies" / "ref_001_crop.jpg").read_bytes()
    clean = (DATA / "images" / "distractors" / "dis_000.jpg").read_bytes()
    forms = [[("file", ("copy.jpg", copy)), ("file", ("clean.jpg", clean))],
             [("file", ("copy.jpg", copy)), ("prompt", (None, b"x"))]]
    for files in forms:
        answer = httpx.post(f"{url}/v1/screen/media", files=files, headers=headers)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_request", answer.text
        assert "exactly one part" in answer.json()["error"]["message"]
    one = httpx.post(f"{url}/v1/screen/media", files=[("file", ("copy.jpg", copy))], headers=headers, timeout=120)
    assert one.status_code == 200 and one.json()["action"] == "block"
    assert httpx.head(f"{url}/healthz").status_code == 200  # load balancers check health with HEAD


def test_the_client_keeps_an_id_in_its_own_path_segment_and_reads_a_str_path(service: tuple) -> None:
    """``audit("../works")`` answered the works list and ``audit("x?y=1")`` looked up ``x``: ids are
    now escaped whole. ``screen_media("out.jpg")`` sent the ten bytes of the name: a ``str`` is a path."""
    with client(service, "admin") as admin:
        for odd in ("../works", "..", "x?y=1", "a/b", "%2E%2E"):
            for call in (admin.audit, admin.work):
                with pytest.raises(ClearanceError) as err:
                    call(odd)
                assert err.value.status == 404 and err.value.code == "not_found", (odd, err.value)
        verdict = admin.screen_media(str(DATA / "images" / "copies" / "ref_001_crop.jpg"))
        assert verdict.action == "block" and verdict.path == "ref_001_crop.jpg"


def test_a_key_given_twice_is_refused_and_the_client_raises_only_its_own_error(service: tuple) -> None:
    """``{"prompt": "Eleven from Stranger Things", "prompt": "a cat"}`` was screened as "a cat" (Python's
    json keeps the last key; a gateway reading the first would generate the other). The client raised
    ``UnicodeEncodeError`` for a lone surrogate and ``JSONDecodeError`` for a 200 that was no JSON (a
    proxy's page) instead of ``ClearanceError`` (black-box QA pass 3)."""
    url, keys, _ = service
    headers = {"Authorization": f"Bearer {keys['acme']}", "Content-Type": "application/json"}
    twice = httpx.post(f"{url}/v1/screen/prompt", headers=headers,
                       content=b'{"prompt": "Eleven from Stranger Things", "prompt": "a cat"}')
    assert twice.status_code == 422 and "'prompt' is given twice" in twice.json()["error"]["message"], twice.text
    with client(service, "acme") as acme:
        with pytest.raises(ClearanceError) as err:
            acme.screen_prompt("Eleven \ud800 from Stranger Things")
        assert err.value.status == 422 and err.value.code == "invalid_request"
    for body, says in ((b"<html>please log in</html>", "please log in"), (b"[1, 2]", "not a JSON dict"),
                       (b'{"action": "allow"}', "no score, matches, versions"),
                       (b'{"action": "allow", "score": 0, "matches": [], "versions": {}, "error": "x"}',
                        "an allow with an error"),
                       (b'{"action": "allow", "score": "0.0", "matches": [], "versions": {}}', "score"),
                       (b'{"action": "allow", "score": 7.5, "matches": [], "versions": {}}', "outside 0 to 1"),
                       (b'{"action": "block", "score": 0.9, "matches": [], "versions": {}, "action": "allow"}',
                        "given twice")):
        with _answering(body) as page, ClearanceClient(page, "key") as proxied:
            with pytest.raises(ClearanceError) as err:
                proxied.screen_prompt("a cat")
            assert err.value.code == "invalid_response" and says in err.value.message


def test_whatever_goes_wrong_the_client_raises_its_own_error(service: tuple) -> None:
    """So a platform that treats ``ClearanceError`` as ``review`` fails closed. Black-box QA pass,
    2026-12-08: a verdict without its fields (``{"action": "allow"}``, from a gateway) was an
    ``allow``; ``audit`` returned any JSON; an unreachable service raised httpx's ``ConnectError``;
    ``screen_prompt(None)`` an ``AttributeError``; and ``/v1/works/`` answered a bare 307."""
    verdict = b'{"action": "allow", "score": 0.0, "matches": [], "versions": {}}'
    with _answering(b"[1, 2]") as page, ClearanceClient(page, "key") as proxied:
        for method in (proxied.audit, proxied.work, proxied.import_registry):
            with pytest.raises(ClearanceError) as err:
                method("x")
            assert err.value.code == "invalid_response", method
    with _answering(b"[1, 2]") as page, ClearanceClient(page, "key") as proxied, pytest.raises(ClearanceError) as err:
        proxied.works()  # a list, of no works
    assert err.value.code == "invalid_response"
    with _answering(b"[" * 100_000 + b"]" * 100_000) as page, ClearanceClient(page, "key") as proxied:
        with pytest.raises(ClearanceError) as err:  # Python's JSON reader raised RecursionError
            proxied.screen_prompt("a cat")
        assert err.value.code == "invalid_response"
    with _answering(verdict) as page, ClearanceClient(page, "key") as proxied:
        for method in (proxied.audit, proxied.work, proxied.import_registry):  # another answer's shape
            with pytest.raises(ClearanceError) as err:
                method("x")
            assert err.value.code == "invalid_response" and "no " in err.value.message, method
    for how in ("cut", "gzip", "trickle"):  # httpx's RemoteProtocolError, DecodingError; an allow after 42 s
        with _answering(verdict, how) as page, ClearanceClient(page, "key", timeout=1) as proxied:
            started = time.monotonic()
            with pytest.raises(ClearanceError) as err:
                proxied.screen_prompt("a cat")
            assert err.value.code == "unreachable" and time.monotonic() - started < 3, how
    with ClearanceClient("http://127.0.0.1:9", "key", timeout=5) as nowhere, pytest.raises(ClearanceError) as err:
        nowhere.screen_prompt("a cat")
    assert (err.value.status, err.value.code) == (0, "unreachable") and "ConnectError" in err.value.message

    async def unreachable_async() -> ClearanceError:
        async with AsyncClearanceClient("http://127.0.0.1:9", "key", timeout=5) as nowhere:
            with pytest.raises(ClearanceError) as err:
                await nowhere.screen_prompt("a cat")
            return err.value
    assert asyncio.run(unreachable_async()).code == "unreachable"
    url, keys, _ = service
    with client(service, "acme") as acme, pytest.raises(ClearanceError) as err:
        acme.screen_prompt(None)  # type: ignore[arg-type]
    assert (err.value.status, err.value.code) == (422, "invalid_request")
    slashed = httpx.get(f"{url}/v1/works/", headers={"Authorization": f"Bearer {keys['admin']}"})
    assert slashed.status_code == 404 and slashed.json()["error"]["code"] == "not_found"


def test_a_file_name_that_is_not_utf8_is_sent_escaped(service: tuple, tmp_path: Path) -> None:
    """The client raised ``UnicodeEncodeError`` for a file named with a byte that is not UTF-8 (a
    second black-box pass, 2026-12-07); the CLI screens such names. It is sent as the CLI shows it."""
    odd = tmp_path / os.fsdecode(b"bad\xff.jpg")
    odd.write_bytes((DATA / "images" / "copies" / "ref_001_crop.jpg").read_bytes())
    with client(service, "acme") as acme:
        verdict = acme.screen_media(odd)
    assert verdict.action == "block" and verdict.path == "bad\\xff.jpg"


@contextmanager
def _answering(body: bytes, how: str = "whole") -> Iterator[str]:
    """A web server answering every request 200 with ``body`` (a proxy's login page, say): ``whole``,
    ``cut`` (the connection closed before the length it announced), ``gzip`` (said to be gzip, and
    not) or ``trickle`` (a byte every 0.1 s)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body) + (100 if how == "cut" else 0)))
            if how == "gzip":
                self.send_header("Content-Encoding", "gzip")
            self.end_headers()
            for at in range(len(body)) if how == "trickle" else ():
                self.wfile.write(body[at : at + 1])
                self.wfile.flush()
                time.sleep(0.1)
            self.wfile.write(b"" if how == "trickle" else body)
            self.close_connection = True

        do_GET = do_POST

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_api_import_never_looks_at_server_files(service: tuple, tmp_path: Path) -> None:
    """References in a registry sent over the API were refused only after their paths were checked and
    decoded, and the answer said what was there ("file not found", "not a readable image"): a
    rights holder's key could probe the server's files. Every path now gets the same answer."""
    (tmp_path / "secret.txt").write_text("not an image")
    answers = set()
    with client(service, "netflix") as netflix:
        for path in ("/nonexistent/x.jpg", str(tmp_path / "secret.txt"), "/etc/hostname",
                     str(DATA / "images" / "ref" / "ref_000.jpg"), "ref_000.jpg"):
            with pytest.raises(ClearanceError) as err:
                netflix.import_registry(f"version: 1\nworks:\n  - id: zz\n    title: Zz Qqq\n    owner: Netflix\n"
                                        f"    references:\n      - path: {path}\n        kind: image\n")
            assert err.value.status == 422
            answers.add(err.value.message)
    assert answers == {"request body:7: works[0].references: reference media cannot be imported over the API; "
                       "use `clearance registry import`"}


def test_an_api_update_of_a_work_keeps_its_reference_media(service: tuple) -> None:
    """A document sent over the API cannot carry media, and was read as the whole work: adding an
    alias deleted every reference still, and copies of them then screened ``allow``. A kept reference
    must still show a character of the work: a document that renames or drops one a reference shows
    is refused, as the file importer refuses it, and changes nothing (the reference went on citing
    the character in verdicts)."""
    home = service[2]
    copy = DATA / "images" / "copies" / "ref_005_crop.jpg"
    [before] = Screener(home).registry.get("frozen", owner="Disney")
    update = ("version: 1\nworks:\n  - id: frozen\n    title: Frozen\n    owner: Disney\n    kind: film\n"
              "    policy: block\n    aliases: [\"La Reine des neiges\"]\n    characters:\n"
              + "".join(f"      - name: {name}\n" for name in ("Elsa", "Anna", "Olaf", "Kristoff"))
              + "    elements:\n      - name: Let It Go\n")
    with client(service, "disney") as disney, client(service, "acme") as acme:
        assert before.references and acme.screen_media(copy).action == "block"
        assert disney.import_registry(update) == {"created": 0, "updated": 1, "unchanged": 0}
        assert disney.import_registry(update) == {"created": 0, "updated": 0, "unchanged": 1}
        [after] = Screener(home).registry.get("frozen", owner="Disney")
        assert after.references == before.references and after.aliases == ("La Reine des neiges",)
        assert acme.screen_media(copy).action == "block"
        with pytest.raises(ClearanceError) as err:
            disney.import_registry(update.replace("Olaf", "Olaf the Snowman"))
        assert err.value.status == 422 and "shows 'Olaf', which this document no longer has" in err.value.message
        assert Screener(home).registry.get("frozen", owner="Disney") == [after]
    Screener(home).registry.import_file(WORKS_YAML)  # the module's other tests read the file's Frozen


def test_roles_and_tenants_are_isolated(service: tuple) -> None:
    url, keys, home = service
    with client(service, "acme") as acme, client(service, "globex") as globex, \
            client(service, "netflix") as netflix, client(service, "disney") as disney, \
            client(service, "auditor") as auditor:
        acme_verdict = acme.screen_prompt("Vecna in the attic")
        for call in (lambda: globex.audit(acme_verdict.audit_id), lambda: disney.audit(acme_verdict.audit_id)):
            with pytest.raises(ClearanceError) as err:
                call()
            assert err.value.status == 404
        assert netflix.audit(acme_verdict.audit_id)["audit_id"] == acme_verdict.audit_id
        assert auditor.audit(acme_verdict.audit_id)["audit_id"] == acme_verdict.audit_id
        shared = acme.screen_prompt("Yoda and Vecna from Stranger Things")  # Lucasfilm's and Netflix's
        assert {m.owner for m in shared.matches} == {"Netflix", "Lucasfilm (Disney)"}
        as_netflix = netflix.audit(shared.audit_id)  # another owner's registry stays out of sight
        assert {m["owner"] for m in as_netflix["matches"]} == {"Netflix"} and as_netflix["other_owners_matches"]
        assert "Yoda" not in json.dumps(as_netflix["matches"]) and "negative_prompt" not in as_netflix
        assert {m["owner"] for m in auditor.audit(shared.audit_id)["matches"]} == {"Netflix", "Lucasfilm (Disney)"}
        assert {w["owner"] for w in netflix.works()} == {"Netflix"}
        assert len(auditor.works()) == 9
        assert auditor.work("frozen", owner="Disney")["owner"] == "Disney"
        for call in (lambda: netflix.work("frozen"), lambda: netflix.work("frozen", owner="Disney"),
                     lambda: auditor.work("frozen", owner="Netflix"),
                     lambda: netflix.work("stranger-things", owner="Disney")):  # answered Netflix's own
            with pytest.raises(ClearanceError) as err:
                call()
            assert err.value.status == 404 and err.value.code == "not_found"
        forbidden = [lambda: acme.works(), lambda: netflix.screen_prompt("x"), lambda: auditor.screen_prompt("x"),
                     lambda: acme.import_registry(NEW_WORK), lambda: disney.import_registry(NEW_WORK),
                     lambda: auditor.import_registry(NEW_WORK)]
        for call in forbidden:
            with pytest.raises(ClearanceError) as err:
                call()
            assert err.value.status == 403 and err.value.code == "forbidden"
    for key in (None, "clr_nope_nope", keys["revoked"], "Bearer-less"):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = httpx.post(f"{url}/v1/screen/prompt", json={"prompt": "x"}, headers=headers)
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"
    assert len(Screener(home).registry.works()) == 9, "no refused write landed"


def test_an_edited_audit_entry_is_served_with_what_is_wrong_with_it(service: tuple) -> None:
    """`GET /v1/audit/{id}` served an entry edited in the database as genuine, where `audit show`
    warns (a verify pass): the answer's `integrity` names the problem, and is null otherwise."""
    _, _, home = service
    with client(service, "acme") as acme, client(service, "auditor") as auditor:
        verdict = acme.screen_prompt("Vecna in the attic")
        assert verdict.action == "block" and auditor.audit(verdict.audit_id)["integrity"] is None
        where = {"a": verdict.audit_id}
        with session_factory(home.database_url).begin() as session:
            original = session.scalar(sqlalchemy_text("SELECT payload FROM audit_log WHERE audit_id = :a"), where)
            session.execute(sqlalchemy_text("UPDATE audit_log SET payload = :p WHERE audit_id = :a"),
                            {**where, "p": original.replace('"block"', '"allow"')})
        try:
            served = auditor.audit(verdict.audit_id)
            with session_factory(home.database_url).begin() as session:  # a 500 and a traceback before
                session.execute(sqlalchemy_text("UPDATE audit_log SET payload = '{not json' WHERE audit_id = :a"),
                                where)
            unreadable = auditor.audit(verdict.audit_id)
        finally:
            with session_factory(home.database_url).begin() as session:
                session.execute(sqlalchemy_text("UPDATE audit_log SET payload = :p WHERE audit_id = :a"),
                                {**where, "p": original})
    assert served["action"] == "allow" and served["integrity"] == "content does not match its hash (edited)"
    assert unreadable["payload"] == "{not json" and unreadable["integrity"] == served["integrity"]


def test_registry_import_is_picked_up_without_restart(service: tuple) -> None:
    with client(service, "netflix") as netflix, client(service, "acme") as acme:
        assert acme.screen_prompt("Captain Zorblax waving").action == "allow"
        assert netflix.import_registry(NEW_WORK) == {"created": 1, "updated": 0, "unchanged": 0}
        assert netflix.work("moon-rangers")["title"] == "Moon Rangers"
        time.sleep(0.6)  # the server re-reads the registry revision at most every 0.5 s
        assert acme.screen_prompt("Captain Zorblax waving").action == "block"
        with pytest.raises(ClearanceError) as err:
            netflix.import_registry("version: 1\nworks:\n  - id: X\n")
        assert err.value.status == 422 and "works[0].id" in err.value.message


def test_an_import_through_the_api_is_enforced_by_every_screening_process_once_it_returns(tmp_path: Path) -> None:
    """No waiting for the registry revision to be re-read: the import answers only after every
    screening process has caught up, so the next screenings, whichever process takes them, block."""
    home = Home.resolve(tmp_path / "home")
    Screener(home).registry.import_file(WORKS_YAML)
    keys = keys_for(home)
    with running_server(home, workers=2) as url, ClearanceClient(url, keys["netflix"]) as netflix, \
            ClearanceClient(url, keys["acme"]) as acme, ThreadPoolExecutor(4) as side:
        _wait_until_ready(acme)
        assert set(side.map(lambda _: acme.screen_prompt("Captain Zorblax waving").action, range(8))) == {"allow"}
        assert netflix.import_registry(NEW_WORK)["created"] == 1
        after = list(side.map(lambda _: acme.screen_prompt("Captain Zorblax waving").action, range(8)))
    assert after == ["block"] * 8


def test_an_idle_server_screens_its_first_request_after_a_cli_import_against_the_new_registry(
        tmp_path: Path) -> None:
    """A change made elsewhere (the CLI) while the server is idle: each screening process follows
    the registry in the background, so the first request after it, however long after, is screened
    against the new registry (it was allowed against the old one, and only the second blocked)."""
    home = Home.resolve(tmp_path / "home")
    Screener(home).registry.import_file(WORKS_YAML)
    keys = keys_for(home)
    with running_server(home) as url, ClearanceClient(url, keys["acme"]) as acme:
        _wait_until_ready(acme)
        assert acme.screen_prompt("Captain Zorblax waving").action == "allow"
        (tmp_path / "new.yaml").write_text(NEW_WORK)
        Screener(home).registry.import_file(tmp_path / "new.yaml")
        time.sleep(5 * FRESHNESS_S)  # idle: no request asks for the revision
        verdict = acme.screen_prompt("Captain Zorblax waving")
    assert verdict.action == "block", verdict


def tmp_path_of(home: Home) -> Path:
    """A folder beside the home, for files a test writes."""
    return home.root.parent


def test_a_rights_holder_reads_its_own_works_in_a_registry_change(service: tuple) -> None:
    """An import of a file of several owners' works is one audit entry listing them all: a rights
    holder read every other owner's works and policies in it, and the server's file path (a
    black-box pass, 2026-12-07). It sees its own works and how many others there were."""
    home = service[2]
    registry = Screener(home).registry

    def latest_change() -> str:
        with AuditLog(session_factory(home.database_url)).sessions() as session:
            return session.execute(sqlalchemy_text(
                "SELECT audit_id FROM audit_log WHERE kind = 'registry' ORDER BY seq DESC LIMIT 1")).scalar_one()

    def netflix_key_id() -> str:
        return next(k.key_id for k in KeyStore(session_factory(home.database_url)).list()
                    if k.tenant == "Netflix" and k.role == "rights_holder")

    two_owners = tmp_path_of(home) / "two-owners.yaml"
    two_owners.write_text("version: 1\nworks:\n"
                          "  - {id: zeta, title: Zeta Quest, owner: Netflix, policy: block}\n"
                          "  - {id: eta, title: Eta Saga, owner: Paramount, policy: review}\n")
    registry.import_file(two_owners)
    change = latest_change()
    with client(service, "netflix") as netflix, client(service, "disney") as disney, \
            client(service, "admin") as admin:
        assert admin.audit(change)["source"] == str(two_owners)
        assert netflix.audit(change)["works"] == [{"owner": "Netflix", "id": "zeta", "outcome": "created",
                                                  "policy": "block"}]
        assert "source" not in netflix.audit(change) and netflix.audit(change)["other_owners_works"] == 1
        with pytest.raises(ClearanceError) as err:
            disney.audit(change)  # none of its works
        assert err.value.status == 404
        netflix.import_registry("version: 1\nworks:\n  - {id: theta, title: Theta Run, owner: Netflix}\n")
        own_import = latest_change()  # logged under the tenant "Netflix"
        assert netflix.audit(own_import)["works"][0]["id"] == "theta"
        assert netflix.audit(own_import)["by"] == {"via": "api", "key_id": netflix_key_id(), "role": "rights_holder",
                                                   "tenant": "Netflix"}
        admin.import_registry("version: 1\nworks:\n  - {id: theta, title: Theta Run, owner: Netflix, policy: allow}\n")
        by_admin = netflix.audit(latest_change())["by"]  # who switched its work to allow (QA pass 3)
        assert by_admin["role"] == "admin" and by_admin["tenant"] == "ops"
        assert netflix.audit(change)["by"] == {"via": "local"}  # not the server's user and host
    same_name = KeyStore(session_factory(home.database_url)).create("Netflix", "screener")[1]
    with ClearanceClient(service[0], same_name) as screener, pytest.raises(ClearanceError) as err:
        screener.audit(own_import)  # a screener reads its own verdicts, not a namesake's registry changes
    assert err.value.status == 404
    for slug in ("zeta", "eta", "theta"):
        registry.remove(slug)


def test_a_work_id_several_owners_use_needs_the_owner(service: tuple) -> None:
    """``GET /v1/works/ID`` returned whichever owner's work it found first; the CLI asks for the
    owner, and so does the API now (409 ``ambiguous``)."""
    other = NEW_WORK.replace("moon-rangers", "frozen").replace("Moon Rangers", "Frozen Planet").replace(
        "owner: Netflix", "owner: BBC").replace("Captain Zorblax", "Polar Bear Cub")
    with client(service, "admin") as admin:
        assert admin.import_registry(other)["created"] == 1
        with pytest.raises(ClearanceError) as err:
            admin.work("frozen")
        assert err.value.status == 409 and err.value.code == "ambiguous" and "BBC, Disney" in err.value.message
        assert admin.work("frozen", owner="BBC")["title"] == "Frozen Planet"
        assert admin.work("frozen", owner="Disney")["title"] == "Frozen"
    with client(service, "disney") as disney:
        assert disney.work("frozen")["title"] == "Frozen"  # a rights holder sees its own only
    Screener(service[2]).registry.remove("frozen", owner="BBC")


def test_an_owner_whose_name_starts_like_a_tenants_stays_apart(service: tuple) -> None:
    """Audit entries name works as ``owner/slug``; owner names are free text and may hold a slash, so
    a rights holder's entries are those whose owner is exactly its tenant, not a prefix of it."""
    lookalike = NEW_WORK.replace("moon-rangers", "zog").replace("Moon Rangers", "Zog").replace(
        "owner: Netflix", "owner: Disney/Elsewhere").replace("Captain Zorblax", "Zog Blorpington")
    with client(service, "admin") as admin, client(service, "acme") as acme, client(service, "disney") as disney:
        assert admin.import_registry(lookalike)["created"] == 1
        time.sleep(0.6)  # the server re-reads the registry revision at most every 0.5 s
        verdict = acme.screen_prompt("Zog Blorpington waving")
        assert verdict.action == "block" and verdict.matches[0].owner == "Disney/Elsewhere"
        with pytest.raises(ClearanceError) as err:
            disney.audit(verdict.audit_id)
        assert err.value.status == 404


def test_licences_and_limits(service: tuple) -> None:
    url, keys, home = service
    Screener(home).registry.grant_licence("acme", "frozen")
    time.sleep(FRESHNESS_S + 0.1)  # a running server sees licences granted elsewhere within FRESHNESS_S
    with client(service, "acme") as acme, client(service, "globex") as globex:
        assert acme.screen_prompt("Elsa building an ice palace").action == "allow"
        assert globex.screen_prompt("Elsa building an ice palace").action == "block"
    big = httpx.post(f"{url}/v1/screen/prompt", content=b'{"prompt": "' + b"a" * (2 << 20) + b'"}',
                     headers={"Authorization": f"Bearer {keys['acme']}", "Content-Type": "application/json"})
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"
    odd = httpx.post(f"{url}/v1/screen/prompt", json={"prompt": "x", "colour": 1},
                     headers={"Authorization": f"Bearer {keys['acme']}"})
    assert odd.status_code == 422 and odd.json()["error"]["code"] == "invalid_request"


def test_keys_cli_shows_a_key_once_and_stores_only_its_hash(home: Home) -> None:
    runner, where = CliRunner(), ["--home", str(home.root)]
    created = runner.invoke(app, ["keys", "create", "--tenant", "acme", "--role", "screener", *where])
    assert created.exit_code == 0, created.output
    key = created.output.split()[-1]
    key_id = key.split("_")[1]
    listed = runner.invoke(app, ["keys", "list", *where])
    assert key_id in listed.output and key not in listed.output
    with sqlite3.connect(home.root / "clearance.db") as db:
        stored = " ".join(str(value) for row in db.execute("SELECT * FROM api_keys") for value in row)
    assert key not in stored and key.split("_", 2)[2] not in stored
    store = KeyStore(session_factory(home.database_url))
    assert store.authenticate(key).tenant == "acme"
    assert runner.invoke(app, ["keys", "revoke", key_id, *where]).exit_code == 0
    assert store.authenticate(key) is None
    assert runner.invoke(app, ["keys", "create", "--tenant", "acme", "--role", "root", *where]).exit_code != 0
    assert runner.invoke(app, ["keys", "revoke", "nope", *where]).exit_code != 0


def test_limits_revocation_and_failing_closed(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home")
    store = KeyStore(session_factory(home.database_url))
    key, (other_id, other) = store.create("acme", "screener")[1], store.create("globex", "screener")
    env = {"CLEARANCE_RATE_PER_S": "2", "CLEARANCE_RATE_BURST": "3", "CLEARANCE_KEY_CACHE_S": "0.3",
           "CLEARANCE_MAX_UPLOAD_BYTES": "100000"}
    with running_server(home, env=env) as url:
        responses = [httpx.get(f"{url}/v1/audit/x", headers={"Authorization": f"Bearer {key}"}) for _ in range(8)]
        assert [r.status_code for r in responses[:3]] == [404, 404, 404]
        assert {r.json()["error"]["code"] for r in responses[3:] if r.status_code == 429} == {"rate_limited"}
        with ClearanceClient(url, key) as acme, ClearanceClient(url, other) as globex:
            with pytest.raises(ClearanceError) as err:  # 243 KB over a 100 KB cap
                acme.screen_media(DATA / "images" / "ref" / "ref_016.jpg")
            assert err.value.status == 413 and err.value.code == "payload_too_large"
            assert globex.screen_prompt("a cat on a sofa").action == "allow"
            store.revoke(other_id)
            time.sleep(0.5)  # revocation reaches a running server within the key cache's lifetime
            with pytest.raises(ClearanceError) as err:
                globex.screen_prompt("a cat on a sofa")
            assert err.value.status == 401
            time.sleep(1.5)  # refill acme's bucket
            with sqlite3.connect(home.root / "clearance.db") as db:  # the audit log becomes unwritable
                db.execute("ALTER TABLE audit_log RENAME TO audit_log_gone")
            verdict = acme.screen_prompt("a cat on a sofa")
            assert verdict.action == "review" and "screening failed" in verdict.error and verdict.audit_id is None


def test_schemathesis_finds_no_server_errors(service: tuple) -> None:
    url, keys, _ = service
    cmd = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{url}/openapi.json", "-H",
           f"Authorization: Bearer {keys['admin']}", "--checks", "not_a_server_error", "--max-examples", "15",
           "--seed", "1"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]


def test_workers_share_each_keys_rate_limit(tmp_path: Path) -> None:
    """With two screening processes a key still gets one bucket: a burst of 6 is 6 answers in all.
    A refusal says when to try again (``Retry-After``, and the client's ``retry_after``)."""
    home = Home.resolve(tmp_path / "home")
    key = KeyStore(session_factory(home.database_url)).create("acme", "screener")[1]
    env = {"CLEARANCE_RATE_PER_S": "0.01", "CLEARANCE_RATE_BURST": "6"}
    with running_server(home, workers=2, env=env) as url:
        responses = [httpx.get(f"{url}/v1/audit/x", headers={"Authorization": f"Bearer {key}"}) for _ in range(30)]
        with ClearanceClient(url, key) as client, pytest.raises(ClearanceError) as refused:
            client.screen_prompt("a cat on a sofa")
    assert [r.status_code for r in responses] == [404] * 6 + [429] * 24
    # when to try again: one token comes back after ~100 s at 0.01 requests/s
    assert all(90 <= int(r.headers["retry-after"]) <= 100 for r in responses[6:])
    assert refused.value.code == "rate_limited" and 90 <= (refused.value.retry_after or 0) <= 100


def test_a_long_prompt_costs_a_key_more_of_its_rate(tmp_path: Path) -> None:
    """A 2,000-character prompt costs 16 tokens (1 + 15 per 100 characters past 500), so a key with a
    burst of 20 is refused a second one and still let in with a short one."""
    home = Home.resolve(tmp_path / "home")
    key = KeyStore(session_factory(home.database_url)).create("acme", "screener")[1]
    long_prompt = ("a cat on a sofa " * 125)[:2000]
    env = {"CLEARANCE_RATE_PER_S": "0.01", "CLEARANCE_RATE_BURST": "20"}
    with running_server(home, env=env) as url, ClearanceClient(url, key) as client:
        assert client.screen_prompt(long_prompt).action == "allow"
        with pytest.raises(ClearanceError) as refused:
            client.screen_prompt(long_prompt)
        assert refused.value.code == "rate_limited" and "costs 15" in str(refused.value)
        assert client.screen_prompt("a cat on a sofa").action == "allow"


def test_two_workers_on_postgresql_keep_one_audit_chain(pg_url: str, tmp_path: Path) -> None:
    home, key = works_and_key(tmp_path / "home", pg_url)
    prompts = ["Vecna in the attic", "a cat on a sofa", "Squid Game doll", "a red traffic light"] * 10
    with running_server(home, workers=2) as url, ClearanceClient(url, key) as c, ThreadPoolExecutor(8) as pool:
        _wait_until_ready(c)  # a request queued while both processes load may time out (review) on a slow CPU
        actions = list(pool.map(lambda p: c.screen_prompt(p).action, prompts))
        keep_alive = []
        for _ in range(20):
            start = time.perf_counter()
            c.health()
            keep_alive.append(time.perf_counter() - start)
    assert actions.count("block") == 20
    # without TCP_NODELAY on the accepted connections each keep-alive answer waits ~40 ms
    assert sorted(keep_alive)[10] < 0.02, sorted(keep_alive)
    result = AuditLog(session_factory(home.database_url)).verify()
    assert result.ok and result.entries == len(prompts) + 1  # and the registry import's entry


def _listening(port: int) -> int:
    """How many sockets listen on this loopback TCP port (from /proc/net/tcp; state 0A is LISTEN)."""
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return sum(row[1] == f"0100007F:{port:04X}" and row[3] == "0A" for row in rows)


def _workers_of(server: int) -> list[int]:
    """The server's screening processes (not multiprocessing's resource tracker)."""
    out = subprocess.run(["ps", "-ww", "-o", "pid=,args=", "--ppid", str(server)], capture_output=True, text=True)
    return [int(line.split()[0]) for line in out.stdout.splitlines() if "spawn_main" in line]


def test_a_second_server_on_the_port_is_refused(tmp_path: Path) -> None:
    """One process listens (screening runs in its pool); a second `clearance serve` on the port
    is a clear error, and an unknown host too."""
    home = Home.resolve(tmp_path / "home")
    with running_server(home, workers=2) as url:
        port = int(url.rsplit(":", 1)[1])
        assert _listening(port) == 1
        second = subprocess.run([sys.executable, "-m", "clearance.cli.main", "serve", "--port", str(port),
                                 "--workers", "2", "--home", str(home.root)], capture_output=True, text=True,
                                timeout=120)
        assert second.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in second.stderr
        assert _listening(port) == 1 and httpx.get(f"{url}/healthz").status_code == 200
    unknown = CliRunner().invoke(app, ["serve", "--host", "no-such-host.invalid", "--home", str(home.root)])
    assert unknown.exit_code == 2 and "cannot listen on no-such-host.invalid:8000" in unknown.output


def test_a_screening_process_that_dies_is_replaced_and_what_it_held_fails_closed(tmp_path: Path) -> None:
    """kill -9 of the screening processes while one screens a long prompt: that request answers
    `review` with the reason (never `allow`), new processes take over, and later requests are
    screened as before."""
    home, key = works_and_key(tmp_path / "home")
    long_prompt = ("a quiet walk through an old forest at dawn with mist over the river " * 300)[:19_000]
    with serving(home, workers=2) as (url, server), ClearanceClient(url, key) as c, ThreadPoolExecutor(1) as side:
        first = _workers_of(server.pid)
        held = side.submit(c.screen_prompt, long_prompt)
        time.sleep(0.3)
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        lost = held.result(timeout=60)
        _wait_until_ready(c)
        later = [c.screen_prompt("Vecna in the attic").action for _ in range(8)]
        now = _workers_of(server.pid)
    assert lost.action == "review" and "exited" in (lost.error or ""), lost
    assert later == ["block"] * 8
    assert len(now) == 2 and not set(now) & set(first)


def test_a_server_stopped_with_sigterm_leaves_no_model_in_the_temporary_directory(tmp_path: Path) -> None:
    """With the model cache unwritable (a read-only home), each screening process builds its models
    into a temporary directory of its own; SIGTERM to the server's group (how `serving` and
    service managers stop it) lets every process remove its directory."""
    home, key = works_and_key(tmp_path / "home")
    env, scratch = unwritable_model_cache(tmp_path)
    with serving(home, workers=1, env=env) as (url, _), ClearanceClient(url, key) as c:
        _wait_until_ready(c)
        assert c.screen_prompt("Vecna in the attic").action == "block"
        assert model_scratch_dirs(scratch)  # it did build there
    assert model_scratch_dirs(scratch) == []


def test_sigterm_to_the_whole_group_answers_every_request_in_flight(tmp_path: Path) -> None:
    """systemd and ``timeout`` stop a service by SIGTERM to its whole process group. The screening
    processes took it as the order to exit at once: requests they had not yet read failed ("the
    screening process exited"), and the server started new processes while it was stopping. They
    now answer until the server, done with its requests, stops them by message."""
    home, key = works_and_key(tmp_path / "home")
    clips = sorted((DATA / "video" / "copies").glob("*.mp4"))[:8]
    with serving(home, workers=1) as (url, server), ClearanceClient(url, key) as c:
        _wait_until_ready(c)
        with ThreadPoolExecutor(len(clips)) as pool:
            answers = [pool.submit(lambda clip=clip: ClearanceClient(url, key, timeout=120).screen_media(clip))
                       for clip in clips]
            time.sleep(0.5)  # every request sent; the one process holds two and the server queues the rest
            os.killpg(server.pid, signal.SIGTERM)
            verdicts = [a.result() for a in answers]
        server.wait(timeout=60)  # uvicorn re-raises the SIGTERM it caught once it has shut down
    assert all(v.error is None and v.audit_id for v in verdicts), [v.error for v in verdicts]
    assert "starting another" not in server_log(home).read_text()


def test_the_pool_holds_a_burst_in_one_queue_and_answers_all_of_it(tmp_path: Path) -> None:
    """A burst wider than the processes' slots waits in the HTTP process (so whichever screening
    process comes free takes the next request) rather than piling up inside one process; every
    request is answered, in its own verdict."""
    home = Home.resolve(tmp_path / "home")
    Screener(home).registry.import_file(WORKS_YAML)
    prompts = ["Vecna in the attic", "a cat on a sofa"] * 6

    async def burst() -> tuple[list[str], int, int]:
        pool = ScreeningPool(home, 2, 30)
        pool.start()
        try:
            await asyncio.gather(*(p.ready for p in pool.processes))
            calls = [asyncio.ensure_future(pool.call("screen_prompt", p)) for p in prompts]
            await asyncio.sleep(0)  # every call has taken a slot or joined the queue
            most_held = max(len(p.waiting) for p in pool.processes)
            queued = pool.queued
            return [v.action for v in await asyncio.gather(*calls)], most_held, queued
        finally:
            pool.close()

    actions, most_held, queued = asyncio.run(burst())
    assert actions == ["block", "allow"] * 6
    assert most_held == IN_FLIGHT and queued == len(prompts) - 2 * IN_FLIGHT


def test_prompts_are_screened_while_long_media_hold_every_media_slot(tmp_path: Path) -> None:
    """Media and prompts have slots of their own in each process (``LANES``): with every media slot
    held by long videos, a third video waits in the queue, and a prompt sent after it is screened
    at once. With one set of slots the prompt waited for a video to finish (a QA pass saw another
    tenant's prompt time out after 30 s behind one key's videos)."""
    home = Home.resolve(tmp_path / "home")
    Screener(home).registry.import_file(WORKS_YAML)
    clip = _looped(DATA / "video" / "ref" / "vref_04.mp4", tmp_path / "long.mp4", times=4)  # ~48 s

    async def videos_then_a_prompt() -> tuple[str, list[bool], int, list[str]]:
        pool = ScreeningPool(home, 1, 120)
        pool.start()
        try:
            await asyncio.gather(*(p.ready for p in pool.processes))
            videos = [asyncio.ensure_future(pool.call("screen_media", clip.read_bytes(), name=f"v{i}.mp4"))
                      for i in range(IN_FLIGHT + 1)]
            while pool.queued < 1:  # every media slot taken, the last video queued
                await asyncio.sleep(0.01)
            prompt = await pool.call("screen_prompt", "Vecna in the attic")
            still_screening = [not v.done() for v in videos]
            queued = pool.queued
            return prompt.action, still_screening, queued, [v.action for v in await asyncio.gather(*videos)]
        finally:
            pool.close()

    prompt, still_screening, queued, videos = asyncio.run(videos_then_a_prompt())
    assert prompt == "block" and all(still_screening) and queued == 1
    assert videos == ["block"] * (IN_FLIGHT + 1)  # a loop of a registered clip: every video is still screened


def test_a_freed_media_slot_goes_to_the_tenant_holding_fewest(tmp_path: Path) -> None:
    """With every media slot held by one tenant's videos and two more of them queued, another
    tenant's image takes the first slot that comes free; in arrival order it waited behind both
    queued videos (a verify pass saw such an image time out, `review`, behind 720 s videos)."""
    home = Home.resolve(tmp_path / "home")
    Screener(home).registry.import_file(WORKS_YAML)
    clip = _looped(DATA / "video" / "ref" / "vref_04.mp4", tmp_path / "long.mp4", times=2)  # ~24 s
    image = (DATA / "images" / "copies" / "ref_000_color.jpg").read_bytes()

    async def videos_then_an_image() -> list[str]:
        pool = ScreeningPool(home, 1, 120)
        pool.start()
        finished: list[str] = []

        async def screen(data: bytes, name: str, tenant: str) -> None:
            await pool.call("screen_media", data, name=name, tenant=tenant)
            finished.append(name)
        try:
            await asyncio.gather(*(p.ready for p in pool.processes))
            calls = [asyncio.ensure_future(screen(clip.read_bytes(), f"v{i}", "a")) for i in range(IN_FLIGHT + 2)]
            while pool.queued < 2:  # the first videos hold every media slot, two more wait
                await asyncio.sleep(0.01)
            calls.append(asyncio.ensure_future(screen(image, "image", "b")))
            await asyncio.gather(*calls)
            return finished
        finally:
            pool.close()

    finished = asyncio.run(videos_then_an_image())
    queued = [finished.index(f"v{i}") for i in range(IN_FLIGHT, IN_FLIGHT + 2)]
    assert finished.index("image") < min(queued), finished  # before both videos queued ahead of it


def test_a_screening_that_runs_past_the_time_limit_answers_review_and_its_process_is_replaced(
        tmp_path: Path) -> None:
    """A request still unanswered after the screening time limit answers `review`, and the process
    working on it is taken for stuck and replaced, so it cannot hold its slots for good."""
    home, key = works_and_key(tmp_path / "home")
    slow = ("a quiet walk through an old forest at dawn with mist over the river " * 300)[:19_000]  # ~1-2 s
    with serving(home, workers=1, env={"CLEARANCE_SCREEN_TIMEOUT_S": "0.3"}) as (url, server), \
            ClearanceClient(url, key) as c:
        _wait_until_ready(c)
        first = _workers_of(server.pid)
        late = c.screen_prompt(slow)
        deadline = time.time() + 60
        while time.time() < deadline and _workers_of(server.pid) in ([], first):
            time.sleep(0.2)
        replaced = _workers_of(server.pid)
        _wait_until_ready(c)
        after = c.screen_prompt("Vecna in the attic")
        clip = _looped(DATA / "video" / "ref" / "vref_04.mp4", tmp_path / "long.mp4", times=8)  # ~96 s
        late_clip = c.screen_media(clip)  # its review named no upload: "id": "", no path (a second QA pass)
    assert late_clip.action == "review" and late_clip.path == clip.name and late_clip.id is None
    assert late.action == "review" and "timed out" in (late.error or "")
    logged = AuditLog(session_factory(home.database_url)).get(late.audit_id)  # it left no trace (QA pass 3)
    assert logged.kind == "prompt" and logged.tenant == "acme" and json.loads(logged.payload)["error"] == late.error
    assert len(replaced) == 1 and replaced != first
    assert after.action == "block"
    assert "did not answer in 0.3 s; replacing it" in server_log(home).read_text()


def _looped(source: Path, target: Path, times: int) -> Path:
    """A real clip's frames played ``times`` over, as one long video: screening it outlasts a short
    time limit on any machine."""
    import av

    with av.open(str(source)) as clip:
        frames = [frame.to_ndarray(format="rgb24") for frame in clip.decode(video=0)]
    with av.open(str(target), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for _ in range(times):
            for image in frames:
                out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode())
    return target


def _wait_until_ready(client: ClearanceClient) -> None:
    deadline = time.time() + 120
    while time.time() < deadline and not client.health()["ready"]:
        time.sleep(0.2)


def test_a_pool_that_cannot_start_fails_closed_and_does_not_respawn_forever(tmp_path: Path) -> None:
    """A screening process that reports it cannot start (here: its database refuses connections)
    is not restarted; processes killed again and again before they are ready are restarted only
    ``MAX_EARLY_DEATHS`` times. Either way a request then fails with a clear error, which the
    route answers as `review`."""
    broken = Home.resolve(tmp_path / "broken", f"postgresql://nobody@127.0.0.1:{_free_port()}/none")

    async def cannot_start() -> tuple[str, bool, str]:
        pool = ScreeningPool(broken, 1, 30)
        pool.start()
        first = pool.processes[0]
        try:
            with pytest.raises(ScreeningUnavailableError) as started:
                await first.ready
            await asyncio.sleep(1)
            with pytest.raises(ScreeningUnavailableError) as refused:
                await pool.call("screen_prompt", "a cat")
            return str(started.value), pool.processes[0] is first, str(refused.value)
        finally:
            pool.close()

    started, same, refused = asyncio.run(cannot_start())
    assert "screening could not start" in started and same and "no screening process" in refused

    home = Home.resolve(tmp_path / "home")
    home.root.mkdir(parents=True, exist_ok=True)

    async def killed_while_loading() -> tuple[int, bool]:
        pool = ScreeningPool(home, 1, 30)
        pool.start()
        killed: set[int] = set()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(killed) < MAX_EARLY_DEATHS + 1:
                current = pool.processes[0].process
                if current.pid not in killed and current.is_alive():
                    os.kill(current.pid, signal.SIGKILL)
                    killed.add(current.pid)
                await asyncio.sleep(0.05)
            await asyncio.sleep(2)  # time enough to start another, were it going to
            with pytest.raises(ScreeningUnavailableError):
                await pool.call("screen_prompt", "a cat")
            return len(killed), pool.processes[0].process.pid not in killed
        finally:
            pool.close()

    deaths, restarted = asyncio.run(killed_while_loading())
    assert deaths == MAX_EARLY_DEATHS + 1 and not restarted


def test_sighup_replaces_every_screening_process_and_no_request_fails(tmp_path: Path) -> None:
    """`kill -HUP`, twice in a row as an impatient operator would: the screening processes are
    replaced one at a time, each new one loaded before the old one stops taking requests, so every
    screening meanwhile is answered normally; the reloads run one after the other and leave
    exactly the configured number of processes."""
    home, key = works_and_key(tmp_path / "home")
    with serving(home, workers=2) as (url, server), ClearanceClient(url, key) as c:
        _wait_until_ready(c)
        before = set(_workers_of(server.pid))
        os.kill(server.pid, signal.SIGHUP)
        time.sleep(0.1)
        os.kill(server.pid, signal.SIGHUP)
        verdicts, settled_since, deadline = [], None, time.time() + 180
        while time.time() < deadline:
            verdicts.append(c.screen_prompt("Vecna in the attic"))
            now = set(_workers_of(server.pid))
            if now.isdisjoint(before) and len(now) == 2:
                settled_since = settled_since or time.time()
                if time.time() - settled_since > 5:
                    break
            else:
                settled_since = None
            time.sleep(0.05)
        assert server.poll() is None
    assert len(now) == 2 and now.isdisjoint(before), server_log(home).read_text()
    assert {(v.action, v.error) for v in verdicts} == {("block", None)}


def test_a_commands_help_needs_no_settings() -> None:
    """Every command checks the settings as it starts, but asking one for its help is not running it."""
    env = {**os.environ, "CLEARANCE_RATE_PER_S": "abc"}
    run = subprocess.run([sys.executable, "-m", "clearance.cli.main", "registry", "import", "--help"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0 and "Usage" in run.stdout, run.stderr


def test_serve_needs_at_least_one_worker(tmp_path: Path) -> None:
    """``--workers 0`` once started a server that listened on nothing and hung there."""
    result = CliRunner().invoke(app, ["serve", "--workers", "0", "--home", str(tmp_path / "home")])
    assert result.exit_code == 2 and "--workers" in result.output


@pytest.mark.parametrize(("args", "env", "message"), [
    (["serve", "--port", "99999"], {}, "--port"),  # once listened on 99999 mod 65536, silently
    (["serve", "--port", "0"], {}, "--port"),  # once listened on a random port
    (["serve"], {"CLEARANCE_RATE_PER_S": "abc"}, "CLEARANCE_RATE_PER_S='abc' is not a number"),
    (["serve"], {"CLEARANCE_MAX_UPLOAD_BYTES": "10k"}, "CLEARANCE_MAX_UPLOAD_BYTES='10k' is not a whole number"),
    (["screen", "media", str(DATA / "images" / "ref" / "ref_000.jpg")], {"CLEARANCE_MEDIA_THREADS": "-2"},
     "CLEARANCE_MEDIA_THREADS='-2' must be"),
    (["keys", "list", "--home", "/etc/hostname"], {},
     "cannot use /etc/hostname as the home: it is a file, not a folder"),
    (["registry", "list"], {"CLEARANCE_RATE_PER_S": "abc"}, "CLEARANCE_RATE_PER_S='abc' is not a number"),  # was
    (["audit", "verify"], {"CLEARANCE_TEXT_THREADS": "-3"}, "CLEARANCE_TEXT_THREADS='-3' must be"),  # taken
    (["screen", "prompt", "a cat"], {"CLEARANCE_ARRAY_CACHE_MB": "abc"}, "CLEARANCE_ARRAY_CACHE_MB='abc' is not"),
    (["keys", "list"], {"CLEARANCE_MAX_JSON_BYTES": "1.5"}, "CLEARANCE_MAX_JSON_BYTES='1.5' is not a whole number"),
    (["registry", "list"], {"CLEARANCE_TEXT_THREADS": "5000"}, "at least 1 and at most 64"),  # never ended
    (["registry", "list", "--database-url", "bogus://x"], {}, "cannot open the database bogus://x: "),
    (["registry", "list", "--database-url", "mysql://a@b/c"], {}, "only SQLite and PostgreSQL are supported"),
    (["registry", "list", "--database-url", "postgresql://u@127.0.0.1:1/x?password=secret"], {},
     "cannot open the database postgresql+psycopg://u@127.0.0.1:1/x?…: "),  # nor one among the parameters
    (["screen", "prompt", "Vecna", "--database-url", "postgresql://u:secret@127.0.0.1:1/x"], {},
     "cannot open the database postgresql+psycopg://u:***@127.0.0.1:1/x: "),  # the password never shown
])
def test_a_bad_setting_is_a_setup_error_not_a_traceback(tmp_path: Path, args: list[str], env: dict[str, str],
                                                        message: str) -> None:
    """Malformed settings in the environment raised ``ValueError`` tracebacks from module imports (and
    the commands that never read one took it silently: every command checks them all now), a
    home that is a file a ``FileExistsError``, an out-of-range port was taken modulo 65536, and a
    database URL that opens nothing printed the driver's traceback of 62 frames."""
    home = ["--home", str(tmp_path / "home")] if "--home" not in args else []
    run = subprocess.run([sys.executable, "-m", "clearance.cli.main", *args, *home], capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=120)
    assert run.returncode == 2 and message in run.stderr, run.stderr
    assert "Traceback" not in run.stderr and "secret" not in run.stderr


def test_an_owner_whose_match_was_not_listed_reads_no_score(service: tuple) -> None:
    """A verdict lists its strictest 20 matches: a rights holder whose (reviewed) match was left out
    read ``"matches": [], "score": 0.0`` for a prompt naming its work exactly (black-box QA pass 3).
    It reads no score now, and why."""
    registry = Screener(service[2]).registry
    episodes = "".join(f"  - {{id: zy-{n}, title: \"Zyzzogeton: Episode {n}\", owner: Acme, policy: block}}\n"
                       for n in range(1, 26))
    mine = "  - {id: zy-999, title: \"Zyzzogeton: Episode 999\", owner: Netflix, policy: review}\n"
    with client(service, "admin") as admin, client(service, "acme") as acme, client(service, "netflix") as netflix:
        admin.import_registry("version: 1\nworks:\n" + episodes + mine)
        verdict = acme.screen_prompt("a poster of Zyzzogeton: Episode 999")
        assert verdict.matches_omitted and "zy-999" not in {m.work_id for m in verdict.matches}
        seen = netflix.audit(verdict.audit_id)
        assert seen["matches"] == [] and seen["score"] is None and "matches_omitted" in seen["own_matches"]
    for n in [*range(1, 26), 999]:
        registry.remove(f"zy-{n}")


def test_a_rights_holder_reads_its_takedowns_whole(service: tuple, tmp_path: Path) -> None:
    """A takedown (or a restore) names one file matched to one of the owner's works; a rights holder
    got it with a verdict's redaction added ("matches": [], "score": null, "own_matches": ...), fields
    it does not have (black-box QA, 2026-12-08). Another owner still cannot read it."""
    url, keys, home = service
    store, q = tmp_path / "outputs", tmp_path / "quarantine"
    store.mkdir()
    (store / "still.jpg").write_bytes((DATA / "images" / "copies" / "ref_003_crop.jpg").read_bytes())
    opts, runner = ["--home", str(home.root), "--database-url", home.database_url], CliRunner()
    assert runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), *opts]).exit_code == 0
    assert runner.invoke(app, ["purge", str(q), "--older-than", "0", *opts]).exit_code == 0
    ledger = [json.loads(line) for line in (q / ".clearance-sweep" / "ledger.jsonl").read_text().splitlines()]
    takedown = next(event["takedown_audit_id"] for event in ledger if event["status"] == "purged")
    record = AuditLog(session_factory(home.database_url)).record(takedown)
    seen = httpx.get(f"{url}/v1/audit/{takedown}", headers={"Authorization": f"Bearer {keys['netflix']}"}).json()
    assert record["owner"] == "Netflix" and {k: seen[k] for k in record} == record
    assert not {"matches", "score", "own_matches", "other_owners_matches"} & seen.keys()
    other = httpx.get(f"{url}/v1/audit/{takedown}", headers={"Authorization": f"Bearer {keys['disney']}"})
    assert other.status_code == 404
