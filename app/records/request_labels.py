"""Korean words for the 열람 copy (request_copy.py): a title per table, a label per column and the
labels of coded values.  A table or column without an entry still appears in the copy under its
own name: completeness comes first, the wording can follow (tests/records/test_request_copy.py
fails on a missing value, never on a missing label)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..agencies.models import DECLINE_REASONS, OVERRIDE_CATEGORIES, REFERRAL_STATUSES, SHAREABLE_ITEMS
from ..cases import models as cm
from ..cases.chronology import EVENT_KINDS
from ..cases.satisfaction import SATISFACTION_PARTIES
from ..conferences.models import ACTION_ITEM_STATUSES, ACTION_OWNER_KINDS, DECISIONS
from ..guardians.models import ACTIVITY_KINDS, ASSIGNMENT_STATUSES, CLOSE_REASONS, CONCERN_STATUSES
from ..notifications.services import KINDS as ALERT_KINDS
from .request_models import IDENTITY_METHODS, REQUEST_KINDS, REQUESTERS, STATUSES

#: section titles, in the copy's order (tables not named here follow, alphabetically)
TABLE_TITLES = {
    "support_case": _l("지원 사례"), "case_need": _l("지원 영역"), "consent": _l("동의"),
    "case_selection": _l("지원 대상 선정 회의"), "plan_action": _l("지원 계획"), "case_note": _l("사례 기록"),
    "case_escalation": _l("교육지원청 상향 요청"), "case_satisfaction": _l("만족도 조사"),
    "guardian_assignment": _l("교육후견인 배정"), "guardian_activity": _l("교육후견인 활동일지"),
    "guardian_concern": _l("교육후견인 우려 보고"), "referral": _l("유관기관 의뢰 (학교가 공유한 내용)"),
    "conference_case": _l("사례회의 결정"), "conference_action_item": _l("사례회의 후속 조치"),
    "case_review": _l("사례 점검 일정"), "notification": _l("알림"), "case_event": _l("사례 경과 기록"),
    "subject_request": _l("열람·정정 요청"),
}

#: column labels shared by every table
COMMON = {
    "created_at": _l("기록 일시"), "updated_at": _l("최종 수정 일시"), "status": _l("상태"), "kind": _l("종류"),
    "description": _l("내용"), "reason": _l("사유"), "note": _l("메모"), "notes": _l("내용"),
    "due_on": _l("기한"), "completed_on": _l("완료일"), "outcome": _l("결과"), "outcome_note": _l("결과 내용"),
    "domain": _l("영역"), "party": _l("당사자"), "summary": _l("요청 내용"), "requested_on": _l("요청일"),
    "requested_by": _l("요청자"), "closed_on": _l("종결일"), "close_reason": _l("종결 사유"), "text": _l("내용"),
    "occurred_on": _l("날짜"), "occurred_at": _l("일시"), "minutes": _l("시간(분)"), "concern": _l("우려 표시"),
}

#: labels of one table's columns (where the common word does not fit)
COLUMNS = {
    "support_case": {"risk_level": _l("위기 수준"), "urgency": None, "escalation_open": _l("교육지원청 회신 대기"),
                     "withdraw_reason": _l("요청 철회 사유"), "guardians_needed": _l("필요한 교육후견인 수"),
                     "guardian_gender_preference": _l("교육후견인 성별 희망")},
    "case_need": {"resolved_on": _l("해결일"), "added_on": _l("추가일")},
    "consent": {"given_on": _l("동의일"), "method": _l("방법"), "expires_on": _l("만료일"),
                "withdrawn_on": _l("철회일"), "lapse_handled_on": None},
    "case_selection": {"selected": _l("선정 여부"), "meeting_on": _l("회의일"),
                       "basic_academic_result": _l("기초학력 진단 결과"), "teacher_opinions": _l("교사 의견"),
                       "parent_counselling": _l("보호자 상담 결과"), "members": _l("참석자"), "reason": _l("사유")},
    "plan_action": {"goal": _l("목표"), "action": _l("실행 내용"), "shared_with_guardian": _l("교육후견인과 공유")},
    "case_note": {"body": _l("내용")},
    "case_escalation": {"office_code": _l("교육지원청"), "replied_at": _l("회신 일시"), "reply": _l("회신 내용")},
    "case_satisfaction": {"score": _l("점수(1–5)"), "surveyed_on": _l("조사일"), "comment": _l("의견")},
    "guardian_assignment": {"score": None, "score_parts": None, "accepted_at": _l("수락 일시"),
                            "declined_reason": _l("거절 사유"), "suspended_reason": _l("중지 사유"),
                            "closed_at": _l("종료 일시"), "rematchable": None, "next_meeting_on": _l("다음 만남"),
                            "end_requested_at": _l("종료 요청 일시"), "end_request_note": _l("종료 요청 내용")},
    "guardian_activity": {"notes": _l("활동 내용")},
    "guardian_concern": {"raised_at": _l("보고 일시"), "escalated_at": _l("상향 보고 일시"),
                         "acknowledged_at": _l("확인 일시"), "response": _l("조치 내용")},
    "referral": {"shared_items": _l("공유 항목"), "shared": _l("공유한 내용"), "sent_at": _l("의뢰 일시"),
                 "respond_by": _l("회신 기한"), "responded_at": _l("회신 일시"), "decline_reason": _l("거절 사유"),
                 "decline_comment": _l("거절 의견"), "override_category": _l("동의 예외 사유 구분"),
                 "override_reason": _l("동의 예외 사유"), "consent_withdrawn_at": _l("동의 철회로 중단된 일시"),
                 "closed_at": _l("종료 일시"), "reason": _l("의뢰 사유")},
    "conference_case": {"decision": _l("결정"), "next_review_on": _l("다음 점검일"), "decision_note": _l("결정 내용")},
    "conference_action_item": {"owner_kind": _l("담당 구분")},
    "case_review": {"review_on": _l("점검일"), "office_code": None},
    "notification": {"link": None, "read_at": _l("확인 일시"), "dedupe_key": None, "object_key": None,
                     "resolved_at": _l("처리 일시")},
    "case_event": {"link": None},
    "subject_request": {"identity_method": _l("본인 확인 방법"), "identity_note": _l("본인 확인 메모"),
                        "correction_asked": _l("정정 요청 내용"), "decision_reason": _l("처리 사유")},
}

_CASE_REQUESTERS = dict(cm.REQUESTERS)
#: coded values -> label, per (table, column)
VALUES = {
    ("support_case", "status"): cm.STATUSES, ("support_case", "requested_by"): _CASE_REQUESTERS,
    ("support_case", "risk_level"): {k: v[0] for k, v in cm.RISK_LEVELS.items()},
    ("support_case", "close_reason"): cm.CLOSE_REASONS, ("case_need", "domain"): cm.DOMAINS,
    ("case_need", "outcome"): cm.NEED_OUTCOMES, ("consent", "party"): cm.CONSENT_PARTIES,
    ("consent", "method"): cm.CONSENT_METHODS, ("plan_action", "status"): cm.ACTION_STATUSES,
    ("case_note", "kind"): cm.NOTE_KINDS, ("case_satisfaction", "party"): SATISFACTION_PARTIES,
    ("guardian_assignment", "status"): ASSIGNMENT_STATUSES, ("guardian_assignment", "close_reason"): CLOSE_REASONS,
    ("guardian_activity", "kind"): ACTIVITY_KINDS, ("guardian_concern", "status"): CONCERN_STATUSES,
    ("referral", "status"): REFERRAL_STATUSES, ("referral", "decline_reason"): DECLINE_REASONS,
    ("referral", "override_category"): OVERRIDE_CATEGORIES, ("referral", "shared_items"): SHAREABLE_ITEMS,
    ("conference_case", "decision"): DECISIONS, ("conference_action_item", "status"): ACTION_ITEM_STATUSES,
    ("case_event", "kind"): EVENT_KINDS, ("subject_request", "kind"): REQUEST_KINDS,
    ("subject_request", "requested_by"): REQUESTERS, ("subject_request", "identity_method"): IDENTITY_METHODS,
    ("subject_request", "status"): STATUSES, ("notification", "kind"): ALERT_KINDS,
    ("conference_action_item", "owner_kind"): ACTION_OWNER_KINDS,
}

STUDENT_LABELS = {
    "name": _l("이름"), "birth_date": _l("생년월일"), "grade": _l("학년"), "class_no": _l("반"), "number": _l("번호"),
    "neis_number": _l("학생 개인번호(NEIS)"), "phone": _l("학생 연락처"), "address": _l("주소"),
    "parent_name": _l("보호자 이름"), "parent_relation": _l("학생과의 관계"), "parent_phone": _l("보호자 연락처"),
    "migrant_background": _l("이주배경 학생"), "home_language": _l("가정에서 쓰는 언어"),
    "special_education": _l("특수교육 대상 학생"),
}
