"""Transfer services (전학): send, accept, return, cancel.  Each checks the actor first (a
NotPermitted is a 403; a transfer out of scope never reaches here: the view answers 404), then
the rules (DomainError: a message next to the field, nothing changed), and writes its audit event
and chronology line in the caller's transaction.

Decisions (issue 16, part 3):

* The case travels only when the student and the parent both consent to "전학 시 자료 이관" on
  the day it is sent and again on the day it is accepted (a withdrawal in between stops it).
* Without that consent the new school learns only that the student had a support case at the
  old school, and how to reach it (school, lead, the contact the lead wrote).  The case stays
  with the old school, open: its lead closes it with reason 전학 once the new school has
  received the notice (closing needs the lead's answers about assignments and referrals, so it
  is not done automatically); the case page says so.
* With consent, acceptance moves the student and the case in one transaction
  (transfer_move.py); the old school keeps this transfer as its record and loses the case.
"""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext as _l

from ..audit.services import record
from ..business_days import add_business_days
from ..cases.chronology import add_event
from ..cases.consent import consent_covers
from ..cases.models import OPEN_STATUSES, SupportCase
from ..db import today_kst, utcnow
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..locking import lock_for_change
from ..permissions import can_answer_transfer, can_cancel_transfer, can_send_transfer
from .transfer_alerts import notify_new, notify_receiver_side, notify_sender_side, resolve_transfer
from .transfer_models import TRANSFER_STATUSES, CaseTransfer
from .transfer_move import move_case
from .transfer_queries import count_open, is_destination

#: the new school answers within this many business days
ANSWER_BUSINESS_DAYS = 5
TEXT_MAX = 1000
CONTACT_MAX = 200
PURPOSE = "transfer"


def _text(value: str | None, field: str, limit: int, required_message: str | None = None) -> str | None:
    value = (value or "").strip()
    if not value:
        if required_message:
            raise DomainError(required_message, field)
        return None
    if len(value) > limit:
        raise DomainError(gettext("내용이 너무 깁니다."), field)
    return value


def data_travels(case: SupportCase) -> bool:
    """Both the student and the parent consent, today, to the transfer of the case's data."""
    return consent_covers(case, PURPOSE)


def send_transfer(case: SupportCase, actor, *, to_school, note: str | None = None,
                  contact: str | None = None) -> CaseTransfer:
    """Send an open case to another school's lead; the case travels only with both consents."""
    if not can_send_transfer(actor, case):
        raise NotPermitted(gettext("전학 이관은 학교 지원팀장만 보낼 수 있습니다."))
    lock_for_change(case)  # one open transfer per case, even when two leads send at once
    if case.status not in OPEN_STATUSES:
        raise DomainError(gettext("진행 중인 사례만 전학 이관할 수 있습니다."), "to_school")
    if to_school is not None and to_school.id == case.school_id:
        raise DomainError(gettext("우리 학교로는 보낼 수 없습니다. 전학 갈 학교를 골라 주세요."), "to_school")
    if not is_destination(to_school, case.school_id):
        raise DomainError(gettext("전학 갈 학교를 골라 주세요 (이음을 쓰는 서울 학교만 고를 수 있습니다)."), "to_school")
    if count_open(case.id):
        raise DomainError(gettext("이미 회신을 기다리는 전학 이관이 있습니다."), "to_school")
    note = _text(note, "note", TEXT_MAX)
    contact = _text(contact, "contact", CONTACT_MAX)
    with_data = data_travels(case)
    transfer = CaseTransfer(case_id=case.id, student_id=case.student_id, from_school_id=case.school_id,
                            to_school_id=to_school.id, status="sent", sent_by_id=actor.id, sent_at=utcnow(),
                            due_on=add_business_days(today_kst(), ANSWER_BUSINESS_DAYS), with_data=with_data)
    transfer.note, transfer.contact = note, contact
    transfer.case, transfer.student = case, case.student
    transfer.from_school, transfer.to_school = case.school, to_school
    db.session.add(transfer)
    db.session.flush()
    add_event(case, "transfer", _l("전학 이관 보냄: %(school)s (%(data)s, 회신 기한 %(day)s)", school=to_school.name,
                                 data=_l("사례 자료 이관 동의 있음") if with_data else _l("동의 없음: 사례가 있었다는 사실과 "
                                                                                "연락처만 전달"),
                                 day=transfer.due_on), actor)
    record("transfer_sent", obj=transfer, subject=case.student, actor=actor,
           details={"case": case.uid, "to_school": to_school.uid, "with_data": with_data,
                    "due_on": transfer.due_on.isoformat()})
    notify_new(transfer)
    return transfer


def _begin(transfer: CaseTransfer, allowed: bool, message: str, *, case_too: bool = False) -> None:
    if not allowed:
        raise NotPermitted(message)
    if case_too:
        # the case first, then the transfer: the order closing the case takes them in (its
        # case_closed receiver cancels the waiting transfer), so the two never wait on each other
        lock_for_change(transfer.case)
    lock_for_change(transfer)  # the other school may be answering or cancelling at this moment
    if transfer.status != "sent":
        raise DomainError(gettext("이미 %(status)s 처리된 전학 이관입니다.", status=TRANSFER_STATUSES[transfer.status]),
                          "status")


def _answer(transfer: CaseTransfer, actor, status: str) -> None:
    transfer.status, transfer.answered_by_id, transfer.answered_at = status, actor.id, utcnow()
    transfer.answered_by = actor
    resolve_transfer(transfer)


def accept_transfer(transfer: CaseTransfer, actor) -> None:
    """The new school's receipt (date and person).  With consent still in force the student and
    the case move here; otherwise the old school keeps the case and is told to close it."""
    _begin(transfer, can_answer_transfer(actor, transfer), gettext("전학 이관은 받는 학교의 지원팀장만 접수할 수 있습니다."),
           case_too=True)
    case = transfer.case
    lapsed = transfer.with_data and not data_travels(case)
    if lapsed or case.status not in OPEN_STATUSES:
        transfer.with_data = False  # consent withdrawn (or the case ended) since sending: nothing travels
    _answer(transfer, actor, "accepted")
    add_event(case, "transfer", _l("전학 이관 접수: %(school)s %(name)s (%(data)s)", school=transfer.to_school.name,
                                 name=actor.display_name,
                                 data=_l("사례가 새 학교로 옮겨짐") if transfer.with_data
                                 else _l("자료 이관 동의 없음: 사례는 이전 학교에 남음")), actor)
    record("transfer_accepted", obj=transfer, subject=transfer.student, actor=actor,
           details={"case": case.uid, "with_data": transfer.with_data, "consent_lapsed": lapsed})
    if transfer.with_data:
        move_case(transfer, actor)
        notify_sender_side(transfer, _l("%(school)s에서 %(name)s 학생의 전학 이관을 접수했습니다. 사례는 새 학교로 옮겨졌습니다.",
                                        school=transfer.to_school.name, name=transfer.student.name))
    else:
        notify_sender_side(transfer, _l("%(school)s에서 %(name)s 학생의 전학 통지를 접수했습니다. 사례를 '전학' 사유로 "
                                        "종결해 주세요.", school=transfer.to_school.name, name=transfer.student.name))


def return_transfer(transfer: CaseTransfer, actor, reason: str) -> None:
    """The new school sends it back with a reason (e.g. the student is not enrolled here)."""
    _begin(transfer, can_answer_transfer(actor, transfer), gettext("전학 이관은 받는 학교의 지원팀장만 반송할 수 있습니다."))
    transfer.return_reason = _text(reason, "reason", TEXT_MAX, gettext("반송 사유를 입력해 주세요."))
    _answer(transfer, actor, "returned")
    add_event(transfer.case, "transfer", _l("전학 이관 반송: %(school)s (사유는 전학 이관 화면에서 볼 수 있습니다)",
                                          school=transfer.to_school.name), actor)
    record("transfer_returned", obj=transfer, subject=transfer.student, actor=actor,
           details={"case": transfer.case.uid})
    notify_sender_side(transfer, _l("%(school)s에서 %(name)s 학생의 전학 이관을 반송했습니다.",
                                    school=transfer.to_school.name, name=transfer.student.name))


def cancel_transfer(transfer: CaseTransfer, actor, *, cause: str | None = None) -> None:
    """The old school takes it back before an answer (``cause``: the case closed or was withdrawn)."""
    _begin(transfer, can_cancel_transfer(actor, transfer) or cause is not None,
           gettext("전학 이관은 보낸 학교의 지원팀장만 취소할 수 있습니다."))
    transfer.status = "cancelled"
    resolve_transfer(transfer)
    add_event(transfer.case, "transfer", _l("전학 이관 취소: %(school)s", school=transfer.to_school.name), actor)
    record("transfer_cancelled", obj=transfer, subject=transfer.student, actor=actor,
           details={"case": transfer.case.uid, **({"cause": cause} if cause else {})})
    notify_receiver_side(transfer, _l("%(school)s에서 보낸 %(name)s 학생의 전학 이관이 취소되었습니다.",
                                      school=transfer.from_school.name, name=transfer.student.name))
