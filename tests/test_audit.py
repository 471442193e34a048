"""The hash-chained audit log: intact chains verify, any edit/deletion/reordering is named."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from clearance import audit
from clearance.audit import AuditLog, UnknownAuditIdError
from clearance.cli import app
from clearance.db.engine import open_engine, session_factory
from clearance.home import Home


def filled_log(home: Home, n: int = 6) -> tuple[AuditLog, list[str]]:
    log = AuditLog(session_factory(home.database_url))
    ids = [log.append("prompt", {"id": f"p{i}", "action": "allow"}, "acme", ["Netflix/stranger-things"])
           for i in range(n)]
    return log, ids


COPIED = "created_at, tenant, kind, work_ids, payload, prev_hash, entry_hash"
COLUMNS = f"seq, audit_id, {COPIED}"


def run_sql(home: Home, sql: str) -> None:
    with open_engine(home.database_url).begin() as conn:
        conn.execute(text(sql))


def test_intact_chain_verifies(db_home: Home) -> None:
    log, ids = filled_log(db_home)
    result = log.verify()
    assert result.ok and result.entries == 6
    assert log.record(ids[2]) == {"id": "p2", "action": "allow"}
    with pytest.raises(UnknownAuditIdError):
        log.get("no-such-id")


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "problem"),
    [
        ("UPDATE audit_log SET payload = '{\"id\":\"p2\",\"action\":\"block\"}' WHERE seq = 3", 3, "edited"),
        ("DELETE FROM audit_log WHERE seq = 4", 5, "missing"),
        ("UPDATE audit_log SET seq = seq + 100 WHERE seq IN (2, 3)", 4, "missing"),
        ("UPDATE audit_log SET entry_hash = 'x' WHERE seq = 1", 1, "edited"),
        ("DELETE FROM audit_log WHERE seq = 6", 6, "newest entries removed"),
        # rows numbered below the chain were skipped, and `audit show` served them (a QA pass)
        (f"INSERT INTO audit_log ({COLUMNS}) SELECT -1, 'forged', {COPIED} FROM audit_log WHERE seq = 2", -1,
         "entry number -1 is outside the chain"),
        (f"INSERT INTO audit_log ({COLUMNS}) SELECT 0, 'forged', {COPIED} FROM audit_log WHERE seq = 1", 0,
         "outside the chain"),
        # the head's hash alone edited was reported as "ends at entry 6 but its head records entry 6"
        ("UPDATE audit_head SET entry_hash = 'ab' || substr(entry_hash, 3)", 6, "the head's hash of entry 6"),
        ("UPDATE audit_head SET seq = 5", 6, "the head records entry 5 but the log goes on to entry 6"),
    ],
)
def test_tampering_is_detected_and_named(db_home: Home, tamper: str, bad_seq: int, problem: str) -> None:
    log, _ = filled_log(db_home)
    run_sql(db_home, tamper)
    result = log.verify()
    assert not result.ok
    assert result.first_bad_seq == bad_seq and problem in (result.problem or "")


@pytest.mark.parametrize("tamper", ["UPDATE audit_log SET tenant = 'other' WHERE seq = 3",
                                    """UPDATE audit_log SET work_ids = '["Disney/frozen"]' WHERE seq = 3"""])
def test_who_may_read_an_entry_is_covered_by_its_hash(db_home: Home, tamper: str) -> None:
    """The tenant and the work ids decide which platform and which rights holder see an entry: moving
    a verdict to another tenant's or owner's view is an edit like any other."""
    log, _ = filled_log(db_home)
    run_sql(db_home, tamper)
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 3 and "edited" in (result.problem or "")


def rehash(home: Home, old_style: set[int]) -> None:
    """Rewrite the chain's hashes, the entries in ``old_style`` hashed as before 2026-12-06 (no tenant,
    no work ids): a log written by an older Clearance, or one forged to look like it."""
    with open_engine(home.database_url).begin() as conn:
        prev = audit.GENESIS
        for seq, audit_id, created_at, kind, payload, tenant, work_ids in conn.execute(text(
                "SELECT seq, audit_id, created_at, kind, payload, tenant, work_ids FROM audit_log ORDER BY seq")):
            args = (seq, audit_id, created_at, kind, payload, prev)
            entry_hash = (audit._entry_hash_v1(*args) if seq in old_style
                          else audit._entry_hash(*args, tenant, json.loads(work_ids)))
            conn.execute(text("UPDATE audit_log SET prev_hash = :p, entry_hash = :h WHERE seq = :s"),
                         {"p": prev, "h": entry_hash, "s": seq})
            prev = entry_hash
        conn.execute(text("UPDATE audit_head SET entry_hash = :h"), {"h": prev})


def test_a_log_written_before_the_tenant_was_hashed_still_verifies_and_never_goes_back(home: Home) -> None:
    """Entries hashed the old way (without tenant and work ids) verify as long as they come first; once
    an entry of the current kind is in the chain, an old-style hash after it is an edit."""
    log, _ = filled_log(home, 4)
    rehash(home, {1, 2})
    assert log.verify().ok
    rehash(home, {1, 2, 4})
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 4


def test_appends_after_cutting_the_newest_entries_do_not_hide_the_cut(db_home: Home) -> None:
    """New entries chain from the head row, not from whatever the table's last row now is."""
    log, _ = filled_log(db_home)
    run_sql(db_home, "DELETE FROM audit_log WHERE seq >= 5")
    log.append("prompt", {"id": "after"}, "acme", [])
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 7 and "missing" in (result.problem or "")


def test_a_log_begun_before_the_head_row_existed_goes_on(db_home: Home) -> None:
    log, _ = filled_log(db_home, 3)
    run_sql(db_home, "DELETE FROM audit_head")  # as a log written before migration 0002
    log.append("prompt", {"id": "next"}, "acme", [])
    result = log.verify()
    assert result.ok and result.entries == 4


def test_swapped_payloads_are_detected(home: Home) -> None:
    log, _ = filled_log(home)
    run_sql(home, "UPDATE audit_log SET payload = (SELECT payload FROM audit_log WHERE seq = 6) WHERE seq = 5")
    assert log.verify().first_bad_seq == 5


def test_concurrent_appends_keep_one_chain(db_home: Home) -> None:
    log = AuditLog(session_factory(db_home.database_url))
    threads = [threading.Thread(target=lambda: [log.append("prompt", {"n": i}, None, []) for i in range(15)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = log.verify()
    assert result.ok and result.entries == 60


def test_separate_writers_keep_one_chain(db_home: Home) -> None:
    """Two logs on one database, as two server workers: each has its own writer and connection,
    and the claimed head row serialises them, from the first entry on."""
    logs = [AuditLog(session_factory(db_home.database_url)) for _ in range(2)]
    threads = [threading.Thread(target=lambda log=log: [log.append("prompt", {"n": i}, None, []) for i in range(20)])
               for log in logs for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = logs[0].verify()
    assert result.ok and result.entries == 80


def test_a_dropped_connection_is_replaced(pg_url: str) -> None:
    """The writer keeps its connection between groups; when the server drops it (a restart, an
    idle timeout), the next group is committed on a new one instead of failing."""
    log = AuditLog(session_factory(pg_url))
    log.append("prompt", {"n": 1}, None, [])
    with open_engine(pg_url).connect() as conn:
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    assert killed >= 1
    log.append("prompt", {"n": 2}, None, [])
    result = log.verify()
    assert result.ok and result.entries == 2


def test_columns_edited_into_what_is_not_json_are_reported_not_crashed_on(home: Home) -> None:
    """``work_ids`` or a payload edited by hand into text that is not JSON (SQLite stores any text)
    crashed `audit verify` and `audit show` with a traceback (a verify pass): each now names the
    entry as edited, and `show` prints the payload as it is."""
    runner = CliRunner()
    _, ids = filled_log(home)
    run_sql(home, "UPDATE audit_log SET payload = '{not json' WHERE seq = 2")
    shown = runner.invoke(app, ["audit", "show", ids[1], "--json", "--home", str(home.root)])
    assert shown.exit_code == 1 and not isinstance(shown.exception, ValueError)
    assert json.loads(shown.stdout.splitlines()[0])["payload"] == "{not json" and "edited" in shown.output
    run_sql(home, "UPDATE audit_log SET work_ids = 'not json' WHERE seq = 1")
    broken = runner.invoke(app, ["audit", "verify", "--home", str(home.root)])
    assert broken.exit_code == 1 and "entry 1" in broken.output and "edited" in broken.output, broken.output


def test_cli_verify_and_show(home: Home) -> None:
    runner = CliRunner()
    _, ids = filled_log(home)
    ok = runner.invoke(app, ["audit", "verify", "--home", str(home.root)])
    assert ok.exit_code == 0 and "6 entries" in ok.output
    shown = runner.invoke(app, ["audit", "show", ids[1], "--json", "--home", str(home.root)])
    assert shown.exit_code == 0 and json.loads(shown.output)["audit_id"] == ids[1]
    unknown = runner.invoke(app, ["audit", "show", "nope", "--home", str(home.root)])
    assert unknown.exit_code == 2 and "unknown audit id" in unknown.output
    run_sql(home, """UPDATE audit_log SET payload = '{"id":"p1","action":"block"}' WHERE seq = 2""")
    edited = runner.invoke(app, ["audit", "show", ids[1], "--home", str(home.root)])  # printed as genuine before
    assert edited.exit_code == 1 and "not to be trusted: content does not match its hash (edited)" in edited.output
    assert runner.invoke(app, ["audit", "show", ids[2], "--home", str(home.root)]).exit_code == 0
    run_sql(home, "DELETE FROM audit_log WHERE seq = 2")
    broken = runner.invoke(app, ["audit", "verify", "--home", str(home.root)])
    assert broken.exit_code == 1 and "entry 3" in broken.output
    run_sql(home, "DROP TABLE audit_log")
    dropped = runner.invoke(app, ["audit", "verify", "--home", str(home.root)])
    assert dropped.exit_code == 1 and "audit log unreadable" in dropped.output, dropped.output


def test_registry_changes_and_the_policy_a_match_was_judged_under_are_in_the_log(db_home: Home) -> None:
    """A black-box pass (2026-12-07): imports, removals and licences left nothing in the log, and a
    match did not say its work's policy, so why a strong match was only reviewed, or was licensed,
    could be read only from the registry as it is now. Each change is now an entry of kind
    ``registry`` naming its works, and each match carries the policy it was judged under."""
    from clearance.registry.store import Registry, local_user
    from clearance.screening import Screener
    from tests.conftest import WORKS_YAML

    screener = Screener(db_home)
    registry: Registry = screener.registry
    registry.import_file(WORKS_YAML)
    registry.import_file(WORKS_YAML)  # unchanged: nothing to record
    assert registry.grant_licence("acme", "frozen") and not registry.grant_licence("acme", "frozen")
    assert registry.revoke_licence("acme", "frozen")
    verdict = screener.screen_prompt("Vecna in the attic")
    registry.remove("stranger-things")
    log = AuditLog(session_factory(db_home.database_url))
    with log.sessions() as session:
        rows = session.execute(text("SELECT kind, tenant, payload, audit_id FROM audit_log ORDER BY seq")).all()
    changes = [(tenant, json.loads(payload)) for kind, tenant, payload, _ in rows if kind == "registry"]
    assert [c["action"] for _, c in changes] == ["import", "licence granted", "licence revoked", "remove"]
    imported = changes[0][1]
    assert imported["revision"] == 1 and len(imported["works"]) == 9 and imported["source"] == str(WORKS_YAML)
    assert {"owner": "Netflix", "id": "stranger-things", "outcome": "created", "policy": "block"} in imported["works"]
    frozen, stranger_things = [{"owner": "Disney", "id": "frozen"}], [{"owner": "Netflix", "id": "stranger-things"}]
    here = local_user()  # who made each change (an admin's change of a policy named no one: QA pass 3)
    assert all(c["by"] == here and here["user"] and here["host"] for _, c in changes)
    assert changes[1] == ("acme", {"action": "licence granted", "licensee": "acme", "revision": 1, "by": here,
                                   "works": frozen})
    assert changes[2][1] == {"action": "licence revoked", "licensee": "acme", "revision": 1, "by": here,
                             "works": frozen}
    assert changes[3][1] == {"action": "remove", "revision": 2, "by": here, "works": stranger_things}
    assert log.get(rows[-1].audit_id).work_ids == ["Netflix/stranger-things"]  # its owner may read it
    assert log.record(verdict.audit_id)["matches"][0]["policy"] == "block"
    assert log.verify().ok
