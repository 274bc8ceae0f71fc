"""Conference services: schedule, record the meeting (all or nothing), action items, cancel.

Every function takes the acting user first, enforces its rules, leaves chronology lines and
audit events (codes only) in the caller's transaction and raises DomainError / NotPermitted;
callers commit.  Decisions that change a case go through the case services and their rules.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from ..agencies.models import Referral
from ..audit.services import record
from ..auth.models import Organisation, User
from ..cases import services as case_services
from ..cases.chronology import add_event
from ..cases.models import PlanAction, SupportCase
from ..cases.plan import PLANNABLE, add_plan_action, set_action_status
from ..db import today_kst, utcnow
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..guardians.assignments import COUNTED
from ..guardians.models import Assignment
from ..notifications.services import notify
from ..permissions import DISTRICT_COORDINATOR, SCHOOL_LEAD, SCHOOL_ROLES
from .access import SCHOOL_KINDS, agency_case_ids, eligible_users, is_organiser_side
from .models import (ACTION_ITEM_STATUSES, ACTION_OWNER_KINDS, CONFERENCE_KINDS, DECISIONS, ActionItem, Conference,
                     ConferenceCase, ConferenceParticipant)

KST = dt.timezone(dt.timedelta(hours=9))
#: referral statuses that keep a case open
OPEN_REFERRALS = ("sent", "accepted", "in_service")
TEXT_MAX = 4000


def to_utc(starts_at) -> dt.datetime:
    """An aware datetime, or a naive one meaning Seoul time, as naive UTC."""
    if not isinstance(starts_at, dt.datetime):
        raise DomainError("회의 날짜와 시간을 입력해 주세요.", "starts_at")
    aware = starts_at if starts_at.tzinfo else starts_at.replace(tzinfo=KST)
    return aware.astimezone(dt.timezone.utc).replace(tzinfo=None)


def kst_label(when_utc: dt.datetime) -> str:
    """'2026. 3. 5. 15:00' in Seoul time."""
    local = when_utc + dt.timedelta(hours=9)
    return f"{local:%Y. %-m. %-d. %H:%M}"


def _link(conference: Conference) -> str:
    return f"/conferences/{conference.uid}"


def _organiser(actor, kind: str):
    """The organisation that organises a conference of ``kind`` for ``actor``, or refuse."""
    if kind not in CONFERENCE_KINDS:
        raise DomainError("회의 종류를 선택해 주세요.", "kind")
    if kind in SCHOOL_KINDS and actor is not None and actor.role in SCHOOL_ROLES:
        return actor.organisation
    if kind == "district" and actor is not None and actor.role == DISTRICT_COORDINATOR and actor.organisation:
        return actor.organisation
    raise NotPermitted("이 종류의 회의를 열 권한이 없습니다.")


def _cases(actor, kind: str, case_ids) -> list[SupportCase]:
    ids = list(dict.fromkeys(int(i) for i in case_ids or []))
    if not ids:
        raise DomainError("논의할 사례를 하나 이상 선택해 주세요.", "case_ids")
    cases = list(db.session.execute(select(SupportCase).where(SupportCase.id.in_(ids))
                                    .order_by(SupportCase.id)).scalars())
    office = actor.organisation.office_code
    own = [c for c in cases if (c.school_id == actor.organisation_id if kind in SCHOOL_KINDS
                                else c.school.office_code == office)]
    if len(own) != len(ids):
        raise DomainError("선택한 사례 중 이 회의에서 다룰 수 없는 사례가 있습니다.", "case_ids")
    if any(c.status == "not_selected" for c in cases):
        raise DomainError("미선정된 사례는 회의에서 다룰 수 없습니다.", "case_ids")
    return cases


def schedule_conference(actor, *, kind: str, starts_at, place: str | None, online_link: str | None, case_ids,
                        participant_user_ids, externals: list[tuple[str, str]]) -> Conference:
    """Schedule a conference about cases of the organiser's scope, with eligible participants."""
    organiser = _organiser(actor, kind)
    cases = _cases(actor, kind, case_ids)
    place, online_link = (place or "").strip()[:200] or None, (online_link or "").strip()[:300] or None
    if not place and not online_link:
        raise DomainError("장소나 온라인 회의 주소 중 하나를 입력해 주세요.", "place")
    if online_link and not online_link.startswith(("https://", "http://")):
        raise DomainError("온라인 회의 주소는 https:// 로 시작해야 합니다.", "online_link")
    when = to_utc(starts_at)
    if when < utcnow():
        raise DomainError("지난 시간으로는 회의를 잡을 수 없습니다.", "starts_at")
    eligible = {u.id: u for u in eligible_users(organiser.office_code, cases)}
    user_ids = list(dict.fromkeys(int(i) for i in participant_user_ids or []))
    if any(i not in eligible for i in user_ids):
        raise DomainError("이 회의의 사례와 관계없는 사용자는 참석자로 초대할 수 없습니다.", "participant_user_ids")
    people = []
    for name, organisation in externals or []:
        name, organisation = (name or "").strip(), (organisation or "").strip()
        if not name:
            raise DomainError("외부 참석자의 이름을 입력해 주세요.", "externals")
        people.append((name, organisation))
    conference = Conference(kind=kind, status="scheduled", organiser_id=organiser.id, office_code=organiser.office_code,
                            starts_at=when, place=place, online_link=online_link, created_by_id=actor.id)
    db.session.add(conference)
    db.session.flush()
    for case in cases:
        db.session.add(ConferenceCase(conference_id=conference.id, case_id=case.id))
        add_event(case, "conference", f"{CONFERENCE_KINDS[kind]} 예정: {kst_label(when)}", actor)
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
            notify(user_id, "conference", f"{CONFERENCE_KINDS[kind]}에 초대되었습니다: {kst_label(when)}",
                   link=_link(conference), dedupe_key=f"conf-invite:{conference.id}:{user_id}")
    record("conference_scheduled", obj=conference, actor=actor,
           details={"kind": kind, "cases": [c.uid for c in cases], "users": len(user_ids), "externals": len(people)})
    return conference


def open_items_blocking_close(case: SupportCase) -> list[str]:
    """What must end before the case may close: open referrals and counted assignments."""
    referrals = db.session.execute(select(func.count(Referral.id)).where(
        Referral.case_id == case.id, Referral.status.in_(OPEN_REFERRALS))).scalar_one()
    assignments = db.session.execute(select(func.count(Assignment.id)).where(
        Assignment.case_id == case.id, Assignment.status.in_(COUNTED))).scalar_one()
    return ([f"진행 중인 기관 의뢰 {referrals}건"] if referrals else []) + \
        ([f"교육후견인 배정 {assignments}건"] if assignments else [])


def _owner(case: SupportCase, action: dict) -> tuple[str, User | None, Organisation | None]:
    kind = action.get("owner_kind")
    if kind not in ACTION_OWNER_KINDS:
        raise DomainError("실행 과제의 담당을 선택해 주세요.", "actions")
    if kind == "school_team":
        return kind, None, None
    if kind == "user":
        user = db.session.get(User, action.get("owner_user_id") or 0)
        if user is None or user.id not in {u.id for u in eligible_users(case.school.office_code, [case])}:
            raise DomainError("실행 과제의 담당자는 이 사례에 관계된 사용자여야 합니다.", "actions")
        return kind, user, None
    agency = db.session.get(Organisation, action.get("owner_agency_id") or 0)
    if agency is None or case.id not in agency_case_ids(agency.id, [case.id]):
        raise DomainError("담당 기관은 이 사례의 의뢰를 접수한 기관이어야 합니다.", "actions")
    return kind, None, agency


def _check_decision(conference, actor, case: SupportCase, given: dict | None, today: dt.date) -> dict:
    """Validate one case's decision and actions; returns them normalised."""
    if not given or given.get("decision") not in DECISIONS:
        raise DomainError(f"{case.student.name} 학생 사례의 결정을 선택해 주세요.", "decisions")
    decision, note = given["decision"], (given.get("note") or "").strip()[:TEXT_MAX]
    review = given.get("next_review_on")
    if review is not None and (not isinstance(review, dt.date) or review < today):
        raise DomainError("다음 점검일은 오늘 이후여야 합니다.", "decisions")
    if decision in ("escalate", "close") and not (actor.role in SCHOOL_ROLES and actor.organisation_id == case.school_id):
        raise NotPermitted(f"'{DECISIONS[decision]}' 결정은 이 사례 학교의 지원팀이 기록해야 합니다.")
    if decision == "escalate":
        if case.escalation_open:
            raise DomainError(f"{case.student.name} 학생 사례는 이미 교육지원청에 요청한 상태입니다.", "decisions")
        if not note:
            raise DomainError("교육지원청 요청 사유를 메모에 적어 주세요.", "decisions")
        if case.status in ("closed", "not_selected"):
            raise DomainError("종결되었거나 미선정된 사례는 교육지원청에 요청할 수 없습니다.", "decisions")
    if decision == "close":
        if actor.role != SCHOOL_LEAD:
            raise NotPermitted("종결 결정은 학교 지원팀장(교감)이 기록해야 합니다.")
        case_services.check_transition(case, "close", actor)
        still_open = open_items_blocking_close(case)
        if still_open:
            raise DomainError(f"{case.student.name} 학생 사례를 종결하려면 먼저 {', '.join(still_open)}을(를) "
                              "종료해 주세요.", "decisions")
    actions = []
    for action in given.get("actions") or []:
        description = (action.get("description") or "").strip()[:TEXT_MAX]
        if not description:
            raise DomainError("실행 과제의 내용을 입력해 주세요.", "actions")
        kind, user, agency = _owner(case, action)
        due = action.get("due_on")
        if due is not None and (not isinstance(due, dt.date) or due < today):
            raise DomainError("실행 과제의 기한은 오늘 이후여야 합니다.", "actions")
        actions.append(dict(description=description, kind=kind, user=user, agency=agency, due_on=due))
    return dict(decision=decision, note=note, review=review, actions=actions)


def record_meeting(conference: Conference, actor, *, attended_participant_ids, minutes: str,
                   decisions: dict, close_reasons: dict | None = None) -> None:
    """Record attendance, minutes and each case's decision; all of it or nothing."""
    if not is_organiser_side(actor, conference):
        raise NotPermitted("이 회의를 기록할 권한이 없습니다.")
    if conference.status != "scheduled":
        raise DomainError("예정된 회의만 기록할 수 있습니다.", "status")
    minutes = (minutes or "").strip()
    if not minutes:
        raise DomainError("회의록을 입력해 주세요.", "minutes")
    attended = {int(i) for i in attended_participant_ids or []}
    if attended - {p.id for p in conference.participants}:
        raise DomainError("참석자 목록에 없는 사람입니다.", "attended_participant_ids")
    today, close_reasons = today_kst(), close_reasons or {}
    decisions = {int(k): v for k, v in (decisions or {}).items()}
    if set(decisions) - {cc.case_id for cc in conference.cases}:
        raise DomainError("이 회의에서 다루지 않은 사례의 결정입니다.", "decisions")
    checked = {cc.case_id: _check_decision(conference, actor, cc.case, decisions.get(cc.case_id), today)
               for cc in conference.cases}
    with db.session.begin_nested():
        for cc in conference.cases:
            _apply(conference, actor, cc, checked[cc.case_id], close_reasons.get(cc.case_id))
        for person in conference.participants:
            person.attended = person.id in attended
        conference.status, conference.held_at, conference.minutes = "held", utcnow(), minutes
        record("conference_recorded", obj=conference, actor=actor,
               details={"decisions": {cc.case.uid: checked[cc.case_id]["decision"] for cc in conference.cases},
                        "attended": len(attended), "actions": sum(len(c["actions"]) for c in checked.values())})


def _apply(conference: Conference, actor, cc: ConferenceCase, checked: dict, close: tuple | None) -> None:
    """Apply one case's decision through the case services, then its action items."""
    case, decision, note = cc.case, checked["decision"], checked["note"]
    if decision == "escalate":
        case_services.escalate_case(case, actor, reason=note)
    elif decision == "close":
        reason, outcomes = close or ("goals_met", {need.id: ("improved", "") for need in case.needs})
        case_services.close_case(case, actor, reason=reason, outcomes=outcomes)
    cc.decision, cc.decision_note, cc.next_review_on = decision, note or None, checked["review"]
    plannable = case.status in PLANNABLE and actor.role in SCHOOL_ROLES and actor.organisation_id == case.school_id
    for action in checked["actions"]:
        user, agency = action["user"], action["agency"]
        item = ActionItem(conference_id=conference.id, case_id=case.id, owner_kind=action["kind"],
                          owner_user_id=user.id if user else None, owner_agency_id=agency.id if agency else None,
                          due_on=action["due_on"], status="open")
        item.description = action["description"]
        if plannable:
            school_user = user is not None and user.role in SCHOOL_ROLES and user.organisation_id == case.school_id
            label = agency.name if agency else (user.display_name if user else "학교 지원팀")
            plan = add_plan_action(case, actor, goal="사례회의 결정", action=action["description"],
                                   owner_id=user.id if school_user else None, owner_label=label,
                                   due_on=action["due_on"])
            item.plan_action_id = plan.id
        db.session.add(item)
    review = f" (다음 점검 {checked['review']:%Y. %-m. %-d.})" if checked["review"] else ""
    add_event(case, "conference", f"사례회의 결정: {DECISIONS[decision]}" + (f" — {note}" if note else "") + review,
              actor)
    record("conference_decision", obj=cc, subject=case.student, actor=actor,
           details={"conference": conference.uid, "decision": decision, "actions": len(checked["actions"])})


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
        raise NotPermitted("이 실행 과제를 변경할 권한이 없습니다.")
    if status not in ACTION_ITEM_STATUSES:
        raise DomainError("상태를 선택해 주세요.", "status")
    if status == item.status:
        raise DomainError("이미 그 상태입니다.", "status")
    case = db.session.get(SupportCase, item.case_id)
    previous, item.status = item.status, status
    plan = db.session.get(PlanAction, item.plan_action_id) if item.plan_action_id else None
    if plan is not None and plan.status != status:
        if actor.role in SCHOOL_ROLES and actor.organisation_id == case.school_id and case.status in PLANNABLE:
            set_action_status(plan, case, actor, status)
        else:  # a guardian or an agency reports progress; the plan line follows it
            plan.status, plan.completed_on = status, (today_kst() if status == "done" else None)
    add_event(case, "conference", f"사례회의 실행 과제: {ACTION_ITEM_STATUSES[status]}", actor)
    record("conference_action_status", obj=item, subject=case.student, actor=actor,
           details={"from": previous, "to": status})


def cancel_conference(conference: Conference, actor) -> None:
    """Cancel a scheduled conference and tell its participants."""
    if not is_organiser_side(actor, conference):
        raise NotPermitted("이 회의를 취소할 권한이 없습니다.")
    if conference.status != "scheduled":
        raise DomainError("예정된 회의만 취소할 수 있습니다.", "status")
    conference.status = "cancelled"
    for cc in conference.cases:
        add_event(cc.case, "conference", f"{conference.kind_label} 취소 ({kst_label(conference.starts_at)})", actor)
    for person in conference.participants:
        if person.user_id and person.user_id != actor.id:
            notify(person.user_id, "conference", f"{conference.kind_label}({kst_label(conference.starts_at)})이 "
                   "취소되었습니다.", link=_link(conference), dedupe_key=f"conf-cancel:{conference.id}:{person.user_id}")
    record("conference_cancelled", obj=conference, actor=actor, details={"kind": conference.kind})
