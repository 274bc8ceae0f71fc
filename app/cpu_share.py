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
call it: there the short requests are waiting for that lock, not for the CPU.
"""
from __future__ import annotations

import os
import time
from typing import Iterable, Iterator, TypeVar

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


def init_app(app) -> None:
    app.jinja_env.filters["giving_way"] = giving_way
