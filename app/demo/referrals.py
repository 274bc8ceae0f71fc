"""Demo referrals in every state from 이음초등학교's consented cases, mostly to 마포구청소년상담복지센터
(demo-agency's inbox has referrals waiting, one overdue), all through the referral services."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ..agencies import referrals as r
from ..agencies.models import Referral
from ..auth.models import Organisation, User
from ..business_days import add_business_days, is_business_day
from ..cases.models import SupportCase
from ..db import today_kst
from ..extensions import db

DEMO_AGENCY = "AG-MAPO-YOUTH"
SCHOOL = "B100000465"
#: (case index among the school's consented cases, target status, shared items, reason)
PLAN = [
    (0, "sent", ["student_name", "school_grade", "needs", "risk_level"], "방과 후 돌봄 공백과 정서 지원을 위한 상담 연계"),
    (1, "sent", ["student_name", "needs", "summary"], "보호자 실직 후 가정 위기, 청소년 상담과 긴급 지원 연계 요청"),
    (2, "in_service", ["student_name", "school_grade", "needs"], "진로 탐색 동기 부족, 진로 상담 프로그램 연계"),
    (0, "accepted", ["student_name", "needs"], "특수교육 상담과 병행할 정서 상담 요청"),
    (1, "completed", ["student_name", "parent_contact", "needs"], "결식 우려로 지역 돌봄·급식 연계 요청"),
    (2, "declined", ["student_name", "needs"], "주말 진로 체험 프로그램 참여 요청"),
    (0, "failed", ["student_name", "needs"], "가정 방문 상담 연계 요청"),
    (1, "cancelled", ["student_name", "summary"], "학습 멘토링 연계 요청"),
    (2, "draft", ["needs"], "진로 캠프 참여 가능 여부 문의"),
]


def _user(login: str) -> User:
    return db.session.execute(select(User).filter_by(login=login)).scalar_one()


def _agency(code: str) -> Organisation:
    return db.session.execute(select(Organisation).filter_by(code=code)).scalar_one()


def _other_agency(kind: str, exclude: int) -> Organisation | None:
    """An agency of ``kind`` from the directory demo, if it has been seeded."""
    return db.session.execute(select(Organisation).where(
        Organisation.kind == "agency", Organisation.agency_kind == kind, Organisation.active.is_(True),
        Organisation.id != exclude).order_by(Organisation.code).limit(1)).scalar_one_or_none()


def _consented_cases() -> list[SupportCase]:
    school = _agency(SCHOOL)
    return list(db.session.execute(select(SupportCase).where(
        SupportCase.school_id == school.id, SupportCase.status.in_(("in_support", "monitoring")))
        .order_by(SupportCase.id)).scalars())


def _business_days_before(day: dt.date, days: int) -> dt.date:
    while days > 0:
        day -= dt.timedelta(days=1)
        days -= is_business_day(day)
    return day


def _make_overdue(referral: Referral, today: dt.date) -> None:
    """Demo history only: this referral was sent eight business days ago and never answered, so
    its response day has passed.  Real referrals get these dates from send_referral alone."""
    sent_on = _business_days_before(today, 8)
    referral.sent_at = dt.datetime.combine(sent_on, dt.time(1, 30))  # 10:30 in Seoul, stored as UTC
    referral.respond_by = add_business_days(sent_on, 5)


def seed() -> None:
    """Referrals in every state; demo-agency answers its own, demo-school sends, demo-lead cancels."""
    today = today_kst()
    teacher, lead, coordinator = _user("demo-school"), _user("demo-lead"), _user("demo-agency")
    mapo = _agency(DEMO_AGENCY)
    cases = _consented_cases()
    care = _other_agency("지역아동센터", mapo.id)
    for index, target, items, reason in PLAN:
        case = cases[index % len(cases)]
        # a 지역아동센터 from the directory demo gets the referrals demo-agency need not answer
        agency = care if care is not None and target in ("cancelled", "draft") else mapo
        referral = r.create_referral(case, teacher, agency=agency, reason=reason, shared_items=items)
        if target == "draft":
            continue
        r.send_referral(referral, teacher)
        if target == "sent" and index == 0:
            _make_overdue(referral, today)
        elif target == "cancelled":
            r.cancel_referral(referral, lead, "보호자가 다른 기관 이용을 원해 의뢰를 거둠")
        elif target == "declined":
            r.decline_referral(referral, coordinator, "no_capacity", "주말 프로그램 정원이 이번 학기 마감되었습니다.")
        elif target != "sent":
            r.accept_referral(referral, coordinator)
            if target != "accepted":
                r.add_service_record(referral, coordinator, today, "counselling", "초기 면담: 학생과 관계 형성, 욕구 확인")
                r.add_service_record(referral, coordinator, today, "case_management", "보호자 통화, 사례관리 계획 수립")
            if target == "completed":
                r.complete_referral(referral, coordinator, "8회기 상담과 급식 지원 연계 완료, 결식 우려 해소")
            elif target == "failed":
                r.fail_referral(referral, coordinator, "보호자가 가정 방문을 원하지 않아 3회 연락 후 종결")
    db.session.flush()
