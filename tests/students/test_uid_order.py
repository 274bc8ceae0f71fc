"""Students registered later get ids that sort later (app.db.new_uid): their audit events go to
the end of the subject indexes, not to random places of them."""
from __future__ import annotations

from freezegun import freeze_time


def test_students_registered_together_follow_those_registered_before(db, build, school, teacher):
    with freeze_time("2026-03-02 09:00:00"):
        earlier = build.student(school, actor=teacher, name="먼저")
    with freeze_time("2026-03-02 09:00:01"):
        later = [build.student(school, actor=teacher, name=f"나중{i}") for i in range(20)]
    assert all(student.uid > earlier.uid for student in later)
