"""`flask retention run`: a due student leaves every table (found by foreign key from the metadata,
so a future table cannot be forgotten), another student stays whole, the audit chain verifies,
a second run does nothing, and the run is audited with counts.  SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, text

from app.audit.chain import verify_chain
from app.audit.models import AuditEvent
from app.audit.services import record
from app.cases import notes as case_notes
from app.cases.models import SupportCase
from app.conferences.amendments import amend_meeting
from app.conferences.models import CaseReview, Conference, ConferenceAmendment
from app.conferences.services import record_meeting, schedule_conference
from app.db import today_kst, utcnow
from app.extensions import db
from app.guardians.activity import log_activity
from app.notifications.mail_models import OutboxMessage
from app.notifications.models import Notification
from app.records.retention_models import RetentionCaseFact, RetentionTombstone
from app.records.transfer_services import send_transfer
from app.students.models import Student
from tests.test_lifecycle_matrix import world  # noqa: F401  (the fixture: a case with everything)

from .request_helpers import make_request
from .retention_helpers import keyed_tables, leftovers, make_due, snapshot

#: tables the world must fill for the student, so the test proves their removal (others may be
#: empty: the check after the run covers every keyed table either way)
MUST_FILL = {"student", "support_case", "case_event", "case_need", "case_selection", "consent", "consent_purpose",
             "plan_action", "guardian_assignment", "guardian_activity", "guardian_concern", "referral",
             "referral_service_record", "conference_case", "conference_action_item", "case_review", "notification",
             "mail_outbox", "case_note", "case_escalation", "student_retention", "legal_hold", "case_transfer",
             "subject_request"}


def run(app, *args):
    result = app.test_cli_runner().invoke(args=["retention", "run", *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def rich(world, build, app):  # noqa: F811
    """The lifecycle world plus notes, an escalation, a concern, an e-mail, an expired hold, and a
    second student whose case shares a reviewed, amended conference with the first."""
    w = world
    student = w.case.student
    case_notes.add_note(w.case, w.lead, kind="counselling", body="상담 내용")
    case_notes.escalate_case(w.case, w.lead, reason="전문 상담 필요")
    log_activity(w.assignment, w.guardian_user, occurred_on=today_kst(), minutes=60, kind="learning",
                 notes="만남", concern=True, concern_description="학생이 많이 지쳐 보였습니다. 확인이 필요합니다.")
    note = db.session.execute(select(Notification).where(Notification.case_id == w.case.id)).scalars().first()
    db.session.add(OutboxMessage(user_id=note.user_id, kind=note.kind, notification_id=note.id, link=note.link))
    db.session.add(OutboxMessage(user_id=w.lead.id, kind="referral", link=f"/cases/{w.case.uid}"))
    from app.records.retention_models import LegalHold
    old_hold = LegalHold(student_id=student.id, ends_on=today_kst() - dt.timedelta(days=30), set_by_id=w.lead.id)
    old_hold.reason = "지난 절차"
    db.session.add(old_hold)
    w.other_case = build.case(w.school, status="planning", lead=w.lead)
    case_notes.add_note(w.other_case, w.lead, kind="observation", body="다른 학생 기록")
    db.session.commit()
    with freeze_time(utcnow() - dt.timedelta(hours=2)):
        shared = schedule_conference(w.lead, kind="school_meeting",
                                     starts_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1),
                                     place="회의실", online_link=None, case_ids=[w.case.id, w.other_case.id],
                                     participant_user_ids=[w.staff.id], externals=[])
        db.session.commit()
    review = today_kst() + dt.timedelta(days=30)
    record_meeting(shared, w.lead, attended_participant_ids=[p.id for p in shared.participants], minutes="두 학생 논의",
                   decisions={c.id: {"decision": "continue", "next_review_on": review, "actions": []}
                              for c in (w.case, w.other_case)})
    db.session.commit()
    amend_meeting(shared, w.lead, reason="점검일 수정", minutes="두 학생 논의 (수정)",
                  decisions={c.id: {"decision": "continue", "note": "", "next_review_on": review + dt.timedelta(days=7)}
                             for c in (w.case, w.other_case)})
    db.session.commit()
    w.shared = shared
    # a transfer sent (and its alerts) and a 열람 request: the records tables are the student's too
    destination = build.school(gu="강남구", name="대치전입초등학교")
    build.user("school_lead", organisation=destination)
    send_transfer(w.case, w.lead, to_school=destination, note="상담 이력 있음", contact="02-300-1234")
    make_request(w.lead, student)
    w.student, w.other = student, w.other_case.student
    return w


def test_a_run_removes_the_student_from_every_table_and_nothing_else(rich, app):
    w = rich
    gone, kept = snapshot(w.student), snapshot(w.other)
    filled = {name for name, keys in gone["keys"].items() if keys}
    assert MUST_FILL <= filled, MUST_FILL - filled
    kept_counts = {name: len(keys) for name, keys in kept["keys"].items() if keys}
    student_uid, case_uid = w.student.uid, w.case.uid
    record("student_viewed", obj=w.student, subject=w.student)  # the student as an event's object too
    db.session.commit()
    assert db.session.execute(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.subject_ref == student_uid)).scalar() > 0
    make_due(w.student)

    result = run(app)
    db.session.expire_all()

    assert leftovers(gone) == {}
    assert {name: len(keys) for name, keys in snapshot(db.session.get(Student, w.other.id))["keys"].items()
            if keys} == kept_counts
    # the shared conference stays for the other case, its amendment copy without the removed case
    assert db.session.get(Conference, w.shared.id) is not None
    [amendment] = db.session.execute(select(ConferenceAmendment)
                                     .where(ConferenceAmendment.conference_id == w.shared.id)).scalars().all()
    assert set(amendment.previous["cases"]) == {w.other_case.uid}
    assert db.session.get(CaseReview, w.other_case.id) is not None
    # the world's own conference discussed only the removed case: it went whole
    assert db.session.get(Conference, w.conference.id) is None
    # no alert or mail names the removed student's rows
    assert not db.session.execute(select(Notification.id).where(Notification.link.contains(case_uid))).first()
    assert not db.session.execute(select(OutboxMessage.id).where(OutboxMessage.link.contains(case_uid))).first()
    # the audit trail: the student's uid is gone, replaced by the tombstone, and the chain verifies
    [tombstone] = db.session.execute(select(RetentionTombstone)).scalars().all()
    assert tombstone.rule == "completion" and tombstone.school_id == w.school.id
    assert tombstone.counts["support_case"] == 1 and tombstone.counts["student"] == 1
    assert not db.session.execute(select(AuditEvent.id).where(AuditEvent.subject_ref == student_uid)).first()
    # nor anywhere else in an event (object_id of "student_viewed" is "=subject", not the uid)
    for column in ("object_id", "details", "reason", "actor_login"):
        assert not db.session.execute(select(AuditEvent.id).where(
            getattr(AuditEvent, column).contains(student_uid))).first(), column
    assert db.session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.subject_ref == f"retained:{tombstone.uid}")).scalar() == tombstone.counts["audit_event"] > 0
    assert verify_chain().ok
    removed = db.session.execute(select(AuditEvent).where(AuditEvent.action == "student_retention_removed")).scalar_one()
    assert removed.object_id == tombstone.uid and removed.subject_ref is None
    assert student_uid not in (removed.details or "") and "김학생" not in (removed.details or "")
    runs = db.session.execute(select(AuditEvent).where(AuditEvent.action == "retention_run")).scalars().all()
    assert len(runs) == 1 and '"removed":1' in runs[0].details
    # what statistics need stays, de-identified: one fact per removed case
    [fact] = db.session.execute(select(RetentionCaseFact)).scalars().all()
    assert (fact.tombstone_id, fact.school_id, fact.status, fact.risk_level) == (tombstone.id, w.school.id,
                                                                                 "in_support", "general")
    assert fact.requested_month.day == 1 and sorted(d for d, _o in fact.needs) == ["learning", "welfare"]
    assert len(fact.referrals) == 2 and fact.assignments  # sent ones: a draft counts in no figure
    flat = repr([getattr(fact, c.name) for c in RetentionCaseFact.__table__.columns])
    assert case_uid not in flat and student_uid not in flat
    assert "1" in result.output


def test_a_second_run_does_nothing(rich, app):
    make_due(rich.student)
    run(app)
    db.session.expire_all()
    before = {t.name: db.session.execute(select(func.count()).select_from(t)).scalar() for t in keyed_tables()}
    run(app)
    db.session.expire_all()
    after = {t.name: db.session.execute(select(func.count()).select_from(t)).scalar() for t in keyed_tables()}
    assert before == after
    assert db.session.execute(select(func.count()).select_from(RetentionTombstone)).scalar() == 1
    runs = db.session.execute(select(AuditEvent.details).where(AuditEvent.action == "retention_run")
                              .order_by(AuditEvent.id)).scalars().all()
    assert len(runs) == 2 and '"removed":0' in runs[1]
    assert db.session.execute(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "student_retention_removed")).scalar() == 1
    assert verify_chain().ok


def test_a_student_not_yet_due_stays(rich, app):
    run(app)
    db.session.expire_all()
    assert db.session.get(Student, rich.student.id) is not None
    assert db.session.get(SupportCase, rich.case.id) is not None


def test_preview_lists_who_would_go_and_why_without_names_and_changes_nothing(rich, app):
    make_due(rich.student)
    before = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar()
    result = app.test_cli_runner().invoke(args=["retention", "preview"])
    assert result.exit_code == 0, result.output
    assert rich.student.uid in result.output and rich.school.name in result.output
    assert "completion" in result.output and rich.other.uid not in result.output
    assert rich.student.name not in result.output
    assert db.session.get(Student, rich.student.id) is not None
    assert db.session.execute(select(func.count()).select_from(AuditEvent)).scalar() == before


def test_sqlite_overwrites_freed_pages(rich, app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite pragma")
    make_due(rich.student)
    run(app)
    assert db.session.execute(text("PRAGMA secure_delete")).scalar() == 1


def test_a_student_whose_removal_fails_stays_whole_and_the_others_go(rich, app, build, monkeypatch):
    from app import signals
    make_due(rich.student)
    other = build.student(rich.school, actor=rich.lead)
    make_due(other)
    other_id = other.id
    gone_before = snapshot(rich.student)
    counts = {name: len(keys) for name, keys in gone_before["keys"].items() if keys}

    def refuse(student, **_kwargs):
        if student.id == rich.student.id:
            raise RuntimeError("refused")
    signals.student_retained_until_passed.connect(refuse)
    try:
        result = app.test_cli_runner().invoke(args=["retention", "run"])
    finally:
        signals.student_retained_until_passed.disconnect(refuse)
    assert result.exit_code == 1 and "RuntimeError" in result.output
    db.session.expire_all()
    assert {name: len(keys) for name, keys in snapshot(db.session.get(Student, rich.student.id))["keys"].items()
            if keys} == counts
    assert db.session.get(Student, other_id) is None
    details = db.session.execute(select(AuditEvent.details).where(AuditEvent.action == "retention_run")).scalar_one()
    assert '"failed":1' in details and '"removed":1' in details
    assert verify_chain().ok


def test_alerts_without_a_case_name_their_student_and_go_with_them(rich, app):
    """News sent because something ended carries no case (it must not resolve with the case), and
    its link may name nothing of the student: ``student_id`` is how the run still finds it."""
    from app.guardians.assignments import close_assignment
    from app.guardians.models import CLOSE_REASONS
    w = rich
    close_assignment(w.proposal, w.coordinator, reason="student_moved", rematchable=False)
    db.session.commit()
    ended = db.session.execute(select(Notification).where(Notification.kind == "assignment_ended")).scalar_one()
    assert (ended.case_id, ended.link, ended.student_id) == (None, "/guardians/me", w.student.id)
    transfer_alert = db.session.execute(select(Notification).where(Notification.kind == "transfer")).scalars().first()
    assert transfer_alert.case_id is None and transfer_alert.student_id == w.student.id
    ended_id, transfer_id = ended.id, transfer_alert.id
    make_due(w.student)
    run(app)
    db.session.expire_all()
    assert db.session.get(Notification, ended_id) is None and db.session.get(Notification, transfer_id) is None
