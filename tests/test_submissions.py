"""A form is acted on once (app/submissions.py, issue 19): the same submission sent twice — a
double click, a POST resent after a timeout, two at the same moment — writes one note, one plan
action, one activity log, one 열람·정정 request, one agency service; the repeat changes nothing
and goes where the first went.  A refused submission can be corrected and sent again; a new form
(a new token) or changed fields are a new submission; tokens are swept after a day."""
from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from flask import g
from freezegun import freeze_time
from sqlalchemy import func, select

from app.agencies.models import AgencyService
from app.cases.models import CaseNote, PlanAction
from app.db import today_kst, utcnow
from app.extensions import db
from app.guardians.models import ActivityLog
from app.records.request_models import SubjectRequest
from app.submissions import FormSubmission

from .concurrency import at_once
from .guardians.conftest import coordinator, eligible_guardian  # noqa: F401  (fixtures)
from .guardians.test_portal import pair  # noqa: F401  (fixture)
from .records.request_helpers import sign_in

REPEAT = "이미 처리된 요청입니다"


def token_on(client, page: str, field: str) -> str:
    """The one-time token of the form whose hidden field is ``field`` on ``page``."""
    g.pop("_login_user", None)
    html = client.get(page).get_data(as_text=True)
    db.session.rollback()
    found = re.search(rf'name="{re.escape(field)}" type="hidden" value="([^"]+)"', html) or re.search(
        rf'id="{re.escape(field)}" name="{re.escape(field)}" type="hidden" value="([^"]+)"', html)
    assert found, f"no {field} on {page}"
    return found.group(1)


def send(client, url: str, data: dict):
    g.pop("_login_user", None)
    response = client.post(url, data=data)
    db.session.rollback()
    return response


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# -- the creating forms ------------------------------------------------------------------------

def _note(build, **_):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school=school, status="planning", lead=lead)
    return SimpleNamespace(user=lead, page=f"/cases/{case.uid}", url=f"/cases/{case.uid}/notes", prefix="note-",
                           data={"note-kind": "counselling", "note-body": "어머니와 통화함"}, model=CaseNote)


def _plan_action(build, **_):
    case = build.case(status="planning")
    staff = build.user("school_staff", organisation=case.school)
    return SimpleNamespace(user=staff, page=f"/cases/{case.uid}", url=f"/cases/{case.uid}/plan", prefix="plan-",
                           data={"plan-need_id": str(case.needs[0].id), "plan-goal": "받아쓰기 80점",
                                 "plan-action": "주 2회 보충", "plan-owner_id": str(staff.id),
                                 "plan-due_on": (today_kst() + dt.timedelta(days=7)).isoformat()},
                           model=PlanAction)


def _subject_request(build, **_):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    student = build.student(school, actor=lead)
    url = f"/records/requests/new/{student.uid}"
    return SimpleNamespace(user=lead, page=url, url=url, prefix="", model=SubjectRequest,
                           data={"kind": "access", "requested_by": "parent", "requested_on": today_kst().isoformat(),
                                 "identity_method": "parent_record"})


def _activity_log(build, pair, **_):
    return SimpleNamespace(user=pair.user, page=f"/guardians/me/{pair.assignment.uid}",
                           url=f"/guardians/me/{pair.assignment.uid}/log", prefix="", model=ActivityLog,
                           data={"occurred_on": today_kst().isoformat(), "minutes": "30", "kind": "learning"})


def _agency_service(build, **_):
    coordinator = build.user("district_coordinator", organisation=build.organisation("district_office", gu="마포구"))
    url = f"/agencies/{build.agency().uid}/services/new"
    return SimpleNamespace(user=coordinator, page=url, url=url, prefix="", model=AgencyService,
                           data={"name": "청소년 상담", "domains": ["counselling"], "min_age": "10", "max_age": "19",
                                 "languages": "한국어", "capacity_status": "waitlist", "areas": [build.gu("마포구").id]})


CREATORS = {"note": _note, "plan_action": _plan_action, "subject_request": _subject_request,
            "activity_log": _activity_log, "agency_service": _agency_service}


@pytest.fixture(params=sorted(CREATORS))
def creator(request, app, build):
    extra = {"pair": request.getfixturevalue("pair")} if request.param == "activity_log" else {}
    scene = CREATORS[request.param](build, **extra)
    db.session.commit()
    scene.client = sign_in(app, scene.user)
    scene.data = {**scene.data, f"{scene.prefix}submission": token_on(scene.client, scene.page,
                                                                         f"{scene.prefix}submission")}
    scene.before = count(scene.model)
    return scene


def test_the_same_submission_twice_is_saved_once(creator):
    first = send(creator.client, creator.url, creator.data)
    assert first.status_code == 302, first.get_data(as_text=True)[:400]
    second = send(creator.client, creator.url, creator.data)
    assert second.status_code == 303 and second.location == first.location
    assert count(creator.model) == creator.before + 1
    g.pop("_login_user", None)
    shown = creator.client.get(second.location).get_data(as_text=True)
    assert REPEAT in shown


def test_a_new_form_or_changed_fields_are_a_new_submission(creator):
    assert send(creator.client, creator.url, creator.data).status_code == 302
    fresh = token_on(creator.client, creator.page, f"{creator.prefix}submission")
    assert fresh != creator.data[f"{creator.prefix}submission"]
    assert send(creator.client, creator.url, {**creator.data, f"{creator.prefix}submission": fresh}).status_code == 302
    assert count(creator.model) == creator.before + 2


def test_a_refused_submission_can_be_corrected_and_sent_again(app, build):
    scene = _note(build)
    db.session.commit()
    client = sign_in(app, scene.user)
    token = token_on(client, scene.page, "note-submission")
    refused = send(client, scene.url, {**scene.data, "note-body": "  ", "note-submission": token})
    assert refused.status_code == 400 and REPEAT not in refused.get_data(as_text=True)
    assert count(CaseNote) == 0 and count(FormSubmission) == 0  # the claim went with the refusal
    assert send(client, scene.url, {**scene.data, "note-submission": token}).status_code == 302
    assert count(CaseNote) == 1


@pytest.mark.parametrize("token", ["", "x", "x" * 500, "../../etc", "가" * 32])
def test_a_missing_or_malformed_token_is_not_refused(app, build, token):
    scene = _note(build)
    db.session.commit()
    client = sign_in(app, scene.user)
    for _ in range(2):  # no protection without a token, and no 500 either
        assert send(client, scene.url, {**scene.data, "note-submission": token}).status_code == 302
    assert count(CaseNote) == 2 and count(FormSubmission) == 0


def test_another_user_sending_the_same_token_is_not_a_repeat(app, build):
    scene = _note(build)
    colleague = build.user("school_lead", organisation=scene.user.organisation)
    db.session.commit()
    client = sign_in(app, scene.user)
    data = {**scene.data, "note-submission": token_on(client, scene.page, "note-submission")}
    assert send(client, scene.url, data).status_code == 302
    assert send(sign_in(app, colleague), scene.url, data).status_code == 302
    assert count(CaseNote) == 2


def test_a_form_showing_its_result_once_is_not_replayed(app, build):
    """A password shown once must be shown by the second answer too: no token, a new password."""
    admin = build.user("admin")
    target = build.user("school_staff")
    db.session.commit()
    client = sign_in(app, admin)
    g.pop("_login_user", None)
    page = client.get(f"/admin/users/{target.uid}").get_data(as_text=True)
    db.session.rollback()
    assert 'name="reset-submission"' not in page and 'name="grant-submission"' in page
    data = {"reset-reason": "분실 신고"}
    answers = [send(client, f"/admin/users/{target.uid}/password", data) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert all("임시 비밀번호" in a.get_data(as_text=True) for a in answers)


def test_a_search_form_sent_by_get_carries_no_token(app, build):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    db.session.commit()
    client = sign_in(app, lead)
    g.pop("_login_user", None)
    html = client.get("/cases/").get_data(as_text=True)
    db.session.rollback()
    assert "submission" not in html


def test_tokens_are_swept_after_a_day(app, build):
    scene = _note(build)
    db.session.commit()
    client = sign_in(app, scene.user)
    with freeze_time(utcnow()) as frozen:
        assert send(client, scene.url, {**scene.data, "note-submission": token_on(
            client, scene.page, "note-submission")}).status_code == 302
        assert count(FormSubmission) == 1
        frozen.tick(dt.timedelta(hours=23))
        client = sign_in(app, scene.user)
        assert send(client, scene.url, {**scene.data, "note-submission": token_on(
            client, scene.page, "note-submission")}).status_code == 302
        assert count(FormSubmission) == 2  # a day has not passed: the first is still kept
        frozen.tick(dt.timedelta(hours=2))
        client = sign_in(app, scene.user)
        assert send(client, scene.url, {**scene.data, "note-submission": token_on(
            client, scene.page, "note-submission")}).status_code == 302
        assert count(FormSubmission) == 2  # the first went, the newest came


# -- two at the same moment ---------------------------------------------------------------------

@pytest.mark.parametrize("round_", range(3))
def test_two_identical_submissions_at_the_same_moment_save_one(app, build, round_):
    """Two clients of the same user (a double click reaching two workers) post the same token at
    once, on real connections: one note, and both answers go to the case page (the repeat waits
    for the first to note where it went)."""
    scene = _note(build)
    db.session.commit()
    clients = [sign_in(app, scene.user), sign_in(app, scene.user)]
    data = {**scene.data, "note-submission": token_on(clients[0], scene.page, "note-submission")}
    db.session.rollback()  # the test's own session must not hold SQLite's write lock meanwhile

    def post(k: int, ready):
        ready()
        return clients[k].post(scene.url, data=data)

    answers = at_once(app, post)
    assert sorted(a.status_code for a in answers) == [302, 303], [a.get_data(as_text=True)[:300] for a in answers]
    assert len({a.location for a in answers}) == 1 and answers[0].location.startswith(scene.page)
    assert count(CaseNote) == 1 and count(FormSubmission) == 1


def test_a_repeat_whose_first_answer_was_a_page_goes_back_to_the_form(app, build, monkeypatch):
    """Where the first answer was not a redirect, nothing was noted: the repeat goes back to the
    page it was sent from (never to another site)."""
    monkeypatch.setattr("app.submissions.NOTING_POLLS", 2)
    scene = _note(build)
    db.session.commit()
    client = sign_in(app, scene.user)
    data = {**scene.data, "note-submission": token_on(client, scene.page, "note-submission")}
    assert send(client, scene.url, data).status_code == 302
    db.session.execute(FormSubmission.__table__.update().values(location=None))
    db.session.commit()
    g.pop("_login_user", None)
    back = client.post(scene.url, data=data, headers={"Referer": f"http://localhost{scene.page}?tab=notes"})
    assert back.status_code == 303 and back.location == f"{scene.page}?tab=notes"
    g.pop("_login_user", None)
    away = client.post(scene.url, data=data, headers={"Referer": "https://evil.example/cases"})
    assert away.status_code == 303 and away.location == "/"
    db.session.rollback()
    assert count(CaseNote) == 1
