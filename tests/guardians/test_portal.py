"""The guardian portal: own assignments only, minimal fields, every view audited; paused guardians
see why and no student data; logging through the form; the coordinator's monthly totals."""
import app.guardians.portal_views  # noqa: F401  (routes exist before apps are created)

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import today_kst
from app.extensions import db
from app.guardians.assignments import suspend_assignment
from app.guardians.models import ActivityLog, Assignment
from tests.factories import clear

from .portal_setup import PRIVATE_GOAL, SHARED_GOAL, matched


@pytest.fixture
def pair(build, eligible_guardian, coordinator):
    return matched(build, eligible_guardian, coordinator, student_name="박하늘")


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars())


def _assert_minimal(html: str, student) -> None:
    assert student.given_name in html
    for secret in (student.name, student.birth_date.isoformat(), f"{student.birth_date:%Y. %-m. %-d.}",
                   student.phone, student.address, student.parent_name, student.parent_phone, student.neis_number):
        assert secret not in html, secret


@pytest.mark.parametrize("path", ["/guardians/me", "/home/guardian"])
def test_guardian_sees_only_their_own_students_with_minimal_fields(build, pair, eligible_guardian, coordinator,
                                                                   client, login, path):
    other = matched(build, eligible_guardian, coordinator, student_name="최바다")
    login(pair.user)
    html = client.get(path).get_data(as_text=True)
    student = pair.case.student
    assert student.given_name == "하늘"
    _assert_minimal(html, student)
    assert pair.case.school.name in html and "5학년" in html and SHARED_GOAL in html
    assert PRIVATE_GOAL not in html and "바다" not in html and other.case.school.name not in html
    assert pair.case.uid not in html  # no link to the case page
    viewed = _events("guardian_assignment_viewed")
    assert [(e.object_id, e.subject_ref) for e in viewed] == [(pair.assignment.uid, student.uid)]


def test_assignment_page_shows_minimal_fields_and_is_audited(pair, client, login):
    login(pair.user)
    response = client.get(f"/guardians/me/{pair.assignment.uid}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    _assert_minimal(html, pair.case.student)
    assert SHARED_GOAL in html and PRIVATE_GOAL not in html and 'data-testid="form-activity"' in html
    assert _events("guardian_assignment_viewed")[-1].object_id == pair.assignment.uid


def test_another_guardians_assignment_is_an_audited_404(build, pair, eligible_guardian, coordinator, client, login):
    other = matched(build, eligible_guardian, coordinator)
    login(pair.user)
    for url in (f"/guardians/me/{other.assignment.uid}", "/guardians/me/not-a-uid"):
        assert client.get(url).status_code == 404
    response = client.post(f"/guardians/me/{other.assignment.uid}/log",
                           data={"occurred_on": today_kst().isoformat(), "minutes": "30", "kind": "learning"})
    assert response.status_code == 404
    denied = _events("permission_denied")
    assert [e.object_id for e in denied] == [other.assignment.uid, "not-a-uid", other.assignment.uid]
    assert all(e.outcome == "denied" and e.object_type == "guardian_assignment" for e in denied)
    assert db.session.execute(select(ActivityLog)).first() is None
    assert not any(e.object_id == other.assignment.uid for e in _events("guardian_assignment_viewed"))


def test_case_pages_are_forbidden_to_guardians(pair, client, login):
    login(pair.user)
    # the case page answers a guardian like any case outside their scope: an audited 404
    assert client.get(f"/cases/{pair.case.uid}").status_code == 404
    for url in ("/cases/", "/cases/new", "/guardians/totals"):
        assert client.get(url).status_code == 403, url
    assert client.get(f"/students/{pair.case.student.uid}").status_code in (403, 404)
    denied = _events("permission_denied")
    assert len(denied) == 5 and all(e.actor_id == pair.user.id for e in denied)
    assert not _events("case_viewed")


def test_logging_through_the_form(pair, client, login):
    login(pair.user)
    url = f"/guardians/me/{pair.assignment.uid}/log"
    response = client.post(url, data={"occurred_on": today_kst().isoformat(), "minutes": "0", "kind": "learning"})
    assert response.status_code == 400 and "1분에서 600분" in response.get_data(as_text=True)
    response = client.post(url, data={"occurred_on": (today_kst() + dt.timedelta(days=2)).isoformat(),
                                      "minutes": "30", "kind": "learning"})
    assert response.status_code == 400 and "오늘이나 그 전이어야" in response.get_data(as_text=True)  # no future day
    assert db.session.execute(select(ActivityLog)).first() is None
    concern = {"occurred_on": today_kst().isoformat(), "minutes": "45", "kind": "emotional",
               "notes": "학교 생활 이야기", "concern": "y"}
    response = client.post(url, data={**concern, "concern_description": "걱정됨"})
    assert response.status_code == 400 and "우려 내용을 한 문장 이상 적어 주세요." in response.get_data(as_text=True)
    assert db.session.execute(select(ActivityLog)).first() is None
    response = client.post(url, data={**concern, "concern_description": "친구들이 괴롭힌다고 말했습니다."},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "우려 사항을 학교 지원팀과 교육지원청에 알렸습니다" in html
    assert "학교 생활 이야기" in html and "45분" in html
    log = db.session.execute(select(ActivityLog)).scalar_one()
    assert (log.minutes, log.kind, log.concern) == (45, "emotional", True)


def test_a_lapsed_guardian_sees_why_and_no_student_data(pair, client, login):
    with freeze_time(dt.datetime.now() + dt.timedelta(days=400)):
        clear(pair.user)  # this year's 개인정보 training is on record: only the record checks lapsed
        db.session.commit()
        login(pair.user)
        for url in ("/guardians/me", "/home/guardian", f"/guardians/me/{pair.assignment.uid}"):
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.get_data(as_text=True)
            assert "활동이 일시 중지되었습니다" in html or "활동 일시 중지" in html
            assert "유효기간 만료" in html
            assert pair.case.student.given_name not in html and pair.case.school.name not in html
            assert SHARED_GOAL not in html
        response = client.post(f"/guardians/me/{pair.assignment.uid}/log",
                               data={"occurred_on": today_kst().isoformat(), "minutes": "30", "kind": "learning"})
        assert response.status_code == 400 and "활동 자격 요건" in response.get_data(as_text=True)
        assert pair.case.student.given_name not in response.get_data(as_text=True)
    assert not _events("guardian_assignment_viewed")
    assert db.session.execute(select(ActivityLog)).first() is None


def test_a_suspended_assignment_shows_its_reason_only(pair, coordinator, client, login):
    suspend_assignment(pair.assignment, coordinator, "other")
    db.session.commit()
    login(pair.user)
    for url in ("/guardians/me", f"/guardians/me/{pair.assignment.uid}"):
        html = client.get(url).get_data(as_text=True)
        assert "중지 사유" in html and "기타" in html
        assert pair.case.student.given_name not in html and SHARED_GOAL not in html
    assert not _events("guardian_assignment_viewed")


def test_accept_and_decline_from_the_portal(build, eligible_guardian, coordinator, client, login):
    guardian = eligible_guardian(capacity=3)
    first = matched(build, eligible_guardian, coordinator, accept=False, guardian=guardian)
    second = matched(build, eligible_guardian, coordinator, accept=False, guardian=guardian)
    login(first.user)
    html = client.get("/guardians/me").get_data(as_text=True)
    assert html.count('data-status="proposed"') == 2 and "수락" in html and "거절" in html
    response = client.post(f"/guardians/me/{first.assignment.uid}/accept", follow_redirects=True)
    assert "배정을 수락했습니다" in response.get_data(as_text=True)
    response = client.post(f"/guardians/me/{second.assignment.uid}/decline", data={"reason": ""},
                           follow_redirects=True)
    assert "거절 사유를 입력해 주세요" in response.get_data(as_text=True)
    client.post(f"/guardians/me/{second.assignment.uid}/decline", data={"reason": "시간이 맞지 않음"})
    db.session.expire_all()
    assert db.session.get(Assignment, first.assignment.id).status == "active"
    assert db.session.get(Assignment, second.assignment.id).status == "declined"
    assert client.get(f"/guardians/me/{second.assignment.uid}").status_code == 404


def test_coordinator_monthly_totals_page_and_download(pair, coordinator, client, login):
    from app.guardians.activity import log_activity
    log_activity(pair.assignment, pair.user, occurred_on=today_kst(), minutes=90, kind="learning", notes="")
    db.session.commit()
    login(coordinator)
    month = today_kst().strftime("%Y-%m")
    html = client.get(f"/guardians/totals?month={month}").get_data(as_text=True)
    assert pair.guardian.name in html and "1.5시간 (90분)" in html
    assert client.get("/guardians/totals?month=2024-13").status_code == 400
    response = client.get(f"/guardians/totals.xlsx?month={month}")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert "attachment" in response.headers["Content-Disposition"]
    exported = _events("guardian_totals_exported")
    assert len(exported) == 1 and exported[0].object_id == month and exported[0].reason
    assert pair.guardian.name not in (exported[0].details or "")
