"""활동일지 service: only the assignment's own eligible guardian logs, within the rules; concerns alert
the school team and the coordinator at once; monthly totals for the coordinator."""
import app.guardians.portal_views  # noqa: F401  (routes exist before apps are created)

import datetime as dt
import re

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases.models import CaseEvent
from app import signals
from app.db import today_kst
from app.domain import DomainError, NotPermitted
from app.extensions import db
from app.guardians.activity import log_activity, monthly_totals, monthly_totals_xlsx
from app.guardians.models import ActivityLog, GuardianConcern
from app.i18n import korean_date
from app.notifications.models import Notification

from .portal_setup import matched


@pytest.fixture
def pair(build, eligible_guardian, coordinator):
    return matched(build, eligible_guardian, coordinator)


def _log(pair, actor=None, **fields):
    data = {"occurred_on": today_kst(), "minutes": 60, "kind": "learning", "notes": "받아올림 덧셈 연습",
            "concern": False}
    data.update(fields)
    return log_activity(pair.assignment, actor or pair.user, **data)


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_log_is_saved_encrypted_audited_and_in_the_chronology(pair):
    log = _log(pair)
    db.session.commit()
    assert log.notes == "받아올림 덧셈 연습" and "받아올림" not in (log.notes_enc or "")
    event = db.session.execute(select(AuditEvent).filter_by(action="activity_logged")).scalar_one()
    assert event.object_id == log.uid and event.subject_ref == pair.case.student.uid
    assert '"concern":false' in event.details and "받아올림" not in event.details
    texts = [e.text for e in db.session.execute(select(CaseEvent).filter_by(case_id=pair.case.id)).scalars()]
    assert any(t.startswith("교육후견인 활동:") and "학습 60분" in t for t in texts)
    assert "교육후견인 우려 보고" not in texts
    assert not db.session.execute(select(Notification).filter_by(kind="concern")).first()


@pytest.mark.parametrize("fields, message", [
    ({"occurred_on": "future"}, "활동 날짜는 오늘이나 그 전이어야 합니다."),
    ({"minutes": 0}, "1분에서 600분"),
    ({"minutes": 601}, "1분에서 600분"),
    ({"kind": "party"}, "활동 유형"),
    ({"occurred_on": dt.date(2000, 1, 1)}, "배정을 수락한 "),
])
def test_rule_breaks_are_refused_in_korean_and_nothing_is_saved(pair, fields, message):
    if fields.get("occurred_on") == "future":
        fields = {"occurred_on": today_kst() + dt.timedelta(days=1)}
    with pytest.raises(DomainError) as error:
        _log(pair, **fields)
    assert message in error.value.message
    db.session.rollback()
    assert _count(ActivityLog) == 0


def test_only_the_assignments_own_guardian_may_log(build, pair, eligible_guardian, coordinator):
    other = matched(build, eligible_guardian, coordinator)
    with pytest.raises(NotPermitted):
        _log(pair, actor=other.user)
    with pytest.raises(NotPermitted):
        _log(pair, actor=pair.lead)
    assert _count(ActivityLog) == 0


def test_an_inactive_assignment_takes_no_log(build, eligible_guardian, coordinator):
    proposed = matched(build, eligible_guardian, coordinator, accept=False)
    with pytest.raises(DomainError, match="활동 중인 배정"):
        _log(proposed)
    assert _count(ActivityLog) == 0


def test_a_lapsed_guardian_may_not_log(pair):
    # the checks were clear 30 days ago and are valid 12 months: a year later they have lapsed
    with freeze_time(dt.datetime.now() + dt.timedelta(days=400)):
        with pytest.raises(DomainError, match="활동 자격 요건") as error:
            _log(pair)
        assert "유효기간 만료" in error.value.message
    db.session.rollback()
    assert _count(ActivityLog) == 0


def test_a_concern_alerts_the_school_team_and_the_coordinator_at_once(build, pair, coordinator):
    staff = build.user("school_staff", organisation=pair.case.school)
    build.user("school_staff")  # another school: not told
    log = _log(pair, concern=True, concern_description="학생이 집에 가기 싫다고 여러 번 말했습니다.")
    db.session.commit()
    concern = db.session.execute(select(GuardianConcern)).scalar_one()
    assert (concern.activity_id, concern.case_id, concern.status) == (log.id, pair.case.id, "open")
    assert concern.description == "학생이 집에 가기 싫다고 여러 번 말했습니다."
    assert "집에 가기" not in (concern.description_enc or "")
    notes = list(db.session.execute(select(Notification).filter_by(kind="concern")).scalars())
    assert {n.user_id for n in notes} == {pair.lead.id, staff.id, coordinator.id}
    assert all(n.link == f"/guardians/concerns/{concern.uid}" and n.case_id == pair.case.id
               and n.object_key == f"concern:{concern.id}" for n in notes)
    day = korean_date(today_kst())
    assert notes[0].text == f"교육후견인 우려 보고: {pair.case.student.name} ({pair.case.school.name}) — {day}"
    assert "집에 가기" not in notes[0].text
    texts = [e.text for e in db.session.execute(select(CaseEvent).filter_by(case_id=pair.case.id)).scalars()]
    assert f"교육후견인 우려 보고 ({day} 활동)" in texts
    assert not any(re.search(r"\d{4}-\d{2}-\d{2}", t) for t in texts)  # Korean dates, never ISO
    event = db.session.execute(select(AuditEvent).filter_by(action="activity_logged")).scalar_one()
    assert '"concern":true' in event.details
    raised = db.session.execute(select(AuditEvent).filter_by(action="concern_raised")).scalar_one()
    assert raised.subject_ref == pair.case.student.uid and "집에" not in (raised.details or "")


@pytest.mark.parametrize("description", ["", "   ", "걱정됨", " 집에 안 가려 함 "])
def test_a_concern_needs_a_description_of_a_sentence(pair, description):
    with pytest.raises(DomainError) as error:
        _log(pair, concern=True, concern_description=description, notes="오늘 함께 숙제를 했습니다. 길게 씀")
    assert error.value.message == "우려 내용을 한 문장 이상 적어 주세요."
    assert error.value.field == "concern_description"
    db.session.rollback()
    assert _count(ActivityLog) == 0 and _count(GuardianConcern) == 0
    assert not db.session.execute(select(Notification).filter_by(kind="concern")).first()


def test_a_concern_signal_is_sent(pair):
    seen = []

    def receiver(concern, **kwargs):
        seen.append((concern, kwargs))
    signals.concern_raised.connect(receiver)
    try:
        _log(pair, concern=True, concern_description="학생이 많이 지쳐 보이고 잠을 못 잤다고 합니다.")
    finally:
        signals.concern_raised.disconnect(receiver)
    assert len(seen) == 1 and seen[0][1]["case"] is pair.case and seen[0][1]["actor"] is pair.user


def test_monthly_totals_per_guardian_and_xlsx(build, pair, eligible_guardian, coordinator, tmp_path):
    other = matched(build, eligible_guardian, coordinator)
    idle = eligible_guardian()
    today = today_kst()
    _log(pair, minutes=60)
    _log(pair, minutes=90)
    _log(other, minutes=30)
    db.session.commit()
    month = today.strftime("%Y-%m")
    rows = {r.guardian.id: r for r in monthly_totals(coordinator.organisation.office_code, month)}
    assert (rows[pair.guardian.id].meetings, rows[pair.guardian.id].minutes) == (2, 150)
    assert rows[pair.guardian.id].hours == 2.5
    assert (rows[other.guardian.id].meetings, rows[other.guardian.id].minutes) == (1, 30)
    assert (rows[idle.id].meetings, rows[idle.id].minutes) == (0, 0)
    assert monthly_totals("SEN-OTHER", month) == []
    assert all(r.meetings == 0 for r in monthly_totals(coordinator.organisation.office_code, "1999-01"))

    path = tmp_path / "totals.xlsx"
    monthly_totals_xlsx(list(rows.values()), path, month)
    sheet = load_workbook(path).active
    values = list(sheet.values)
    assert values[0][:3] == ("교육후견인", "상태", "만남 횟수")
    assert (pair.guardian.name, "활동", 2, 150, 2.5) in values
    assert values[-1][0] == "합계" and values[-1][3] == 180
