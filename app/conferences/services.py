"""Conference services: schedule, cancel, action item status; recording (recording.py) and
amending (amendments.py) a meeting are re-exported here so callers have one module.

Every function takes the acting user, enforces its rules, leaves chronology lines and audit
events (codes only) in the caller's transaction and raises DomainError / NotPermitted;
callers commit.  Decisions that change a case go through the case services and their rules.
"""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from .. import signals
from ..audit.services import record
from ..auth.models import User
from ..cases.chronology import add_event
from ..cases.models import PlanAction, SupportCase
from ..cases.plan import PLANNABLE, set_action_status
from ..db import today_kst, utcnow
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..locking import lock_for_change
from ..notifications.services import notify, object_key, resolve
from ..permissions import DISTRICT_COORDINATOR, SCHOOL_ROLES
from ..words import particle
from .access import SCHOOL_KINDS, eligible_users, is_organiser_side
from .amendments import amend_meeting  # noqa: F401  (re-exported)
from .common import kst_label, kst_parts, link, to_utc
from .models import (ACTION_ITEM_STATUSES, CONFERENCE_KINDS, SETTABLE_ITEM_STATUSES, ActionItem, Conference,
                     ConferenceCase, ConferenceParticipant)
from .recording import record_meeting  # noqa: F401  (re-exported)

__all__ = ["schedule_conference", "record_meeting", "amend_meeting", "cancel_conference", "can_update_item",
           "set_action_item_status", "kst_label", "to_utc"]

REASON_MAX = 1000


def _organiser(actor, kind: str):
    """The organisation that organises a conference of ``kind`` for ``actor``, or refuse."""
    if kind not in CONFERENCE_KINDS:
        raise DomainError(_("회의 종류를 선택해 주세요."), "kind")
    if kind in SCHOOL_KINDS and actor is not None and actor.role in SCHOOL_ROLES:
        return actor.organisation
    if kind == "district" and actor is not None and actor.role == DISTRICT_COORDINATOR and actor.organisation:
        return actor.organisation
    raise NotPermitted(_("이 종류의 회의를 열 권한이 없습니다."))


def _cases(actor, kind: str, case_ids) -> list[SupportCase]:
    ids = list(dict.fromkeys(int(i) for i in case_ids or []))
    if not ids:
        raise DomainError(_("논의할 사례를 하나 이상 선택해 주세요."), "case_ids")
    cases = list(db.session.execute(select(SupportCase).where(SupportCase.id.in_(ids))
                                    .order_by(SupportCase.id)).scalars())
    office = actor.organisation.office_code
    own = [c for c in cases if (c.school_id == actor.organisation_id if kind in SCHOOL_KINDS
                                else c.school.office_code == office)]
    if len(own) != len(ids):
        raise DomainError(_("선택한 사례 중 이 회의에서 다룰 수 없는 사례가 있습니다."), "case_ids")
    if any(c.status in ("not_selected", "withdrawn") for c in cases):
        raise DomainError(_("미선정되었거나 철회된 사례는 회의에서 다룰 수 없습니다."), "case_ids")
    return cases


def _names(user_ids) -> str:
    """The display names of the given users (for a refusal that says who)."""
    users = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(list(user_ids)))).scalars()}
    return ", ".join((users[i].display_name or users[i].login) if i in users else _("선택한 사용자") for i in user_ids)


def schedule_conference(actor, *, kind: str, starts_at, place: str | None, online_link: str | None, case_ids,
                        participant_user_ids, externals: list[tuple[str, str]]) -> Conference:
    """Schedule a conference about cases of the organiser's scope, with eligible participants."""
    organiser = _organiser(actor, kind)
    cases = _cases(actor, kind, case_ids)
    place, online_link = (place or "").strip()[:200] or None, (online_link or "").strip()[:300] or None
    if not place and not online_link:
        raise DomainError(_("장소나 온라인 회의 주소 중 하나를 입력해 주세요."), "place")
    if online_link and not online_link.startswith(("https://", "http://")):
        raise DomainError(_("온라인 회의 주소는 https:// 로 시작해야 합니다."), "online_link")
    when = to_utc(starts_at)
    day, time = kst_parts(when)
    if when < utcnow():
        raise DomainError(_("지난 시간으로는 회의를 잡을 수 없습니다."), "starts_at")
    eligible = {u.id: u for u in eligible_users(organiser.office_code, cases)}
    user_ids = list(dict.fromkeys(int(i) for i in participant_user_ids or []))
    refused = [i for i in user_ids if i not in eligible]
    if refused:
        raise DomainError(_("%(names)s님은 이 회의의 사례와 관계가 없어 초대할 수 없습니다.", names=_names(refused)),
                          "participant_user_ids")
    people = []
    for name, organisation in externals or []:
        name, organisation = (name or "").strip(), (organisation or "").strip()
        if not name:
            raise DomainError(_("외부 참석자의 이름을 입력해 주세요."), "externals")
        people.append((name, organisation))
    conference = Conference(kind=kind, status="scheduled", organiser_id=organiser.id, office_code=organiser.office_code,
                            starts_at=when, place=place, online_link=online_link, created_by_id=actor.id)
    db.session.add(conference)
    db.session.flush()
    for case in cases:
        db.session.add(ConferenceCase(conference_id=conference.id, case_id=case.id))
        add_event(case, "conference", _l("%(kind)s 예정: %(day)s %(time)s", kind=CONFERENCE_KINDS[kind], day=day,
                                             time=time), actor)
    for user_id in user_ids:
        db.session.add(ConferenceParticipant(conference_id=conference.id, user_id=user_id))
    for name, organisation in people:
        person = ConferenceParticipant(conference_id=conference.id)
        person.external_name, person.external_organisation = name, organisation or None
        db.session.add(person)
    db.session.flush()
    db.session.expire(conference, ["cases", "participants"])
    for user_id in user_ids:
        if user_id != actor.id:
            notify(user_id, "conference", _l("%(kind)s에 초대되었습니다: %(day)s %(time)s", kind=CONFERENCE_KINDS[kind],
                                              day=day, time=time),
                   link=link(conference), dedupe_key=f"conf-invite:{conference.id}:{user_id}",
                   about=object_key("conference", conference))
    record("conference_scheduled", obj=conference, actor=actor,
           details={"kind": kind, "cases": [c.uid for c in cases], "users": len(user_ids), "externals": len(people)})
    return conference


def can_update_item(actor, item: ActionItem, conference: Conference) -> bool:
    """The organiser side, the owner, or (for school-team items) the case's school team."""
    if actor is None or not actor.is_authenticated:
        return False
    if is_organiser_side(actor, conference) or item.owner_user_id == actor.id:
        return True
    case = db.session.get(SupportCase, item.case_id)
    if item.owner_kind == "school_team":
        return actor.role in SCHOOL_ROLES and actor.organisation_id == case.school_id
    return item.owner_kind == "agency" and actor.organisation_id == item.owner_agency_id


def set_action_item_status(item: ActionItem, actor, status: str) -> None:
    """Mark an action item done, cancelled or open again; its plan action follows."""
    conference = db.session.get(Conference, item.conference_id)
    if not can_update_item(actor, item, conference):
        raise NotPermitted(_("이 실행 과제를 변경할 권한이 없습니다."))
    if status not in SETTABLE_ITEM_STATUSES:
        raise DomainError(_("상태를 선택해 주세요."), "status")
    if item.status == "case_closed":
        raise DomainError(_("사례 종결로 끝난 실행 과제는 바꿀 수 없습니다."), "status")
    if status == item.status:
        raise DomainError(_("이미 그 상태입니다."), "status")
    case = db.session.get(SupportCase, item.case_id)
    previous, item.status = item.status, status
    plan = db.session.get(PlanAction, item.plan_action_id) if item.plan_action_id else None
    if plan is not None and plan.status != status:
        if actor.role in SCHOOL_ROLES and actor.organisation_id == case.school_id and case.status in PLANNABLE:
            set_action_status(plan, case, actor, status)
        else:  # a guardian or an agency reports progress; the plan line follows it
            plan.status, plan.completed_on = status, (today_kst() if status == "done" else None)
            if status != "open":
                signals.plan_action_finished.send(plan, actor=actor, status=status)
    add_event(case, "conference", _l("사례회의 실행 과제: %(status)s", status=ACTION_ITEM_STATUSES[status]), actor)
    record("conference_action_status", obj=item, subject=case.student, actor=actor,
           details={"from": previous, "to": status})
    if status != "open":  # handled: its reminders leave everyone's unread lists
        resolve(object_key("action_item", item))


def cancel_conference(conference: Conference, actor, *, reason: str) -> None:
    """Cancel a scheduled conference with a reason and tell its participants."""
    if not is_organiser_side(actor, conference):
        raise NotPermitted(_("이 회의를 취소할 권한이 없습니다."))
    lock_for_change(conference)  # the organiser's colleague may be recording it right now
    if conference.status != "scheduled":
        raise DomainError(_("예정된 회의만 취소할 수 있습니다."), "status")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("취소 사유를 입력해 주세요."), "reason")
    if len(reason) > REASON_MAX:
        raise DomainError(_("취소 사유가 너무 깁니다."), "reason")
    conference.status, conference.cancelled_at, conference.cancel_reason = "cancelled", utcnow(), reason
    day, time = kst_parts(conference.starts_at)
    kind = CONFERENCE_KINDS[conference.kind]
    for cc in conference.cases:
        add_event(cc.case, "conference", _l("%(kind)s(%(day)s %(time)s) 취소: %(reason)s", kind=kind, day=day, time=time,
                                             reason=reason), actor)
    for person in conference.participants:
        if person.user_id and person.user_id != actor.id:
            # news, not a task: the reason stays on the conference page, where the reader's rights apply
            notify(person.user_id, "conference", _l("%(kind)s(%(day)s %(time)s)%(i)s 취소되었습니다.", kind=kind, day=day,
                                                    time=time, i=particle(time, "이/가")),
                   link=link(conference), dedupe_key=f"conf-cancel:{conference.id}:{person.user_id}")
    resolve(object_key("conference", conference), kinds=("conference",))  # the invitations are void
    record("conference_cancelled", obj=conference, actor=actor,
           details={"kind": conference.kind, "cases": [cc.case.uid for cc in conference.cases]})
