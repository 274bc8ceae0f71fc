"""Every view of personal data is audited: walk every GET route in ``app.url_map``, open it as a
role that may, and require an audit event naming the data subject (or, for a list page, its
list event).  Routes that show no personal data are declared below with the reason; a new GET
route that is neither audited here nor declared fails the first test."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

import pytest
from flask import g
from sqlalchemy import func, select

from app.agencies import referrals as r
from app.audit.models import AuditEvent
from app.conferences import services as cs
from app.db import today_kst
from app.extensions import db
from app.guardians.activity import log_activity
from app.guardians.models import GuardianConcern

from .agencies.conftest import agency_with_service  # noqa: F401  (fixture)
from .conferences.conftest import conference_world, make_conference  # noqa: F401  (fixtures)
from .factories import DEFAULT_PASSWORD
from .guardians.conftest import coordinator, eligible_guardian  # noqa: F401  (fixtures)

#: GET routes that show no personal data, and why
NO_PERSONAL_DATA = {
    "notifications.settings": "the user's own alert settings (their own address, masked)",
    "notifications.verify_address": "redirects to the user's own alert settings",
    "static": "static files",
    "auth.login": "the sign-in form",
    "auth.login_code": "the second-factor form",
    "auth.account": "the user's own account page",
    "auth.totp_enrol": "the user's own account page",
    "auth.totp_recovery_codes": "the user's own account page",
    "auth.totp_disable": "the user's own account page",
    "auth.clearance": "the user's own handling clearance",
    "home.index": "redirects to the role's home",
    "home.admin": "counts only",
    "home.auditor": "counts only",
    "admin.organisations": "organisations, not people",
    "admin.organisation": "organisations, not people",
    "admin.new_organisation": "an empty form",
    "admin.new_user": "an empty form",
    "agencies.directory": "agencies and their services, not people",
    "agencies.detail": "agencies and their services, not people",
    "agencies.edit_agency": "agencies and their services, not people",
    "agencies.new_agency": "an empty form",
    "agencies.new_service": "an empty form",
    "agencies.edit_service": "agencies and their services, not people",
    "agencies.import_csv": "the upload form (the import itself is a POST)",
    "agencies.export_csv": "the agency directory, no people",
    "audit.export": "the export form (the export itself is a POST)",
    "conferences.index": "dates, kinds, places and organising schools; no students",
    "conferences.cancel": "the cancel form: date, kind and organiser only",
    "guardians.new": "an empty form",
    "students.new": "an empty form",
    "students.import_csv": "the upload form (the import itself is a POST)",
    "students.import_template": "an empty CSV template",
    "reports.index": "redirects to the user's statistics page",
}


@dataclass
class Audited:
    """Open ``endpoint`` as ``who`` with ``args(world)``; expect an event naming ``subject(world)``
    (its uid as subject or object) or, for a list page, an event of ``list_action``."""
    who: str
    args: Callable = lambda w: {}
    subject: Callable | None = None
    list_action: str | None = None


def _student(case_key: str) -> Callable:
    return lambda w: getattr(w, case_key).student.uid


AUDITED = {
    "home.school": Audited("staff", list_action="home_viewed"),
    "home.lead": Audited("lead", list_action="home_viewed"),
    "home.district": Audited("coordinator", list_action="home_viewed"),
    "home.guardian": Audited("guardian_user", list_action="home_viewed"),
    "home.agency": Audited("agent", list_action="home_viewed"),
    "notifications.index": Audited("lead", list_action="notification_list_viewed"),
    "notifications.outbox": Audited("admin", list_action="mail_outbox_viewed"),
    "students.index": Audited("staff", list_action="student_list_viewed"),
    "students.view": Audited("staff", lambda w: {"uid": w.referral_case.student.uid}, _student("referral_case")),
    "records.retention_due": Audited("lead", list_action="retention_list_viewed"),
    "records.retention_student": Audited("lead", lambda w: {"uid": w.referral_case.student.uid},
                                         _student("referral_case")),
    "records.subject_requests": Audited("lead", list_action="subject_request_list_viewed"),
    "records.new_subject_request": Audited("lead", lambda w: {"student_uid": w.referral_case.student.uid},
                                           _student("referral_case")),
    "records.subject_request": Audited("lead", lambda w: {"uid": w.subject_request.uid}, _student("referral_case")),
    "records.subject_copy": Audited("lead", lambda w: {"uid": w.subject_request.uid}, _student("referral_case")),
    "records.subject_copy_json": Audited("lead", lambda w: {"uid": w.subject_request.uid}, _student("referral_case")),
    "cases.index": Audited("staff", list_action="case_list_viewed"),
    "cases.new": Audited("staff", list_action="student_list_viewed"),
    "cases.view": Audited("staff", lambda w: {"uid": w.referral_case.uid}, _student("referral_case")),
    "conferences.new": Audited("lead", subject=_student("guardian_case")),
    "conferences.my_work": Audited("lead", lambda w: {"show": "reviews"}, list_action="conference_work_viewed"),
    "conferences.view": Audited("lead", lambda w: {"uid": w.live.uid}, _student("guardian_case")),
    "conferences.print_view": Audited("lead", lambda w: {"uid": w.live.uid}, _student("guardian_case")),
    "conferences.record_meeting": Audited("lead", lambda w: {"uid": w.live.uid}, _student("guardian_case")),
    "conferences.amend": Audited("lead", lambda w: {"uid": w.held.uid}, _student("guardian_case")),
    "conferences.version": Audited("lead", lambda w: {"uid": w.held.uid, "amendment_uid": w.amendment.uid},
                                   _student("guardian_case")),
    "agencies.suggest": Audited("staff", lambda w: {"uid": w.referral_case.uid}, _student("referral_case")),
    "agencies.new_referral": Audited("staff", lambda w: {"case_uid": w.referral_case.uid}, _student("referral_case")),
    "agencies.referral": Audited("staff", lambda w: {"uid": w.referral.uid}, _student("referral_case")),
    "agencies.edit_referral": Audited("staff", lambda w: {"uid": w.draft.uid}, _student("private_case")),
    "agencies.overdue_referrals": Audited("staff", list_action="referral_list_viewed"),
    "records.transfers": Audited("lead", list_action="transfer_list_viewed"),
    "records.transfer": Audited("lead", lambda w: {"uid": w.transfer_out.uid}, _student("transfer_case")),
    "records.new_transfer": Audited("lead", lambda w: {"case_uid": w.referral_case.uid}, _student("referral_case")),
    "agencies.inbox": Audited("agent", list_action="referral_inbox_viewed"),
    "agencies.inbox_referral": Audited("agent", lambda w: {"uid": w.referral.uid}, _student("referral_case")),
    "guardians.roster": Audited("coordinator", list_action="guardian_list_viewed"),
    "guardians.detail": Audited("coordinator", lambda w: {"uid": w.guardian.uid}, lambda w: w.guardian.uid),
    "guardians.edit": Audited("coordinator", lambda w: {"uid": w.guardian.uid}, lambda w: w.guardian.uid),
    "guardians.manage": Audited("coordinator", lambda w: {"uid": w.assignment.uid}, _student("guardian_case")),
    "guardians.concern": Audited("lead", lambda w: {"uid": w.concern.uid}, _student("guardian_case")),
    "guardians.suggestions": Audited("coordinator", lambda w: {"uid": w.referral_case.uid},
                                     _student("referral_case")),
    "guardians.batch": Audited("coordinator", list_action="guardian_batch_viewed"),
    "guardians.portal": Audited("guardian_user", subject=_student("guardian_case")),
    "guardians.assignment": Audited("guardian_user", lambda w: {"uid": w.assignment.uid}, _student("guardian_case")),
    "guardians.totals": Audited("coordinator", list_action="guardian_totals_viewed"),
    "guardians.totals_xlsx": Audited("coordinator", list_action="guardian_totals_exported"),
    "auth.handling_list": Audited("admin", list_action="handling_list_viewed"),
    "auth.handling_user": Audited("admin", lambda w: {"uid": w.staff.uid}, lambda w: w.staff.uid),
    "admin.users": Audited("admin", list_action="admin_users_viewed"),
    "admin.user": Audited("admin", lambda w: {"uid": w.staff.uid}, lambda w: w.staff.uid),
    "audit.search": Audited("auditor", list_action="audit_searched"),
    "audit.review": Audited("auditor", list_action="access_review_viewed"),
    "audit.overrides": Audited("auditor", list_action="audit_overrides_viewed"),
    "audit.grants": Audited("auditor", list_action="grant_history_viewed"),
    # statistics show aggregates, never a person; each view and download is audited with its filters
    "reports.page": Audited("lead", lambda w: {"level": "school"}, list_action="report_viewed"),
    "reports.export": Audited("lead", lambda w: {"level": "school", "fmt": "xlsx"}, list_action="report_exported"),
    "reports.district_report": Audited("coordinator", list_action="report_printed"),
}


def get_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}


def test_every_get_route_is_audited_or_declared(app):
    endpoints = get_endpoints(app)
    unknown = endpoints - set(AUDITED) - set(NO_PERSONAL_DATA)
    assert not unknown, f"GET routes neither audited nor declared free of personal data: {sorted(unknown)}"
    assert not set(AUDITED) & set(NO_PERSONAL_DATA)
    # the lists name only routes that exist, so a renamed route cannot hide here
    assert set(AUDITED) | set(NO_PERSONAL_DATA) <= endpoints


@pytest.fixture
def world(build, conference_world, make_conference):  # noqa: F811  (fixtures imported above)
    """The conference world plus one of every other object a GET route shows."""
    w = conference_world
    w.live = make_conference(started=True)
    w.held = make_conference(started=True)
    cs.record_meeting(w.held, w.lead, attended_participant_ids=[], minutes="처음 적은 회의록", decisions={
        w.guardian_case.id: dict(decision="continue", note="유지", next_review_on=None, actions=[]),
        w.referral_case.id: dict(decision="continue", note="유지", actions=[],
                                 next_review_on=today_kst() + dt.timedelta(days=10))})
    db.session.commit()
    cs.amend_meeting(w.held, w.lead, reason="오기 정정", minutes="고친 회의록", decisions={
        str(cc.case_id): dict(decision=cc.decision, note=cc.decision_note, next_review_on=cc.next_review_on)
        for cc in w.held.cases})
    db.session.commit()
    w.amendment = _last_amendment(w.held)
    log_activity(w.assignment, w.guardian_user, occurred_on=today_kst(), minutes=40, kind="daily_life",
                 notes="함께 숙제", concern=True, concern_description="보호자가 자주 집을 비움")
    db.session.commit()
    w.concern = db.session.execute(select(GuardianConcern).where(
        GuardianConcern.assignment_id == w.assignment.id)).scalar_one()
    w.draft = r.create_referral(w.private_case, w.staff, agency=w.agency, service=w.service, reason="학습 지원",
                                shared_items=["needs"])
    db.session.commit()
    # transfers (전학): one sent from the school to a 노원구 school (another office) and one to it
    from app.records.transfer_services import send_transfer
    w.transfer_school = build.school(gu="노원구", name="전입테스트초등학교")
    w.transfer_lead = build.user("school_lead", organisation=w.transfer_school)
    w.transfer_case = build.case(school=w.school, status="in_support", lead=w.lead)
    w.transfer_out = send_transfer(w.transfer_case, w.lead, to_school=w.transfer_school)
    w.incoming_case = build.case(school=w.transfer_school, status="in_support", lead=w.transfer_lead)
    w.transfer_in = send_transfer(w.incoming_case, w.transfer_lead, to_school=w.school)
    db.session.commit()
    # a 열람 request about the referral case's student (records: requests)
    from app.records.request_services import record_request
    w.subject_request = record_request(w.lead, w.referral_case.student, kind="access", requested_by="parent",
                                       requested_on=today_kst(), identity_method="parent_record")
    db.session.commit()
    w.admin = build.user("admin")
    w.auditor = build.user("auditor")
    return w


def _last_amendment(conference):
    from app.conferences.models import ConferenceAmendment
    return db.session.execute(select(ConferenceAmendment).where(ConferenceAmendment.conference_id == conference.id)
                              .order_by(ConferenceAmendment.id.desc())).scalars().first()


def sign_in(app, user):
    """A new client signed in as ``user`` (drops the user Flask-Login cached in the shared ``g``)."""
    g.pop("_login_user", None)
    client = app.test_client()
    response = client.post("/login", data={"login": user.login, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, (user.role, response.get_data(as_text=True)[:300])
    return client


def _last_event_id() -> int:
    return db.session.execute(select(func.coalesce(func.max(AuditEvent.id), 0))).scalar_one()


def test_every_route_with_personal_data_writes_its_view_event(app, world):
    from flask import url_for
    clients, failures = {}, []
    for endpoint, spec in sorted(AUDITED.items()):
        user = getattr(world, spec.who)
        if spec.who not in clients:
            clients[spec.who] = sign_in(app, user)
        with app.test_request_context():
            url = url_for(endpoint, **spec.args(world))
        before = _last_event_id()
        g.pop("_login_user", None)
        response = clients[spec.who].get(url)
        db.session.rollback()
        if response.status_code != 200:
            failures.append(f"{endpoint} {url}: HTTP {response.status_code}")
            continue
        events = list(db.session.execute(select(AuditEvent).where(AuditEvent.id > before)).scalars())
        if spec.list_action:
            ok = any(e.action == spec.list_action and e.actor_id == user.id for e in events)
        else:
            uid = spec.subject(world)
            ok = any(e.action.endswith(("_viewed", "_exported")) and uid in (e.subject_ref, e.object_id)
                     and e.actor_id == user.id for e in events)
        if not ok:
            failures.append(f"{endpoint} {url}: no view event ({[(e.action, e.subject_ref) for e in events]})")
    assert not failures, "\n".join(failures)


def test_the_four_screens_name_their_subject(app, world):
    """The four screens found unaudited (issue 12): each writes its view event with the subject."""
    w = world
    screens = [("coordinator", f"/guardians/{w.guardian.uid}/edit", "guardian_viewed", w.guardian.uid),
               ("lead", f"/conferences/{w.live.uid}/record", "conference_case_viewed", w.guardian_case.student.uid),
               ("lead", "/conferences/new", "case_viewed", w.referral_case.student.uid),
               ("staff", f"/agencies/referrals/new/{w.referral_case.uid}", "case_viewed", w.referral_case.student.uid)]
    for who, url, action, subject in screens:
        before = _last_event_id()
        client = sign_in(app, getattr(w, who))
        g.pop("_login_user", None)
        assert client.get(url).status_code == 200, url
        db.session.rollback()
        subjects = {(e.action, e.subject_ref) for e in db.session.execute(
            select(AuditEvent).where(AuditEvent.id > before)).scalars()}
        assert (action, subject) in subjects, (url, subjects)


def test_a_screen_seen_by_someone_else_writes_no_view_event(app, world, build):
    """Another school's lead gets an audited 404, not a view event, on the new-referral screen."""
    w = world
    client = sign_in(app, w.other_lead)
    before = _last_event_id()
    g.pop("_login_user", None)
    assert client.get(f"/agencies/referrals/new/{w.referral_case.uid}").status_code == 404
    db.session.rollback()
    actions = [e.action for e in db.session.execute(select(AuditEvent).where(AuditEvent.id > before)).scalars()]
    assert "case_viewed" not in actions
