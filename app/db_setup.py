"""Engine settings per database: SQLite WAL, busy timeout, foreign keys, deferred or immediate BEGIN;
and the file modes of the instance folder and SQLite files, whatever the starting umask."""
import logging
import os
import stat
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .audit.services import forget_head
from .transactions import begin_write, wants_write_lock  # noqa: F401  (begin_write: re-exported)

log = logging.getLogger(__name__)

INSTANCE_MODE = 0o700
DATABASE_FILE_MODE = 0o600
#: SQLite's companions of a WAL database: they hold recent pages in clear like the file itself
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def _tighten(path: Path, mode: int) -> None:
    """chmod ``path`` to ``mode`` if it is looser (or different); a file we may not change is
    logged, not fatal: the operator who owns it is told, and the app still serves."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
        if current != mode:
            os.chmod(path, mode)
    except FileNotFoundError:
        return
    except PermissionError:
        log.warning("cannot set mode %s on %s (owned by another user); run: chmod %s %s",
                    oct(mode), path, oct(mode)[2:], path)


def secure_instance_folder(path: str | os.PathLike) -> None:
    """The instance folder (config, key ring, SQLite files, anchors) is 0700: created so, and
    tightened if it exists — a start outside scripts/run (no ``umask 077``) must not loosen it."""
    folder = Path(path)
    if not folder.exists():
        try:
            folder.mkdir(parents=True, mode=INSTANCE_MODE, exist_ok=True)  # masked by the umask: tightened below
        except OSError as exc:  # e.g. a read-only install that keeps everything elsewhere
            log.warning("cannot create the instance folder %s: %s", folder, exc)
            return
    _tighten(folder, INSTANCE_MODE)


def sqlite_path(engine: Engine) -> Path | None:
    """The file of a SQLite engine, or None for memory databases and URI forms we do not parse."""
    name = engine.url.database
    if engine.dialect.name != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def create_sqlite_file(path: Path) -> None:
    """Create a missing database file 0600 before SQLite does (SQLite would use 0644 less the
    umask, and gives -wal/-shm the mode of the database file); an empty file is a valid new
    database.  O_EXCL: never truncate a database another process created meanwhile."""
    if path.parent.is_dir() and not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DATABASE_FILE_MODE))
        except FileExistsError:
            pass
        _tighten(path, DATABASE_FILE_MODE)  # os.open's mode is masked by the umask too


def secure_sqlite_files(path: Path) -> None:
    """Tighten the database file and its -wal/-shm/-journal companions that exist to 0600."""
    for suffix in SQLITE_SUFFIXES:
        _tighten(path.with_name(path.name + suffix), DATABASE_FILE_MODE)


def configure_engine(engine: Engine, busy_timeout_ms: int = 10_000, cache_kib: int = 16_384) -> None:
    if engine.dialect.name == "sqlite" and not getattr(engine, "_ieum_configured", False):
        engine._ieum_configured = True
        path = sqlite_path(engine)
        if path is not None:
            secure_sqlite_files(path)  # files left loose by an earlier start; creates nothing

            @event.listens_for(engine, "do_connect")
            def _before_connect(_dialect, _record, _cargs, _cparams):
                create_sqlite_file(path)  # before SQLite would create it with the umask's mode

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # SQLite's default page cache (2 MB) is smaller than the pages a 2,000-row import
            # touches in the student indexes: it spilled dirty pages to the WAL and read them
            # back under the write lock (100-550 ms of SQL at Seoul scale; 70-100 ms with 16 MB).
            # An upper bound per connection, filled only by what a transaction reads or writes.
            cursor.execute(f"PRAGMA cache_size={-int(cache_kib)}")
            cursor.close()
            if path is not None:
                # the WAL and shared-memory files appear with the first connection
                secure_sqlite_files(path)

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            # A transaction that will write takes the lock up front (BEGIN IMMEDIATE waits up
            # to the busy timeout): under WAL a deferred transaction that read first cannot
            # upgrade to a writer while another holds the lock, it fails at once.  Reads of a
            # page (GET, and POSTs marked read_first until begin_write) run deferred and never
            # block anyone; their audit events are appended afterwards (app/transactions.py).
            if wants_write_lock():
                begin_immediate(conn, busy_timeout_ms)
            else:
                conn.exec_driver_sql("BEGIN")


#: the longest pause between two tries for the write lock (SQLite's own handler sleeps up to 100 ms)
LOCK_POLL_MAX_S = 0.002


def begin_immediate(conn, busy_timeout_ms: int) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in pauses of at most 2 ms.

    SQLite's busy handler sleeps 1, 2, 5 … 25, 50, 100 ms between tries: a writer that queued
    behind a 256 ms save got the lock at 333 ms, every page behind an import up to 100 ms late.
    The connection's own timeout is off while this loop tries (its tries are plain statements),
    and back on for anything else that may meet a busy database.  Past ``busy_timeout_ms`` the
    "database is locked" error goes up as before (the request answers 503)."""
    from sqlalchemy.exc import OperationalError
    raw = conn.connection.dbapi_connection
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline, pause = time.monotonic() + busy_timeout_ms / 1000, 0.0002
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as error:
                busy = getattr(error.orig, "sqlite_errorname", "SQLITE_BUSY").startswith("SQLITE_BUSY")
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, LOCK_POLL_MAX_S)
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")


# after commit or rollback the cached audit chain head is stale: another writer may go next
event.listen(Session, "after_commit", forget_head)
event.listen(Session, "after_rollback", forget_head)

