"""Agency suggestions for a case: services covering its domains, the student's age and 자치구, ranked and explained."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager

from ..auth.models import Organisation
from ..cases.models import DOMAINS, SupportCase
from ..db import today_kst
from ..extensions import db
from .models import CAPACITY_STATUSES, AgencyService, ServiceArea

#: points per explained part
POINTS = {"domain": 30, "same_gu": 10, "age": 5, "available": 20, "waitlist": 5, "full": 0, "language": 15,
          "recent": 5}
RECENT_DAYS = 180


@dataclass
class Part:
    code: str
    label: str
    points: int


@dataclass
class AgencySuggestion:
    agency: Organisation
    service: AgencyService
    score: int
    parts: list[Part] = field(default_factory=list)

    @property
    def capacity_label(self) -> str:
        return CAPACITY_STATUSES[self.service.capacity_status]


def age_on(birth: dt.date | None, day: dt.date) -> int | None:
    """Age in full years on ``day`` (None when the birth date is unknown)."""
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _norm(text: str | None) -> str:
    return (text or "").strip().casefold()


def suggest_agencies(case: SupportCase, limit: int = 10) -> list[AgencySuggestion]:
    """Ranked services for the case; full services are shown but ranked last."""
    today = today_kst()
    student, school = case.student, case.school
    needs = {n.domain for n in case.needs}
    if not needs or school.gu_id is None:
        return []
    age = age_on(student.birth_date, today)
    query = (select(AgencyService).join(AgencyService.organisation)
             .join(ServiceArea, ServiceArea.service_id == AgencyService.id)
             .where(ServiceArea.gu_id == school.gu_id, Organisation.kind == "agency", Organisation.active)
             .options(contains_eager(AgencyService.organisation)))
    if age is not None:
        query = query.where(or_(AgencyService.min_age.is_(None), AgencyService.min_age <= age),
                            or_(AgencyService.max_age.is_(None), AgencyService.max_age >= age))
    language = _norm(student.home_language) if student.migrant_background else ""
    found = []
    for service in db.session.execute(query).unique().scalars():
        matched = [d for d in service.domains if d in needs]
        if not matched:
            continue
        parts = [Part("domain", gettext("지원 영역 일치: %(domain)s", domain=DOMAINS.get(d, d)), POINTS["domain"])
                 for d in matched]
        if service.organisation.gu_id == school.gu_id:
            parts.append(Part("same_gu", gettext("학교와 같은 자치구에 있는 기관"), POINTS["same_gu"]))
        if age is not None:
            parts.append(Part("age", gettext("대상 연령 (만 %(age)d세)", age=age), POINTS["age"]))
        status = service.capacity_status
        parts.append(Part(status, gettext("접수 상태: %(status)s", status=CAPACITY_STATUSES.get(status, status)),
                          POINTS.get(status, 0)))
        if language and language in {_norm(x) for x in service.languages}:
            parts.append(Part("language", gettext("가정 언어 지원: %(language)s", language=student.home_language),
                              POINTS["language"]))
        if service.last_confirmed_on and (today - service.last_confirmed_on).days <= RECENT_DAYS:
            parts.append(Part("recent", gettext("최근 6개월 안에 확인된 정보"), POINTS["recent"]))
        found.append(AgencySuggestion(service.organisation, service, sum(p.points for p in parts), parts))
    found.sort(key=lambda s: (s.service.capacity_status == "full", -s.score, s.agency.name, s.service.id))
    return found[:limit]
