"""The 열람 copy (개인정보 보호법 제35조): everything Ieum holds about one student, decrypted, in Korean.

Completeness by construction: the copy walks every mapped model that has a ``student_id`` or a
``case_id`` column (so a table added later, by any feature, appears without anyone remembering to
add it here) and prints every plain column but internal keys and every encrypted field of the
student's rows.  The student record and the conference minutes are added by hand, since they
are keyed otherwise.

What is left out, and why, is listed in the copy itself (``withheld``).  Decisions:

* other people's personal data (법 제35조④2호: another's interests would be infringed): the
  education guardian's own record (name, contact, address, birth date, record checks), external
  conference participants' names and organisations, and the names of the users who wrote or
  received each line (the copy names no staff member, guardian or agency worker);
* minutes of a conference that also discussed another student (they cannot be split by student):
  withheld whole, while this student's decision, note, review date and follow-up actions are in
  the copy; minutes of a conference about this student alone are included (also their earlier
  versions, which an amendment keeps);
* an agency's own service records (referral_service_record): the agency is a controller of its
  own (제35조 applies to it directly); the copy says how many there are and which agency holds
  them.  Everything the school shared with the agency and the agency's answers are included;
* other people's names inside texts (an alert naming the guardian …) are masked
  (request_redact.py);
* the access log (audit trail) is a security record of the school's processing; it is provided
  on a separate request by the privacy officer.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext, to_user_timezone
from sqlalchemy import false, inspect as sa_inspect, or_, select

from ..agencies.models import Referral, ServiceRecord
from ..audit.labels import object_label
from ..cases.models import SupportCase
from ..conferences.models import CONFERENCE_STATUSES, Conference, ConferenceAmendment, ConferenceCase
from ..db import encrypted_fields_of, utcnow
from ..extensions import db
from ..guardians.models import Assignment
from ..stored_messages import render_value
from ..students.models import Student
from ..words import date_text
from . import request_labels as L
from .request_models import SubjectRequest
from .request_redact import mask_sections, other_names, withheld_line

#: the keys a row of the copy is found by
KEYS = ("student_id", "case_id")


@dataclass
class Item:
    title: str
    fields: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Section:
    key: str
    title: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Copy:
    request: SubjectRequest
    generated_at: str
    student: list[tuple[str, str]]
    sections: list[Section]
    withheld: list[tuple[str, str]]

    def as_json(self) -> dict:
        """The same content as the printable page, as a document for the JSON download."""
        return {
            "title": gettext("개인정보 열람 사본"), "generated_at": self.generated_at,
            "request": {"uid": self.request.uid, "kind": str(self.request.kind_label),
                        "requested_on": self.request.requested_on.isoformat()},
            "student": [{"label": k, "value": v} for k, v in self.student],
            "sections": [{"table": s.key, "title": s.title,
                          "items": [{"title": i.title, "fields": [{"label": k, "value": v} for k, v in i.fields]}
                                    for i in s.items]} for s in self.sections],
            "withheld": [{"what": what, "why": why} for what, why in self.withheld],
        }


def tied_models() -> list[type]:
    """Every mapped class with a student or case key, in the copy's order."""
    found = [m.class_ for m in db.Model.registry.mappers
             if getattr(m.class_, "__tablename__", None) and any(k in m.columns for k in KEYS)]
    order = list(L.TABLE_TITLES)
    return sorted(found, key=lambda c: (order.index(c.__tablename__) if c.__tablename__ in order else len(order),
                                        c.__tablename__))


def belongs_to(model, student_id: int, case_ids: list[int]):
    """A row is the student's by its student key or by one of their cases' keys (an alert may
    carry either, or both)."""
    columns = sa_inspect(model).columns
    conditions = [model.student_id == student_id] if "student_id" in columns else []
    if "case_id" in columns and case_ids:
        conditions.append(model.case_id.in_(case_ids))
    return or_(*conditions) if conditions else false()


def text_of(value) -> str:
    """A value as the copy prints it: dates in Korean, times in KST, codes left to the caller."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("예") if value else gettext("아니요")
    if isinstance(value, dt.datetime):
        local = to_user_timezone(value)
        return f"{date_text(local.date())} {local.hour:02d}:{local.minute:02d}"
    if isinstance(value, dt.date):
        return date_text(value)
    if isinstance(value, dict):
        return "; ".join(f"{L.SHAREABLE_ITEMS.get(k, k)}: "
                         f"{text_of(render_value(v))}" for k, v in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return "; ".join(text_of(render_value(v)) for v in value)
    return str(value)


def _coded(table: str, column: str, value) -> str:
    labels = L.VALUES.get((table, column))
    if labels is None:
        return text_of(value)
    if isinstance(value, list):
        return "; ".join(str(labels.get(v, v)) for v in value)
    return str(labels.get(value, value)) if value is not None else ""


def row_fields(row) -> list[tuple[str, str]]:
    """Every plain column but keys, and every encrypted field (decrypted), of one row."""
    model = type(row)
    table = model.__tablename__
    encrypted = encrypted_fields_of(model)
    labels = L.COLUMNS.get(table, {})
    out = []
    for prop in sa_inspect(model).column_attrs:
        name, column = prop.key, prop.columns[0]
        if name.endswith("_enc") and name[:-4] in encrypted:
            field_name = name[:-4]
            label = labels.get(field_name) or L.COMMON.get(field_name) or field_name
            value = getattr(row, field_name)
            if value not in (None, ""):
                out.append((str(label), text_of(value)))
            continue
        if column.primary_key or column.foreign_keys or name in ("uid",) or name.endswith("_bidx"):
            continue
        if name in labels and labels[name] is None:
            continue  # an internal value (a sort key, a dedupe key), nothing about the student
        value = getattr(row, name)
        if value in (None, "", [], {}):
            continue
        out.append((str(labels.get(name) or L.COMMON.get(name) or name), _coded(table, name, value)))
    return out


def _title(row, number: int) -> str:
    for name in ("occurred_at", "occurred_on", "requested_on", "given_on", "meeting_on", "created_at", "sent_at"):
        value = getattr(row, name, None)
        if value is not None:
            return f"{number}. {text_of(value)}"
    return f"{number}."


def student_fields(student: Student) -> list[tuple[str, str]]:
    """The student record, every field (encrypted ones decrypted)."""
    out = [(str(gettext("학교")), student.school.name)]
    for name, label in L.STUDENT_LABELS.items():
        value = getattr(student, name)
        if value not in (None, ""):
            out.append((str(label), text_of(value)))
    for name in encrypted_fields_of(Student):  # a field added later appears under its own name
        if name not in L.STUDENT_LABELS and getattr(student, name) not in (None, ""):
            out.append((name, text_of(getattr(student, name))))
    return out


def _conference_items(cases: list[SupportCase], withheld: list) -> Section:
    """Minutes of conferences about this student alone (and their earlier versions); the others listed as withheld."""
    case_ids = {c.id for c in cases}
    case_uids = {c.uid for c in cases}
    conference_ids = select(ConferenceCase.conference_id).where(ConferenceCase.case_id.in_(case_ids))
    section = Section("conference", gettext("사례회의 회의록"))
    conferences = db.session.scalars(select(Conference).where(Conference.id.in_(conference_ids))
                                     .order_by(Conference.starts_at)).all()
    for conference in conferences:
        alone = all(cc.case_id in case_ids for cc in conference.cases)
        item = Item(f"{text_of(conference.starts_at)} {conference.kind_label}")
        item.fields.append((gettext("상태"), str(CONFERENCE_STATUSES.get(conference.status, conference.status))))
        if conference.cancel_reason:
            item.fields.append((gettext("취소 사유"), conference.cancel_reason))
        amendments = db.session.scalars(select(ConferenceAmendment).where(
            ConferenceAmendment.conference_id == conference.id).order_by(ConferenceAmendment.id)).all()
        if alone:
            if conference.minutes:
                item.fields.append((gettext("회의록"), conference.minutes))
        else:
            withheld.append((gettext("%(when)s 사례회의 회의록", when=item.title),
                             gettext("다른 학생의 정보가 함께 적혀 있어 제공하지 않습니다(제35조④2호). "
                                     "이 학생에 대한 결정·후속 조치는 사본에 있습니다.")))
        for amendment in amendments:
            previous = amendment.previous or {}
            item.fields.append((gettext("정정 일시"), text_of(amendment.amended_at)))
            item.fields.append((gettext("정정 사유"), amendment.reason or ""))
            if alone and previous.get("minutes"):
                item.fields.append((gettext("정정 전 회의록"), previous["minutes"]))
            for uid, before in (previous.get("cases") or {}).items():
                if uid in case_uids and before.get("note"):
                    item.fields.append((gettext("정정 전 결정 내용"), before["note"]))
        externals = sum(1 for p in conference.participants if p.user_id is None)
        if externals:
            withheld.append((gettext("%(when)s 사례회의 외부 참석자 %(n)d명의 이름·소속", when=item.title, n=externals),
                             gettext("다른 사람의 개인정보입니다(제35조④2호).")))
        section.items.append(item)
    return section


def _withheld_of_others(cases: list[SupportCase], withheld: list) -> None:
    case_ids = [c.id for c in cases]
    if not case_ids:
        return
    guardians = db.session.scalar(select(db.func.count(db.distinct(Assignment.guardian_id)))
                                  .where(Assignment.case_id.in_(case_ids)))
    if guardians:
        withheld.append((gettext("교육후견인 %(n)d명의 개인정보(이름·연락처·주소·생년월일·범죄경력 조회)", n=guardians),
                         gettext("다른 사람의 개인정보입니다(제35조④2호). 배정·활동 기록은 사본에 있습니다.")))
    rows = db.session.execute(
        select(Referral.agency_id, db.func.count(ServiceRecord.id))
        .join(ServiceRecord, ServiceRecord.referral_id == Referral.id)
        .where(Referral.case_id.in_(case_ids)).group_by(Referral.agency_id)).all()
    from ..auth.models import Organisation
    for agency_id, count in rows:
        agency = db.session.get(Organisation, agency_id)
        withheld.append((gettext("%(agency)s의 서비스 제공 기록 %(n)d건", agency=agency.name, n=count),
                         gettext("유관기관이 직접 작성·보유하는 기록입니다. 해당 기관에 열람을 요청할 수 있습니다.")))


def build_copy(request: SubjectRequest) -> Copy:
    """The whole copy for ``request``'s student (read only: the views record that it was made)."""
    student = request.student
    cases = db.session.scalars(select(SupportCase).where(SupportCase.student_id == student.id)
                               .order_by(SupportCase.requested_on, SupportCase.id)).all()
    case_ids = [c.id for c in cases]
    sections: list[Section] = []
    for model in tied_models():
        table = model.__tablename__
        columns = sa_inspect(model).columns
        query = select(model).where(belongs_to(model, student.id, case_ids))
        order = [c for c in ("occurred_at", "occurred_on", "created_at") if c in columns]
        rows = db.session.scalars(query.order_by(*[columns[c] for c in order], *sa_inspect(model).primary_key)).all()
        if not rows:
            continue
        title = L.TABLE_TITLES.get(table) or object_label(table)
        sections.append(Section(table, str(title), [Item(_title(r, n), row_fields(r)) for n, r in enumerate(rows, 1)]))
    withheld: list[tuple[str, str]] = []
    minutes = _conference_items(cases, withheld)
    if minutes.items:
        sections.append(minutes)
    _withheld_of_others(cases, withheld)
    if mask_sections(sections, other_names(student, case_ids)):
        withheld.append(withheld_line())
    withheld.append((gettext("각 기록을 작성하거나 알림을 받은 교직원·교육후견인·기관 담당자의 계정 정보"),
                     gettext("학생에 관한 정보가 아닌 업무 담당자의 정보라 싣지 않았습니다.")))
    withheld.append((gettext("접속기록(누가 언제 이 학생의 정보를 열람했는지)"),
                     gettext("시스템 보안 기록으로, 요청하면 개인정보 보호 담당자가 따로 제공합니다.")))
    return Copy(request, text_of(utcnow()), student_fields(student), sections, withheld)

