"""Public ids (app.db.new_uid): UUIDs laid out as version 7, so rows made later sort later and land
at the end of every uid index and of the audit trail's subject indexes."""
from __future__ import annotations

import datetime as dt
import uuid

from freezegun import freeze_time

from app.db import new_uid


def test_a_uid_is_a_version_7_uuid_and_never_repeats():
    made = [new_uid() for _ in range(5000)]
    assert len(set(made)) == 5000
    for text in made[:50]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 7 and parsed.variant == uuid.RFC_4122


def test_a_uid_made_later_sorts_after_and_tells_when_it_was_made():
    with freeze_time("2026-03-02 09:00:00") as clock:
        first = [new_uid() for _ in range(20)]
        clock.tick(dt.timedelta(seconds=1))
        later = [new_uid() for _ in range(20)]
    assert max(first) < min(later)  # random (version 4) ids would interleave
    millis = int(uuid.UUID(first[0]).hex[:12], 16)
    assert dt.datetime.fromtimestamp(millis / 1000, dt.timezone.utc) == dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)

