"""Two (or more) things at the same moment, on real connections: the one harness of the race tests
(tests/test_transition_races.py, tests/guardians/test_assignment_concurrency.py,
tests/test_submissions.py)."""
from __future__ import annotations

import threading
from typing import Any, Callable

from app.extensions import db


def at_once(app, work: Callable[[int, Callable[[], None]], Any], n: int = 2, timeout: float = 120) -> list:
    """Run ``work(k, ready)`` for k = 0..n-1 in n threads, each in its own app context (its own
    session and connection).  Each calls ``ready()`` when it has loaded what it needs; all go on
    together from there.  Returns what each returned, or ``repr`` of what it raised (the barrier
    is then broken, so nobody waits out the timeout).  The caller's own session must not hold
    SQLite's write lock meanwhile: roll it back first."""
    barrier, results = threading.Barrier(n, timeout=timeout / 2), [None] * n

    def run(k: int) -> None:
        with app.app_context():
            try:
                results[k] = work(k, barrier.wait)
            except Exception as error:  # noqa: BLE001 - reported by the caller's assertions
                db.session.rollback()
                barrier.abort()
                results[k] = repr(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a racer is still waiting"
    db.session.expire_all()
    return results
