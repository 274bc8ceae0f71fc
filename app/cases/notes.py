"""Case notes and requests for help to the district centre (법 10④⑤): what the school team
records beside the lifecycle.  Same contract as services.py: the acting user, the rule, a
chronology line and an audit event in the caller's transaction, DomainError on refusal."""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext as _l

from ..audit.services import record
from ..db import utcnow
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..permissions import DISTRICT_COORDINATOR, can_edit_case
from .chronology import add_event
from .models import NOTE_KINDS, CaseEscalation, CaseNote


def _require_school_team(actor, case) -> None:
    if not can_edit_case(actor, case):
        raise NotPermitted(gettext("이 사례를 변경할 권한이 없습니다."))


def add_note(case, actor, *, kind: str, body: str) -> CaseNote:
    """Add an encrypted note (상담 · 관찰 · 가정 연락 · 기타)."""
    _require_school_team(actor, case)
    if kind not in NOTE_KINDS:
        raise DomainError(gettext("기록 종류를 선택해 주세요."), "kind")
    if not (body or "").strip():
        raise DomainError(gettext("내용을 입력해 주세요."), "body")
    note = CaseNote(case_id=case.id, kind=kind, author_id=actor.id)
    note.body = body.strip()
    db.session.add(note)
    db.session.flush()
    add_event(case, "note", _l("[%(kind)s] %(text)s", kind=NOTE_KINDS[kind], text=body.strip()), actor)
    record("case_note_added", obj=note, subject=case.student, actor=actor, details={"kind": kind})
    return note


def escalate_case(case, actor, *, reason: str) -> CaseEscalation:
    """Ask the district centre for help (법 10④)."""
    _require_school_team(actor, case)
    if case.status in ("closed", "not_selected", "withdrawn"):
        raise DomainError(gettext("종결·미선정·철회된 사례는 요청할 수 없습니다."), "status")
    if case.escalation_open:
        raise DomainError(gettext("이미 교육지원청에 요청한 상태입니다. 회신을 기다려 주세요."), "reason")
    if not (reason or "").strip():
        raise DomainError(gettext("요청 사유를 입력해 주세요."), "reason")
    escalation = CaseEscalation(case_id=case.id, office_code=case.school.office_code, requested_by_id=actor.id)
    escalation.reason = reason.strip()
    db.session.add(escalation)
    case.escalation_open = True
    db.session.flush()
    add_event(case, "escalation", _l("교육지원청 지원 요청: %(text)s", text=reason.strip()), actor)
    record("case_escalated", obj=case, subject=case.student, actor=actor, details={"office": escalation.office_code})
    return escalation


def reply_to_escalation(escalation: CaseEscalation, case, actor, *, reply: str) -> None:
    """Record the district centre's reply (법 10⑤)."""
    if actor is None or actor.role != DISTRICT_COORDINATOR or actor.organisation.office_code != escalation.office_code:
        raise NotPermitted(gettext("이 요청에 회신할 권한이 없습니다."))
    if escalation.replied_at is not None:
        raise DomainError(gettext("이미 회신한 요청입니다."), "reply")
    if not (reply or "").strip():
        raise DomainError(gettext("회신 내용을 입력해 주세요."), "reply")
    escalation.reply = reply.strip()
    escalation.replied_at, escalation.replied_by_id = utcnow(), actor.id
    case.escalation_open = False
    add_event(case, "escalation", _l("교육지원청 회신: %(text)s", text=reply.strip()), actor)
    record("case_escalation_replied", obj=case, subject=case.student, actor=actor)
