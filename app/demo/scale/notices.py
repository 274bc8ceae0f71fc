"""In-app notifications: a few per account over the last two months, most read, some resolved."""
from __future__ import annotations

import datetime as dt

from ...notifications.models import Notification
from .build import Build

#: role -> (kind, text) the alerts of that role look like
KINDS = {
    "school_staff": (("plan_action_due", "지원 계획 실행 항목 기한이 다가옵니다."),
                     ("concern", "교육후견인이 우려 사항을 보고했습니다.")),
    "school_lead": (("escalation_replied", "교육지원청이 지원 요청에 회신했습니다."),
                    ("conference_review_due", "사례회의 점검일이 다가옵니다.")),
    "district_coordinator": (("escalation", "학교가 교육지원청 지원을 요청했습니다."),
                             ("check_expiring", "교육후견인 범죄경력 조회가 곧 만료됩니다.")),
    "agency_coordinator": (("referral_received", "새 의뢰가 도착했습니다."),
                           ("referral_overdue", "응답 기한이 지난 의뢰가 있습니다.")),
    "guardian": (("assignment_proposed", "새 배정 제안이 있습니다."),
                 ("meeting_reminder", "다음 만남 일정이 다가옵니다.")),
    "auditor": (("training_expiring", "개인정보 보호 교육 유효기간이 곧 끝납니다."),),
    "admin": (("training_expiring", "개인정보 보호 교육 유효기간이 곧 끝납니다."),),
}


def build_notifications(b: Build, tick) -> None:
    rng, rows = b.rng, b.writer[Notification]
    for user_id, (_login, role, _org, _uid) in b.users.items():
        for _ in range(rng.randrange(0, 7)):
            kind, text = rng.choice(KINDS[role])
            created = b.at(b.day_ago(rng.randrange(0, 60)))
            read = created + dt.timedelta(hours=rng.randrange(1, 48)) if rng.random() < 0.7 else None
            rows.add(user_id=user_id, kind=kind, link="/", created_at=created, read_at=b.clamp(read) if read else None,
                     object_key=f"{kind}:{rng.randrange(1, 10_000)}",
                     resolved_at=b.clamp(read) if read and rng.random() < 0.5 else None, text=text)
        tick(1)
    b.writer.flush()
