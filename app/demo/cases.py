"""Demo students and support cases in every state, for the demo school and a second school in
another district, all created through the real services so the chronology and audit trail are
what a user would have produced."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ..auth.models import Organisation, User
from ..cases import notes as case_notes, services as s
from ..cases.satisfaction import record_satisfaction
from ..cases.consent import record_consent, withdraw_consent
from ..cases.plan import add_plan_action, set_action_status
from ..db import today_kst
from ..extensions import db
from ..students.services import create_student

#: (name, birth date, grade, class, number, migrant home language or None, special education)
STUDENTS = {
    "B100000465": [
        ("김민준", "2015-04-12", 5, 2, 3, None, False), ("이서연", "2016-09-30", 4, 1, 17, None, False),
        ("응우옌 티 마이", "2014-02-08", 6, 3, 21, "베트남어", False), ("박도윤", "2017-11-21", 3, 2, 5, None, True),
        ("최하은", "2015-07-03", 5, 1, 12, None, False), ("정예준", "2016-01-15", 4, 3, 9, None, False),
        ("강지우", "2014-05-27", 6, 1, 2, None, False), ("왕하오", "2015-12-01", 5, 3, 24, "중국어", False),
        ("윤서아", "2017-03-19", 3, 1, 14, None, False), ("임시우", "2016-06-06", 4, 2, 8, None, False),
    ],
    "B100000789": [
        ("한지호", "2012-08-14", 2, 4, 11, None, False), ("오유나", "2013-10-02", 1, 2, 19, None, False),
        ("서준혁", "2011-04-25", 3, 1, 7, None, False), ("배하린", "2012-01-09", 2, 3, 4, None, False),
    ],
}

#: (student index, target status, risk, needs [(domain, description)], summary)
CASES = {
    "B100000465": [
        (0, "requested", "general", [("learning", "수학 기초 연산 미도달")], "담임 관찰: 수학 시간에 자주 멈춰 있음"),
        (1, "screening", "intensive", [("counselling", "또래 관계 어려움"), ("learning", "읽기 유창성 부족")],
         "최근 두 달간 결석 6회, 교실에서 혼자 지내는 시간이 많음"),
        (2, "planning", "intensive", [("multicultural", "한국어 의사소통 지원"), ("learning", "교과 어휘 부족")],
         "입국 1년 차, 보호자와 통역 상담 필요"),
        (3, "in_support", "crisis", [("special_education", "특수교육 대상 진단 필요"), ("welfare", "돌봄 공백")],
         "방과 후 보호자 부재, 특수교육 상담 의뢰"),
        (4, "in_support", "emergency", [("emergency_welfare", "가정 내 갑작스러운 소득 상실"), ("health", "결식 우려")],
         "보호자 실직 후 급식 외 식사 불규칙, 긴급복지 연계 검토"),
        (5, "monitoring", "general", [("career", "진로 탐색 동기 부족")], "진로 체험 연계 후 점검 중"),
        (6, "closed", "general", [("learning", "기초학력 보충")], "보충 학습 후 목표 도달"),
        (7, "follow_up", "intensive", [("multicultural", "보호자 소통 어려움")], "통역 지원 후 사후 관리"),
        (8, "not_selected", "general", [("counselling", "일시적 정서 불안")], "담임 상담으로 해소되어 미선정"),
        (9, "selected", "crisis", [("school_violence", "학교폭력 피해 후 등교 거부"), ("counselling", "불안 증상")],
         "학교폭력 사안 처리 후 회복 지원 필요"),
    ],
    "B100000789": [
        (0, "in_support", "intensive", [("counselling", "자해 의심 상담 필요")], "상담교사 관찰, 정신건강 연계 검토"),
        (1, "requested", "general", [("learning", "영어 기초학력 미달")], "기초학력 진단 결과 미도달"),
        (2, "planning", "crisis", [("welfare", "주거 불안정")], "잦은 이사로 결석 누적"),
        (3, "withdrawn", "general", [("learning", "수학 보충 필요")], "다른 학생으로 잘못 접수"),
    ],
}

STEPS = ["start_screening", "select", "start_planning", "consent", "start_support", "start_monitoring"]
UNTIL = {"requested": 0, "screening": 1, "selected": 2, "planning": 3, "in_support": 5, "monitoring": 6}


def _user(login: str) -> User:
    return db.session.execute(select(User).filter_by(login=login)).scalar_one()


def seed() -> None:
    """Students and cases for 이음초등학교 (demo-school, demo-lead) and 한빛중학교 (demo-school2)."""
    today = today_kst()
    teams = {"B100000465": (_user("demo-school"), _user("demo-lead")),
             "B100000789": (_user("demo-school2"), _user("demo-school2"))}
    for code, rows in STUDENTS.items():
        school = db.session.execute(select(Organisation).filter_by(code=code)).scalar_one()
        teacher, lead = teams[code]
        if lead.role != "school_lead":  # the second school gets its own lead for decisions
            lead = _second_lead(school)
        students = []
        for name, birth, grade, class_no, number, language, special in rows:
            students.append(create_student(teacher, school, {
                "name": name, "birth_date": dt.date.fromisoformat(birth), "grade": grade, "class_no": class_no,
                "number": number, "parent_name": name[0] + "보호자", "parent_relation": "모",
                "parent_phone": f"010-{4000 + number:04d}-{1000 + grade * 100 + class_no:04d}",
                "migrant_background": language is not None, "home_language": language,
                "special_education": special}))
        for index, status, risk, needs, summary in CASES[code]:
            _case(teacher, lead, students[index], status, risk, needs, summary, today)
    db.session.flush()


def _second_lead(school: Organisation) -> User:
    from ..auth.services import create_user
    import secrets
    return create_user(login="demo-lead2", display_name="문교감 (한빛중)", role="school_lead",
                       organisation=school, password=secrets.token_urlsafe(16))


def _case(teacher, lead, student, status, risk, needs, summary, today):
    case = s.create_request(teacher, student, requested_by="staff", needs=needs, risk_level=risk,
                            summary=summary, requested_on=today - dt.timedelta(days=40))
    db.session.flush()
    if status == "withdrawn":
        s.withdraw_request(case, teacher, reason="동명이인 학생으로 잘못 접수하여 철회")
        return case
    if status == "not_selected":
        s.start_screening(case, teacher)
        s.not_select_case(case, lead, meeting_on=today - dt.timedelta(days=30), members="교감, 담임, 상담교사",
                          reason="담임 상담으로 어려움이 해소되어 지속 지원이 필요하지 않음")
        return case
    steps = STEPS[:UNTIL.get(status, 5)]
    for step in steps:
        if step == "select":
            s.select_case(case, lead, meeting_on=today - dt.timedelta(days=30), members="교감, 담임, 상담교사, 보건교사",
                          basic_academic_result="3월 진단평가 수학 미도달", teacher_opinions="담임·교과 교사 모두 지원 필요 의견",
                          parent_counselling="보호자 상담 완료, 지원에 동의 의사")
        elif step == "consent":
            for party in ("student", "parent"):
                record_consent(case, teacher, party=party, purposes=["guardian_matching", "agency_referral",
                                                                     "conference_sharing"],
                               agency_kinds=["청소년상담복지센터", "지역아동센터"],
                               given_on=today - dt.timedelta(days=25), method="written",
                               expires_on=today + dt.timedelta(days=340))
        else:
            getattr(s, step)(case, teacher)
        if step == "start_planning":
            _plan(case, teacher, today)
    if status in ("closed", "follow_up"):
        s.close_case(case, lead, reason="goals_met",
                     outcomes={need.id: ("improved", "목표 대부분 달성") for need in case.needs})
        record_satisfaction(case, lead, party="student", score=4, comment="선생님과 공부하는 시간이 좋았어요.")
        if status == "follow_up":
            s.start_follow_up(case, teacher)
    if risk in ("crisis", "emergency") and status == "in_support":
        case_notes.add_note(case, teacher, kind="home_contact", body="보호자와 통화: 이번 주 가정 방문 일정 협의")
        if risk == "emergency":
            case_notes.escalate_case(case, lead, reason="긴급복지 지원과 방과 후 돌봄 기관 연계에 교육지원청 도움 요청")
    if status == "planning" and student.migrant_background:
        consent = record_consent(case, teacher, party="student", purposes=["guardian_matching"],
                                 given_on=today - dt.timedelta(days=10), method="oral_then_written")
        withdraw_consent(consent, case, teacher, withdrawn_on=today - dt.timedelta(days=2))
    return case


def _plan(case, teacher, today):
    first = case.needs[0]
    add_plan_action(case, teacher, need_id=first.id, goal=f"{first.domain_label} 영역 주 1회 점검",
                    action="담임과 상담교사가 주 1회 면담", owner_id=teacher.id,
                    due_on=today - dt.timedelta(days=3), shared_with_guardian=True)
    done = add_plan_action(case, teacher, need_id=first.id, goal="보호자 상담", action="보호자와 전화 상담",
                           owner_id=teacher.id, due_on=today - dt.timedelta(days=10))
    set_action_status(done, case, teacher, "done")
    add_plan_action(case, teacher, goal="2학기 중간 점검", action="지원팀 협의회에서 경과 검토",
                    owner_id=teacher.id, due_on=today + dt.timedelta(days=20))
