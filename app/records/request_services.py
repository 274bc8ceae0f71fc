"""열람·정정 requests: recording, correcting, answering; each writes its audit event (and a line in
the chronology of every case of the student) in the caller's transaction.

Decisions:
* Only the school lead of the student's school acts (permissions.can_handle_subject_requests).
* The deadline is 10 calendar days after the request (영 제41조④, 제43조③); an extension
  (영 제41조⑤) is not modelled: the lead answers 일부 완료 or 거절 with the reason instead.
* A copy is shown or downloaded by GET views (audited there, reason = the request); answering a
  열람 request as done needs at least one copy made for it, found in the audit trail
  (the request's uid as object, the student as subject: one index range).
* A correction goes through the student service (update_student, with the request as its reason);
  its before and after values are written only into the encrypted chronology line, while the audit
  event names the fields.  Other records (notes, minutes …) are never rewritten: a refused or
  partly granted correction keeps the family's request and the lead's reason on the request, and the
  chronology says so (the record shows that its accuracy was disputed).
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select

from ..audit.models import AuditEvent
from ..audit.services import record
from ..cases.chronology import add_event, listing
from ..cases.models import SupportCase
from ..db import today_kst
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..permissions import can_handle_subject_requests
from ..students.services import STUDENT_FIELDS, update_student
from . import request_labels as labels
from .request_models import DEADLINE_DAYS, IDENTITY_METHODS, REQUEST_KINDS, REQUESTERS, SubjectRequest

TEXT_MAX = 2000
#: the chronology kind of these lines (the case page's "요청" tab)
EVENT_KIND = "request"
COPY_ACTIONS = ("subject_copy_viewed", "subject_copy_exported")


def _require_lead(actor, student) -> None:
    if not can_handle_subject_requests(actor, student):
        raise NotPermitted(gettext("열람·정정 요청은 해당 학교의 지원팀장(교감)만 처리할 수 있습니다."))


def _text(value, field: str, required_message: str | None = None) -> str | None:
    value = (value or "").strip()
    if not value:
        if required_message:
            raise DomainError(required_message, field)
        return None
    if len(value) > TEXT_MAX:
        raise DomainError(gettext("%(n)d자 이내로 입력해 주세요.", n=TEXT_MAX), field)
    return value


def audit_reason(request: SubjectRequest) -> str:
    """The audit reason of everything done for a request: names the request, never a person."""
    kind = "열람" if request.kind == "access" else "정정"
    return f"개인정보 {kind} 요청 {request.uid} ({request.requested_on.isoformat()} 접수)"


def due_date(requested_on: dt.date) -> dt.date:
    """The legal deadline: 10 days after the request (영 제41조④)."""
    return requested_on + dt.timedelta(days=DEADLINE_DAYS)


def _cases_of(student) -> list[SupportCase]:
    return list(db.session.scalars(select(SupportCase).where(SupportCase.student_id == student.id,
                                                             SupportCase.school_id == student.school_id)))


def _chronicle(request: SubjectRequest, text, actor) -> None:
    """One line in the chronology of each case the student has at the school."""
    for case in _cases_of(request.student):
        add_event(case, EVENT_KIND, text, actor)


def record_request(actor, student, *, kind: str, requested_by: str, requested_on, identity_method: str,
                   identity_note: str = "", correction_asked: str = "") -> SubjectRequest:
    """Record a 열람 or 정정 request about ``student`` (the lead of the student's school)."""
    _require_lead(actor, student)
    if kind not in REQUEST_KINDS:
        raise DomainError(gettext("요청 종류를 선택해 주세요."), "kind")
    if requested_by not in REQUESTERS:
        raise DomainError(gettext("요청한 사람을 선택해 주세요."), "requested_by")
    if not isinstance(requested_on, dt.date):
        raise DomainError(gettext("요청일을 입력해 주세요."), "requested_on")
    if requested_on > today_kst():
        raise DomainError(gettext("요청일은 오늘 이후일 수 없습니다."), "requested_on")
    if requested_on < today_kst() - dt.timedelta(days=365):
        raise DomainError(gettext("요청일은 1년 이내여야 합니다."), "requested_on")
    if identity_method not in IDENTITY_METHODS:
        raise DomainError(gettext("본인 확인 방법을 선택해 주세요."), "identity_method")
    note = _text(identity_note, "identity_note", gettext("'기타'로 확인했다면 어떻게 확인했는지 적어 주세요.")
                 if identity_method == "other" else None)
    asked = _text(correction_asked, "correction_asked",
                  gettext("정정을 요청한 내용을 입력해 주세요.") if kind == "correction" else None)
    request = SubjectRequest(school_id=student.school_id, student_id=student.id, kind=kind, requested_by=requested_by,
                             requested_on=requested_on, due_on=due_date(requested_on), recorded_by_id=actor.id,
                             identity_method=identity_method, status="open")
    request.identity_note = note
    request.correction_asked = asked if kind == "correction" else None
    request.student = student
    db.session.add(request)
    db.session.flush()
    _chronicle(request, _l("개인정보 %(kind)s 요청 접수 (%(who)s, 처리 기한 %(due)s)", kind=REQUEST_KINDS[kind],
                           who=REQUESTERS[requested_by], due=request.due_on.isoformat()), actor)
    record("subject_request_recorded", obj=request, subject=student, actor=actor, reason=audit_reason(request),
           details={"kind": kind, "requested_by": requested_by, "identity_method": identity_method,
                    "due_on": request.due_on.isoformat()})
    return request


def _require_open(actor, request: SubjectRequest) -> None:
    _require_lead(actor, request.student)
    if not request.is_open:
        raise DomainError(gettext("이미 처리가 끝난 요청입니다."), "status")


def _shown(name: str, value) -> str:
    from .request_copy import text_of
    return text_of(value) if value not in (None, "") else gettext("(없음)")


def correct_student(actor, request: SubjectRequest, fields: dict) -> list[str]:
    """Correct the student's record for a 정정 request, through the student service; returns the
    changed field names.  Nothing changed is refused (say 거절 instead)."""
    _require_open(actor, request)
    if request.kind != "correction":
        raise DomainError(gettext("정정 요청에서만 정정할 수 있습니다."), "kind")
    student = request.student
    fields = {k: v for k, v in fields.items() if k in STUDENT_FIELDS}
    before = {k: getattr(student, k) for k in STUDENT_FIELDS}
    normal = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in fields.items()}
    changed = [k for k in STUDENT_FIELDS if k in normal and normal[k] != before[k]]
    if not changed:
        raise DomainError(gettext("바뀐 항목이 없습니다. 정정하지 않는다면 '거절'로 처리해 주세요."), "name")
    # only what changed: the student service's event then names exactly the corrected fields
    update_student(actor, student, {k: fields[k] for k in changed}, reason=audit_reason(request))
    parts = [_l("%(field)s: %(before)s → %(after)s", field=labels.STUDENT_LABELS[k], before=_shown(k, before[k]),
                after=_shown(k, getattr(student, k))) for k in changed]
    _chronicle(request, _l("정정 요청에 따라 학생 정보 정정: %(changes)s", changes=listing(parts)), actor)
    record("subject_request_corrected", obj=request, subject=student, actor=actor, reason=audit_reason(request),
           details={"fields": changed})
    return changed


def copies_made(request: SubjectRequest) -> int:
    """How many times a copy was shown or downloaded for ``request`` (from the audit trail)."""
    return len(db.session.scalars(select(AuditEvent.id).where(
        AuditEvent.subject_ref == request.student.uid, AuditEvent.action.in_(COPY_ACTIONS),
        AuditEvent.object_id == request.uid, AuditEvent.outcome == "allowed")).all())


def corrections_made(request: SubjectRequest) -> int:
    return len(db.session.scalars(select(AuditEvent.id).where(
        AuditEvent.subject_ref == request.student.uid, AuditEvent.action == "subject_request_corrected",
        AuditEvent.object_id == request.uid)).all())


def complete_request(actor, request: SubjectRequest, *, partly: bool = False, reason: str = "",
                     completed_on: dt.date | None = None) -> SubjectRequest:
    """Answer a request as done (완료) or partly done (일부 완료, with the reason for what was not)."""
    _require_open(actor, request)
    reason = _text(reason, "reason", gettext("일부만 처리한 이유를 입력해 주세요.") if partly else None)
    if request.kind == "access" and not copies_made(request):
        raise DomainError(gettext("열람 사본을 먼저 만들어 주세요(인쇄본 또는 파일)."), "status")
    if request.kind == "correction" and not corrections_made(request):
        raise DomainError(gettext("정정한 내용이 없습니다. 정정하지 않는다면 '거절'로 처리해 주세요."), "status")
    details = _close(actor, request, "partly" if partly else "completed", reason, completed_on)
    if partly:
        record("subject_request_partly", obj=request, subject=request.student, actor=actor,
               reason=audit_reason(request), details=details)
    else:
        record("subject_request_completed", obj=request, subject=request.student, actor=actor,
               reason=audit_reason(request), details=details)
    return request


def refuse_request(actor, request: SubjectRequest, *, reason: str,
                   completed_on: dt.date | None = None) -> SubjectRequest:
    """Refuse a request (제35조④, 제36조①단서), with the reason the family is told."""
    _require_open(actor, request)
    reason = _text(reason, "reason", gettext("거절 사유를 입력해 주세요."))
    details = _close(actor, request, "refused", reason, completed_on)
    record("subject_request_refused", obj=request, subject=request.student, actor=actor,
           reason=audit_reason(request), details=details)
    return request


def _close(actor, request: SubjectRequest, status: str, reason, completed_on) -> dict:
    """Set the answer and write the chronology; returns the audit details (the caller records
    its own event code, so every code stays a literal the label test can find)."""
    day = completed_on or today_kst()
    if day > today_kst() or day < request.requested_on:
        raise DomainError(gettext("처리일은 요청일과 오늘 사이여야 합니다."), "completed_on")
    request.status, request.completed_on, request.completed_by_id = status, day, actor.id
    request.decision_reason = reason
    late = day > request.due_on
    texts = {"completed": _l("개인정보 %(kind)s 요청 처리 완료", kind=REQUEST_KINDS[request.kind]),
             "partly": _l("개인정보 %(kind)s 요청 일부 처리: %(reason)s", kind=REQUEST_KINDS[request.kind],
                          reason=reason or ""),
             "refused": _l("개인정보 %(kind)s 요청 거절: %(reason)s", kind=REQUEST_KINDS[request.kind],
                           reason=reason or "")}
    _chronicle(request, texts[status], actor)
    return {"kind": request.kind, "late": late, "completed_on": day.isoformat()}


def record_copy(request: SubjectRequest, actor, fmt: str) -> None:
    """Audit one showing (html) or download (json) of the copy, with the request as the reason."""
    _require_lead(actor, request.student)
    if fmt == "json":
        record("subject_copy_exported", obj=request, subject=request.student, actor=actor,
               reason=audit_reason(request), details={"format": fmt})
    else:
        record("subject_copy_viewed", obj=request, subject=request.student, actor=actor,
               reason=audit_reason(request), details={"format": fmt})
