"""The chain hashes of a bulk save are computed under SQLite's write lock: they must not hand the
interpreter lock to other threads of the worker at every event.  ``_hashlib.hmac_digest`` did: each
of an import's 2,000 events then waited for a page thread's switch interval (1.4 ms each, ~3 s of
write lock beside one rendering thread)."""
from __future__ import annotations

import sys
import threading
import time

import pytest

from app.audit.services import chain_hash, subject_seal

#: hashes after which the busy thread stops by itself, so a regression fails, not hangs
MAX_HASHES = 20_000
VALUES = {"action": "student_created", "object_type": "student", "object_id": "=subject",
          "subject_ref": "01a23c5a-aef6-7426-a4df-0f414d44bbc1", "outcome": "allowed", "details": '{"a":1}'}


@pytest.fixture
def no_forced_switch():
    """The interpreter never takes the lock from a busy thread during the test (100 s)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(100)
    yield
    sys.setswitchinterval(before)


def hash_until_stopped(work, stop: threading.Event, done: list[int]) -> None:
    n = 0
    while not stop.is_set() and n < MAX_HASHES:
        n += 1
        work(n)
    done.append(n)


@pytest.mark.parametrize("work", [
    lambda n: chain_hash("0" * 64, VALUES, "a1", b"k" * 32),
    lambda n: subject_seal(b"k" * 32, f"subject-{n}"),
], ids=["chain_hash", "subject_seal"])
def test_hashing_an_event_keeps_the_interpreter_lock(no_forced_switch, work):
    stop, done = threading.Event(), []
    busy = threading.Thread(target=hash_until_stopped, args=(work, stop, done))
    busy.start()
    time.sleep(0.01)  # gives the lock up; this thread runs again only when the hasher lets go
    stop.set()
    busy.join(timeout=120)
    assert done == [MAX_HASHES]  # it never let go: this thread woke when the hashing ended
