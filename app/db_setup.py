"""Engine settings per database: SQLite WAL, busy timeout, foreign keys and BEGIN IMMEDIATE."""
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .audit.services import forget_head


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "sqlite" and not getattr(engine, "_ieum_configured", False):
        engine._ieum_configured = True

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            # Almost every request writes (each view is audited), so take the write lock up
            # front: a deferred transaction that read first could not upgrade under WAL and
            # would fail instead of waiting; this also serialises the audit chain.
            conn.exec_driver_sql("BEGIN IMMEDIATE")


# after commit or rollback the cached audit chain head is stale: another writer may go next
event.listen(Session, "after_commit", forget_head)
event.listen(Session, "after_rollback", forget_head)
