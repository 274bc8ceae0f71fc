"""Assignment screens: the office coordinator suspends, reactivates (only once the guardian is
eligible again) and ends an assignment; the guardian asks to end one; a guardian eligible again
is offered to the coordinators with their paused assignments."""
import app.guardians.portal_views  # noqa: F401  (routes exist before apps are created)

import datetime as dt
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app import signals
from app.audit.models import AuditEvent
from app.cases.models import CaseEvent
from app.extensions import db
from app.guardians import services as gs
from app.guardians.activity import kst_date
from app.guardians.models import CHECK_KINDS
from app.i18n import korean_date
from app.notifications.models import Notification

from .portal_setup import matched


@pytest.fixture
def pair(build, eligible_guardian, coordinator):
    return matched(build, eligible_guardian, coordinator)


def url(pair, action: str = "") -> str:
    return f"/guardians/assignments/{pair.assignment.uid}" + (f"/{action}" if action else "")


def _audit(action):
    return list(db.session.execute(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars())


def _events(case) -> list[str]:
    return [e.text for e in db.session.execute(select(CaseEvent).filter_by(case_id=case.id)).scalars()]


def _alerts(kind, **filters):
    return list(db.session.execute(select(Notification).filter_by(kind=kind, **filters)).scalars())


# -- who may open it ------------------------------------------------------------------------------

def test_the_coordinator_opens_the_assignment_page(pair, coordinator, client, login):
    login(coordinator)
    response = client.get(url(pair))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert pair.guardian.name in html and pair.case.student.name in html
    assert 'data-testid="form-suspend"' in html and 'data-testid="form-end"' in html
    assert 'data-testid="form-reactivate"' not in html
    viewed = _audit("assignment_viewed")
    assert len(viewed) == 1 and viewed[0].subject_ref == pair.case.student.uid


@pytest.mark.parametrize("who, status", [("lead", 403), ("guardian", 403), ("agency", 403), ("other_office", 404)])
def test_others_may_not(build, pair, client, login, who, status):
    user = {"lead": lambda: pair.lead, "guardian": lambda: pair.user,
            "agency": lambda: build.user("agency_coordinator"),
            "other_office": lambda: build.user("district_coordinator",
                                               organisation=build.organisation("district_office", "강남구"))}[who]()
    login(user)
    assert client.get(url(pair)).status_code == status
    for action in ("suspend", "reactivate", "end"):
        assert client.post(url(pair, action), data={"s-reason": "other", "e-reason": "other"}).status_code == status
    db.session.expire_all()
    assert pair.assignment.status == "active"
    assert _audit("assignment_viewed") == []


# -- suspend, reactivate, end -----------------------------------------------------------------------

def test_suspend_needs_a_reason_then_pauses(pair, coordinator, client, login):
    login(coordinator)
    response = client.post(url(pair, "suspend"), data={"s-reason": ""})
    assert response.status_code == 400 and "중지 사유를 선택해 주세요." in response.get_data(as_text=True)
    response = client.post(url(pair, "suspend"), data={"s-reason": "consent_withdrawn"})  # the system's code
    assert response.status_code == 400
    db.session.expire_all()
    assert pair.assignment.status == "active"
    response = client.post(url(pair, "suspend"), data={"s-reason": "other"})
    assert response.status_code == 302 and response.headers["Location"].endswith(url(pair))
    db.session.expire_all()
    assert (pair.assignment.status, pair.assignment.suspended_reason) == ("suspended", "other")
    assert "교육후견인 활동 일시 중지: 기타" in _events(pair.case)
    assert _audit("assignment_suspended")[0].actor_id == coordinator.id
    # the guardian no longer sees the student
    client.post("/logout")
    login(pair.user)
    page = client.get(f"/guardians/me/{pair.assignment.uid}").get_data(as_text=True)
    assert 'data-testid="portal-paused"' in page and pair.case.student.given_name not in page


def test_reactivate_is_refused_while_the_guardian_is_ineligible(pair, coordinator, client, login):
    gs.change_guardian_status(coordinator, pair.guardian, "suspended", "확인 필요")
    db.session.commit()
    assert (pair.assignment.status, pair.assignment.suspended_reason) == ("suspended", "guardian_suspended")
    login(coordinator)
    page = client.get(url(pair)).get_data(as_text=True)
    assert 'data-testid="reactivate-refusal"' in page and "활동 상태가 아닙니다" in page
    response = client.post(url(pair, "reactivate"), data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "활동 요건을 갖추지 못했습니다" in html and "활동 상태가 아닙니다" in html
    db.session.expire_all()
    assert pair.assignment.status == "suspended" and _audit("assignment_reactivated") == []


def test_reinstated_guardian_is_offered_and_reactivated_from_the_guardian_page(build, pair, coordinator, client, login):
    second = build.user("district_coordinator", organisation=coordinator.organisation)
    gs.change_guardian_status(coordinator, pair.guardian, "suspended", "확인 필요")
    db.session.commit()
    seen = []
    receiver = lambda sender, **kwargs: seen.append((sender, kwargs["assignments"]))  # noqa: E731
    signals.guardian_reinstated.connect(receiver)
    try:
        gs.change_guardian_status(coordinator, pair.guardian, "active")
        db.session.commit()
    finally:
        signals.guardian_reinstated.disconnect(receiver)
    assert seen == [(pair.guardian, [pair.assignment])]
    offers = _alerts("assignment_reactivatable")
    assert {n.user_id for n in offers} == {coordinator.id, second.id}
    assert all(n.link == f"/guardians/{pair.guardian.uid}" and n.object_key == f"guardian:{pair.guardian.id}"
               and pair.case.student.name in n.text for n in offers)
    assert pair.assignment.status == "suspended"  # offered, not done
    login(coordinator)
    page = client.get(f"/guardians/{pair.guardian.uid}").get_data(as_text=True)
    assert 'data-testid="guardian-assignment" data-status="suspended"' in page and "재개" in page
    response = client.post(url(pair, "reactivate"), data={"r-back": "guardian"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/guardians/{pair.guardian.uid}")
    db.session.expire_all()
    assert pair.assignment.status == "active" and pair.assignment.suspended_reason is None
    assert all(n.resolved_at is not None for n in _alerts("assignment_reactivatable"))
    assert "교육후견인 활동 재개" in _events(pair.case)


def test_a_clear_check_result_reinstates_too(app, build, pair, coordinator):
    later = min(c.valid_until for c in pair.guardian.checks) + dt.timedelta(days=5)
    with freeze_time(dt.datetime.combine(later, dt.time(3))):
        gs.suspend_assignments_of(pair.guardian, "check_lapsed", coordinator)  # lapsed, status still active
        db.session.commit()
        checks = [gs.record_check_request(coordinator, pair.guardian, kind, later, later) for kind in CHECK_KINDS]
        gs.record_check_result(coordinator, checks[0], "clear", later, "R-1")
        db.session.commit()
        assert _alerts("assignment_reactivatable") == []  # still one check missing
        gs.record_check_result(coordinator, checks[1], "clear", later, "R-2")
        db.session.commit()
        assert {n.user_id for n in _alerts("assignment_reactivatable")} == {coordinator.id}
        assert [e.object_id for e in _audit("guardian_reinstated")] == [pair.guardian.uid]


def test_guardian_suspended_signal_when_assignments_pause(pair, coordinator):
    seen = []
    receiver = lambda sender, **kwargs: seen.append((sender, kwargs["reason"], kwargs["assignments"]))  # noqa: E731
    signals.guardian_suspended.connect(receiver)
    try:
        gs.change_guardian_status(coordinator, pair.guardian, "suspended")
        gs.suspend_assignments_of(pair.guardian, "check_lapsed")  # nothing active left: no signal
    finally:
        signals.guardian_suspended.disconnect(receiver)
    assert seen == [(pair.guardian, "guardian_suspended", [pair.assignment])]
    alert = _alerts("assignment_suspended", user_id=coordinator.id)[0]
    assert pair.case.student.name in alert.text and alert.object_key == f"assignment:{pair.assignment.id}"


def test_end_with_a_code_and_the_rematch_flag(pair, coordinator, client, login):
    login(coordinator)
    response = client.post(url(pair, "end"), data={"e-reason": "bogus", "e-rematchable": "y"})
    assert response.status_code == 400 and "종료 사유" in response.get_data(as_text=True)
    response = client.post(url(pair, "end"), data={"e-reason": "", "e-rematchable": "y"})
    assert response.status_code == 400 and "종료 사유를 선택해 주세요." in response.get_data(as_text=True)
    db.session.expire_all()
    assert pair.assignment.status == "active"
    ended = []
    receiver = lambda sender, **kwargs: ended.append((sender, kwargs["reason"]))  # noqa: E731
    signals.assignment_ended.connect(receiver)
    try:
        response = client.post(url(pair, "end"), data={"e-reason": "student_moved"})  # box unticked
    finally:
        signals.assignment_ended.disconnect(receiver)
    assert response.status_code == 302
    db.session.expire_all()
    a = pair.assignment
    assert (a.status, a.close_reason, a.rematchable) == ("closed", "student_moved", False)
    assert ended == [(a, "student_moved")]
    assert "교육후견인 연계 종료: 학생 전출" in _events(pair.case)
    news = _alerts("assignment_ended", user_id=pair.user.id)
    assert len(news) == 1 and news[0].case_id is None and pair.case.student.name not in news[0].text
    page = client.get(url(pair)).get_data(as_text=True)
    assert "다시 연계하지 않음" in page and 'data-testid="form-end"' not in page
    assert client.post(url(pair, "end"), data={"e-reason": "other"}).status_code == 400  # already closed


# -- the guardian asks to end -----------------------------------------------------------------------

def test_the_guardian_asks_to_end_and_the_coordinator_sees_it(build, pair, coordinator, client, login):
    login(pair.user)
    page = client.get(f"/guardians/me/{pair.assignment.uid}").get_data(as_text=True)
    assert 'data-testid="form-end-request"' in page
    target = f"/guardians/me/{pair.assignment.uid}/end-request"
    response = client.post(target, data={"note": "  "})
    assert response.status_code == 400 and "종료를 요청하는 사유를 적어 주세요." in response.get_data(as_text=True)
    response = client.post(target, data={"note": "x" * 501})
    assert response.status_code == 400 and "500자 이내" in response.get_data(as_text=True)
    assert pair.assignment.end_requested_at is None
    response = client.post(target, data={"note": "이사를 가게 되어 더 만나기 어렵습니다."}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "배정 종료를 요청했습니다" in html and 'data-testid="end-requested"' in html
    db.session.expire_all()
    a = pair.assignment
    assert a.end_requested_at is not None and a.end_request_note == "이사를 가게 되어 더 만나기 어렵습니다."
    assert "이사" not in (a.end_request_note_enc or "")
    alerts = _alerts("assignment_end_requested")
    assert [n.user_id for n in alerts] == [coordinator.id]
    assert alerts[0].object_key == f"assignment:{a.id}" and alerts[0].link == f"/guardians/assignments/{a.uid}"
    assert pair.guardian.name in alerts[0].text and pair.case.student.name in alerts[0].text
    event = _audit("assignment_end_requested")[0]
    assert "이사" not in (event.details or "")
    assert client.post(target, data={"note": "다시 요청"}).status_code == 400  # once is enough
    # the coordinator sees the request, on the assignment page and on the case page, and ends it
    client.post("/logout")
    login(coordinator)
    assert "이사를 가게 되어" in client.get(url(pair)).get_data(as_text=True)
    assert 'data-testid="end-requested"' in client.get(f"/cases/{pair.case.uid}").get_data(as_text=True)
    client.post(url(pair, "end"), data={"e-reason": "guardian_withdrew", "e-rematchable": "y"})
    db.session.expire_all()
    assert a.status == "closed" and all(n.resolved_at is not None for n in _alerts("assignment_end_requested"))


def test_someone_elses_assignment_cannot_be_asked_to_end(build, pair, eligible_guardian, coordinator, client, login):
    other = matched(build, eligible_guardian, coordinator)
    login(other.user)
    assert client.post(f"/guardians/me/{pair.assignment.uid}/end-request", data={"note": "그만둡니다"}).status_code == 404
    db.session.expire_all()
    assert pair.assignment.end_requested_at is None
    assert db.session.execute(select(func.count()).select_from(Notification).filter_by(
        kind="assignment_end_requested")).scalar_one() == 0


def test_pages_link_to_the_assignment_screen(pair, coordinator, client, login):
    login(coordinator)
    guardian_page = client.get(f"/guardians/{pair.guardian.uid}").get_data(as_text=True)
    assert url(pair) in guardian_page and pair.case.student.name in guardian_page
    manage = client.get(url(pair)).get_data(as_text=True)
    assert korean_date(kst_date(pair.assignment.created_at)) in manage  # Korean dates, never ISO
    assert not re.search(r">[^<]*\d{4}-\d{2}-\d{2}", manage)


def test_an_end_form_from_a_stale_page_is_refused(pair, coordinator, client, login):
    """Issue 19: the form carries the status the page showed (e-seen); the assignment was
    suspended meanwhile, so the click meant for the active assignment is refused and changes nothing."""
    login(coordinator)
    page = client.get(url(pair)).get_data(as_text=True)
    assert re.search(r'name="e-seen"[^>]*value="active"|value="active"[^>]*name="e-seen"', page)
    from app.guardians.assignments import suspend_assignment
    from app.guardians.models import SUSPEND_REASONS
    suspend_assignment(pair.assignment, coordinator, next(iter(SUSPEND_REASONS)))  # another tab, first
    db.session.commit()
    response = client.post(url(pair, "end"), data={"e-reason": "student_moved", "e-seen": "active"})
    assert response.status_code == 400 and "다른 사용자가 먼저 처리했습니다" in response.get_data(as_text=True)
    db.session.expire_all()
    assert pair.assignment.status == "suspended"
