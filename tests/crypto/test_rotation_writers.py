"""Issue 19: key rotation and retirement while other processes keep writing encrypted values.

Writer processes (spawned, each with its own app from the app factory, on this test's database
and the same key ring file) queue alerts through ``notify`` (an encrypted column) and audit each
one, committing in a loop and reporting every committed row.  Meanwhile this process rotates
the data key and tries to retire the old one.  Afterwards every committed value decrypts with
the ring on disk, no stored value names a key the ring lacks, and the audit chain verifies.

Waits are on reported rows (a queue), never on the clock; every wait is bounded.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
import shutil
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from app import crypto_retire
from app.audit.chain import verify_chain
from app.audit.models import AuditEvent
from app.config import ConfigError
from app.crypto import KeyRing, key_id_of
from app.crypto_check import find_unreadable
from app.crypto_rotation import key_status, retire_key, rotate_keys
from app.db import encrypted_tables
from app.domain import DomainError
from app.extensions import db as _db
from app.key_check import KeyCheck

from .conftest import start_app_with_ring

WRITERS = 2
#: the writers look at the ring file this often (production: crypto.REFRESH_SECONDS, 5 s)
WRITER_REFRESH = 0.1
#: upper bound of any single wait; a healthy run waits a few seconds in all
WAIT = 120.0
KIND = "key_rotation_test"
USED = "still used by"
GRACE = "cannot be retired before"


def _write_until_stopped(name: str, url: str, ring_file: str, user_id: int, stop, out) -> None:
    """A writer process: its own app and ring, one alert per transaction until ``stop`` is set.
    Reports ("row", name, id, key id) after each commit, ("error", name, text) on failure and
    ("done", name, count) last.  Texts are test data, not personal data."""
    count = 0
    try:
        from app import create_app
        from app import crypto as writer_crypto
        from app.audit.services import record
        from app.notifications.services import notify
        from tests.conftest import base_config

        writer_crypto.REFRESH_SECONDS = WRITER_REFRESH
        app = create_app(base_config(SQLALCHEMY_DATABASE_URI=url, IEUM_KEYS=None, IEUM_KEYS_FILE=ring_file))
        with app.app_context():
            try:
                while not stop.is_set():
                    note = notify(user_id, KIND, f"{name} 알림 {count}")
                    _db.session.flush()
                    record("notification_test_write", object_type="notification", object_id=note.uid)
                    _db.session.commit()
                    out.put(("row", name, note.id, key_id_of(note.text_enc)))
                    count += 1
            finally:
                _db.session.remove()
                _db.engine.dispose()
    except BaseException as exc:  # reported, so the test fails with the cause instead of hanging
        out.put(("error", name, f"{type(exc).__name__}: {exc}"))
    finally:
        out.put(("done", name, count))


@dataclass
class Writers:
    """The running writer processes and what they reported."""

    procs: list
    stop: object
    out: object
    rows: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (writer, key id)
    per_writer: dict[str, list[str]] = field(default_factory=dict)  # writer -> key ids in order
    done: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def _take(self) -> None:
        try:
            kind, name, *rest = self.out.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(f"writers reported nothing for {WAIT} s; errors so far: {self.errors}") from None
        if kind == "row":
            row_id, kid = rest
            assert row_id not in self.rows, f"row {row_id} reported twice"
            self.rows[row_id] = (name, kid)
            self.per_writer.setdefault(name, []).append(kid)
        elif kind == "error":
            self.errors.append(f"{name}: {rest[0]}")
        else:
            self.done.add(name)

    def wait_until(self, predicate, what: str) -> None:
        """Read reports until ``predicate(self)`` holds; fails if a writer died first."""
        while not predicate(self):
            assert not self.errors, f"a writer failed while waiting for {what}: {self.errors}"
            assert not self.done, f"writers {sorted(self.done)} stopped while waiting for {what}"
            self._take()

    def each_wrote(self, n: int, kid: str | None = None) -> None:
        """Every writer has committed ``n`` more rows (under ``kid`` if given) from now on."""
        start = {w: len(self.per_writer.get(w, [])) for w in self.names}
        self.wait_until(lambda s: all(
            len([k for k in s.per_writer.get(w, [])[start[w]:] if kid is None or k == kid]) >= n
            for w in self.names), f"{n} rows per writer" + (f" under {kid}" if kid else ""))

    @property
    def names(self) -> list[str]:
        return [f"w{i}" for i in range(len(self.procs))]

    def finish(self) -> None:
        self.stop.set()
        while len(self.done) < len(self.procs):
            self._take()
        for proc in self.procs:
            proc.join(WAIT)
            assert proc.exitcode == 0, f"writer exit code {proc.exitcode}"
        assert not self.errors, self.errors


@pytest.fixture
def writers(app, db, build, ring_path):
    """Start WRITERS writer processes on this test's database and ring file."""
    user_id = build.user("school_staff").id
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        db.session.remove()  # no open transaction here while others write (SQLite: one writer)
    ctx = multiprocessing.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    procs = [ctx.Process(target=_write_until_stopped, args=(f"w{i}", url, str(ring_path), user_id, stop, out),
                         daemon=True) for i in range(WRITERS)]
    for proc in procs:
        proc.start()
    running = Writers(procs, stop, out)
    try:
        yield running
    finally:  # after a failure: drain the queue, so no writer blocks exiting on a full pipe
        stop.set()
        for proc in procs:
            for _ in range(int(WAIT * 10)):
                proc.join(0.1)
                if not proc.is_alive():
                    break
                while not out.empty():
                    out.get_nowait()
            if proc.is_alive():
                proc.kill()  # only our own writer processes


def _notification_table():
    (et,) = [et for et in encrypted_tables() if et.name == "notification"]
    return et


def _assert_nothing_lost(writers: Writers, ring_path) -> None:
    """Every committed row is there and decrypts with the ring on disk; no value anywhere names
    a key the ring lacks; the audit chain verifies."""
    ring = KeyRing.load_file(ring_path)  # what any process starting now would use
    et = _notification_table()
    t = et.table
    stored = {r.id: r for r in _db.session.execute(
        select(t.c.id, t.c.uid, t.c.text_enc).where(t.c.kind == KIND)).all()}
    assert set(stored) == set(writers.rows), "a committed row is missing, or an unreported row exists"
    counts = {name: 0 for name in writers.names}
    for row_id, (name, _kid) in sorted(writers.rows.items()):
        row = stored[row_id]
        assert key_id_of(row.text_enc) in ring.keys, f"row {row_id} names a key missing from the ring"
        text = ring.decrypt(row.text_enc, "notification", "text_enc", row.uid)
        assert text == f"{name} 알림 {counts[name]}"  # each writer's rows come back in order
        counts[name] += 1
    assert find_unreadable() == []  # every encrypted column of every table, with the app's ring
    status = key_status()
    assert all(col.unknown == 0 for col in status.columns), "a stored value names a key the ring lacks"
    audited = _db.session.execute(select(AuditEvent.object_id).where(
        AuditEvent.action == "notification_test_write")).scalars().all()
    assert sorted(audited) == sorted(r.uid for r in stored.values())
    result = verify_chain()
    assert result.ok, result.message
    _db.session.rollback()


def _k1_values() -> int:
    return key_status().totals("data").get("k1", 0)


def _finish_rotation() -> None:
    """Bring every value onto the active key.  A writer that had not re-read the ring yet may have
    committed a k1 value after the rotation counted the rest: rotate resumes (or, if it had already
    finished, adds the next key); either way k1 is free afterwards, as no writer uses it any more."""
    if _k1_values():
        rotate_keys()
    assert _k1_values() == 0



def test_rotate_and_retire_while_writers_run_loses_nothing(app, db, writers, ring_path, monkeypatch):
    before = ring_path.with_name("before-rotation.json")
    shutil.copy2(ring_path, before)
    writers.each_wrote(3, "k1")
    result = rotate_keys()
    assert result.added == ["k2"]
    # each writer re-reads the ring within WRITER_REFRESH: from its first k2 row on, it writes
    # nothing under k1 any more (one writer, one transaction at a time)
    writers.each_wrote(1, "k2")
    # the grace period covers writers that have not re-read the ring yet; here they all have
    monkeypatch.setattr(crypto_retire, "RETIRE_GRACE", dt.timedelta(0))
    left = _k1_values()
    if left:  # rows the writers committed under k1 after the rotation had passed them
        with pytest.raises(DomainError, match=f"key k1 {USED} {left} values"):
            retire_key("k1")
        assert "k1" in KeyRing.load_file(ring_path).keys
    _finish_rotation()
    retire_key("k1")  # while the writers keep going
    ring_keys = set(KeyRing.load_file(ring_path).keys)
    assert "k1" not in ring_keys
    writers.each_wrote(2)  # writing goes on after the retirement
    writers.finish()
    assert len(writers.rows) >= WRITERS * 6
    _assert_nothing_lost(writers, ring_path)
    assert set(db.session.execute(select(KeyCheck.kid).where(KeyCheck.kind == "data")).scalars()) == ring_keys
    db.session.rollback()
    # the ring from before the rotation lacks the key the data now needs: refused, naming it
    with pytest.raises(ConfigError, match="data key k2 is missing from the key ring"):
        start_app_with_ring(app, before)
    start_app_with_ring(app, ring_path)  # the ring as it is now starts


def test_retire_right_after_rotation_is_refused_while_writers_run(app, db, writers, ring_path, monkeypatch):
    writers.each_wrote(3, "k1")
    rotate_keys()
    # immediately: old values may remain (refused for them) or the grace period refuses
    with pytest.raises(DomainError, match=f"key k1 ({USED}|{GRACE})"):
        retire_key("k1")
    writers.each_wrote(1, "k2")
    _finish_rotation()
    # nothing uses k1 now, yet running processes may not have re-read the ring: the grace refuses
    with pytest.raises(DomainError, match=f"key k1 {GRACE}"):
        retire_key("k1")
    writers.each_wrote(2)
    writers.finish()
    assert {"k1", "k2"} <= set(KeyRing.load_file(ring_path).keys)
    assert db.session.execute(select(AuditEvent.id).where(AuditEvent.action == "key_retired")).first() is None
    assert db.session.execute(select(KeyCheck.kid).where(KeyCheck.kid == "k1")).first() is not None
    db.session.rollback()
    _assert_nothing_lost(writers, ring_path)
