"""Demo agency directory: one agency in each of Seoul's 25 자치구 (every kind at least once), with
realistic services, registered through the real services by a coordinator of each office."""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select

from ..agencies import services as svc
from ..agencies.models import AGENCY_KINDS
from ..auth.models import DistrictOffice, Gu, Organisation, User
from ..auth.services import create_user
from ..db import today_kst
from ..extensions import db

#: agency kind -> (service name, domains, min age, max age, schedule)
SERVICES = {
    "청소년상담복지센터": ("청소년 개인·집단상담", ["counselling", "school_violence"], 9, 24, "평일 09:00-21:00, 토 10:00-17:00"),
    "가족센터": ("다문화가족 자녀 언어발달·학습 지원", ["multicultural", "learning"], 3, 18, "평일 09:00-18:00"),
    "정신건강복지센터": ("아동·청소년 정신건강 상담과 치료 연계", ["health", "counselling"], 6, 24, "평일 09:00-18:00"),
    "지역아동센터": ("방과후 돌봄과 학습 지도", ["welfare", "learning"], 6, 18, "평일 13:00-20:00"),
    "동주민센터": ("긴급복지 지원과 맞춤형 복지 상담", ["emergency_welfare", "welfare"], 0, 24, "평일 09:00-18:00"),
    "아동보호전문기관": ("아동학대 사례 개입과 보호", ["safety", "counselling"], 0, 18, "24시간 (야간 긴급전화)"),
    "Wee센터": ("학교 부적응·정서 위기 학생 상담", ["counselling", "school_violence", "career"], 7, 19, "평일 09:00-17:30"),
    "드림스타트": ("취약계층 아동 통합사례관리", ["welfare", "health", "learning"], 0, 12, "평일 09:00-18:00"),
    "청소년문화의집": ("진로 체험과 동아리 활동", ["career"], 9, 24, "화-토 10:00-19:00"),
    "보건소": ("아동 건강검진과 영양 지원", ["health", "safety"], 0, 18, "평일 09:00-18:00"),
}
LANGUAGES = (["한국어"], ["한국어", "영어"], ["한국어", "중국어"], ["한국어", "베트남어", "중국어"])
CAPACITY = ("available", "available", "waitlist", "available", "full")


def _coordinator(office: DistrictOffice) -> User:
    """The office's demo coordinator, made once with a random password (demo-coordinator for 서부)."""
    login = "demo-coordinator" if office.code == "SEOBU" else f"demo-coordinator-{office.code.lower()}"
    user = db.session.execute(select(User).filter_by(login=login)).scalar_one_or_none()
    if user is None:
        org = db.session.execute(select(Organisation).filter_by(code=office.code)).scalar_one()
        user = create_user(login=login, display_name=f"{office.name_ko} 담당자", role="district_coordinator",
                           organisation=org, password=secrets.token_urlsafe(18))
        db.session.flush()
    return user


def _service_fields(kind: str, gu: Gu, neighbours: list[int], n: int) -> dict:
    name, domains, low, high, schedule = SERVICES[kind]
    return {"name": name, "description": f"{gu.name_ko} 거주·재학 아동·청소년 대상 {name}", "domains": domains,
            "min_age": low, "max_age": high, "languages": LANGUAGES[n % len(LANGUAGES)],
            "capacity_status": CAPACITY[n % len(CAPACITY)], "areas": [gu.id, *neighbours], "schedule": schedule,
            "contact_phone": f"02-{300 + n:03d}-{1000 + n * 37 % 9000:04d}", "contact_email": f"contact{n}@example.org",
            "address": f"서울특별시 {gu.name_ko} 중앙로 {10 + n}",
            "last_confirmed_on": today_kst() - dt.timedelta(days=(n * 23) % 400)}


def seed() -> None:
    """Create the directory (the referral demo data is seeded after this by its own module)."""
    gus = db.session.execute(select(Gu).order_by(Gu.office_code, Gu.id)).scalars().all()
    offices = {o.code: o for o in db.session.execute(select(DistrictOffice)).scalars()}
    for n, gu in enumerate(gus):
        actor = _coordinator(offices[gu.office_code])
        neighbours = [g.id for g in gus if g.office_code == gu.office_code and g.id != gu.id][:1]
        kind = AGENCY_KINDS[n % len(AGENCY_KINDS)]
        name = f"{gu.name_ko}{kind}"
        if db.session.execute(select(Organisation.id).filter_by(name=name)).first():
            name = f"{gu.name_ko}{kind} 분소"  # e.g. next to the demo agency AG-MAPO-YOUTH
        agency = svc.register_agency(actor, name, kind, gu.id)
        svc.add_service(actor, agency, _service_fields(kind, gu, neighbours, n))
        if n % 3 == 0:  # a second service in some agencies, so the directory is not one-to-one
            second = SERVICES[AGENCY_KINDS[(n + 3) % len(AGENCY_KINDS)]]
            fields = _service_fields(kind, gu, [], n + 1)
            fields.update(name=f"{second[0]} (협력사업)", domains=second[1])
            svc.add_service(actor, agency, fields)
    youth = db.session.execute(select(Organisation).filter_by(code="AG-MAPO-YOUTH")).scalar_one_or_none()
    if youth is not None:
        mapo = youth.gu
        actor = _coordinator(offices[mapo.office_code])
        svc.add_service(actor, youth, _service_fields("청소년상담복지센터", mapo, [], 90))
        fields = _service_fields("청소년상담복지센터", mapo, [], 91)
        fields.update(name="학교 밖 청소년 꿈드림 지원", domains=["career", "learning", "welfare"],
                      languages=["한국어", "베트남어"], capacity_status="available")
        svc.add_service(actor, youth, fields)
    db.session.flush()
    # referral demo data: the referral engineer appends a seed function in its own module,
    # called after this one
