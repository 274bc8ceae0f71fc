"""Long requests give way to short ones in the same worker process.

gunicorn serves a process's requests on several threads, and they share one interpreter
lock (the GIL).  A page's thread gives the lock up at every SQL statement; to take it back
it had to wait until a thread busy parsing a class list or writing an export was forced
off, a whole switch interval (5 ms) later.  Thirty statements made a 40 ms district home
take 140 ms beside such a thread (median of an in-process experiment, issue 13).  So the
row loops of imports and exports call ``give_way`` between rows: ``os.sched_yield``
releases the lock around its system call, a waiting thread takes it at once, and when
nobody waits it costs about a microsecond.

Loops that run while their transaction holds SQLite's write lock (an import's save) do not
call it: there the short requests are waiting for that lock, not for the CPU.  Such a save goes
first instead (``go_first``): until its transaction ends, the worker's other threads wait at their
next SQL statement.  Every page needs the write lock at its end anyway (its audit events), and a
2,000-row save sharing the GIL with three rendering threads held the lock 3-4x longer than alone.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Iterable, Iterator, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

T = TypeVar("T")

#: Linux and macOS have sched_yield; elsewhere a zero sleep also releases the lock (slower)
_yield = getattr(os, "sched_yield", None) or (lambda: time.sleep(0))


def give_way() -> None:
    """Let a thread of this process that waits for the interpreter lock run now."""
    _yield()



def giving_way(rows: Iterable[T]) -> Iterator[T]:
    """``rows``, giving way after each one: the ``giving_way`` template filter for the loop of a
    page that lists thousands of rows (a class list's preview renders 2,000)."""
    for row in rows:
        yield row
        give_way()


#: the longest a thread waits for a save that goes first (then it runs beside it)
FIRST_WAIT_LIMIT_S = 2.0
_first_done = threading.Event()
_first_done.set()
_first_lock = threading.Lock()
_first_thread: int | None = None


def go_first(session) -> None:
    """The calling thread holds SQLite's write lock for a bulk save: the worker's other threads
    wait at their next SQL statement until its transaction commits or rolls back (at most 2 s).
    A second save in the same worker meanwhile does not go first.  On PostgreSQL nothing waits:
    other writers are not locked out by the save."""
    global _first_thread
    if session.get_bind().dialect.name != "sqlite":
        return
    with _first_lock:
        if _first_thread is None:
            _first_thread = threading.get_ident()
            _first_done.clear()


def first_done(session_or_error=None, *_args) -> None:
    """The save that went first ended (commit, rollback, or the end of its request)."""
    global _first_thread
    if isinstance(session_or_error, Session) and session_or_error.in_nested_transaction():
        return  # a savepoint's release also fires after_commit: the transaction goes on
    with _first_lock:
        if _first_thread == threading.get_ident():
            _first_thread = None
            _first_done.set()


def _wait_for_the_first(*_args) -> None:
    if not _first_done.is_set() and _first_thread != threading.get_ident():
        _first_done.wait(FIRST_WAIT_LIMIT_S)


def init_app(app) -> None:
    app.jinja_env.filters["giving_way"] = giving_way
    app.teardown_request(first_done)
    if not event.contains(Engine, "before_cursor_execute", _wait_for_the_first):
        event.listen(Engine, "before_cursor_execute", _wait_for_the_first)
        for name in ("after_commit", "after_rollback"):
            event.listen(Session, name, first_done)
