"""Conference forms: shape checks only, Korean messages; the services enforce the rules."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _, lazy_gettext as _l
from ..form_fields import BaseForm
from wtforms import RadioField, SelectField, StringField, TextAreaField, TimeField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Length, Optional, URL

from ..cases.forms.actions import close_form_class, optional_int
from ..cases.forms.consent import MultiCheckboxField
from ..form_fields import DateField
from .models import ACTION_ITEM_STATUSES, ACTION_OWNER_KINDS, CONFERENCE_KINDS, DECISIONS, SETTABLE_ITEM_STATUSES

TEXT_MAX = 4000
REASON_MAX = 1000
#: external participants and action items per case the forms offer
EXTERNAL_ROWS = 3
ACTION_ROWS = 2


class ScheduleForm(BaseForm):
    """Schedule a conference; ``case_ids`` and ``participant_user_ids`` choices are set by the view."""

    kind = RadioField(_l("회의 종류"), choices=list(CONFERENCE_KINDS.items()),
                      validators=[InputRequired(_l("회의 종류를 골라 주세요."))])
    date = DateField(_l("날짜"), validators=[InputRequired(_l("날짜를 입력해 주세요."))])
    time = TimeField(_l("시각"), validators=[InputRequired(_l("시각을 입력해 주세요."))])
    place = StringField(_l("장소"), validators=[Optional(), Length(max=200, message=_l("장소가 너무 깁니다."))])
    online_link = StringField(_l("온라인 회의 링크"), validators=[
        Optional(), Length(max=300, message=_l("링크가 너무 깁니다.")),
        URL(require_tld=False, message=_l("https:// 로 시작하는 주소를 입력해 주세요."))])
    case_ids = MultiCheckboxField(_l("논의할 사례"), coerce=int,
                                  validators=[DataRequired(_l("논의할 사례를 하나 이상 골라 주세요."))])
    participant_user_ids = MultiCheckboxField(_l("참석자(이음 사용자)"), coerce=int)
    ext1_name = StringField(_l("외부 참석자 1 이름"), validators=[Optional(), Length(max=100)])
    ext1_org = StringField(_l("외부 참석자 1 소속"), validators=[Optional(), Length(max=100)])
    ext2_name = StringField(_l("외부 참석자 2 이름"), validators=[Optional(), Length(max=100)])
    ext2_org = StringField(_l("외부 참석자 2 소속"), validators=[Optional(), Length(max=100)])
    ext3_name = StringField(_l("외부 참석자 3 이름"), validators=[Optional(), Length(max=100)])
    ext3_org = StringField(_l("외부 참석자 3 소속"), validators=[Optional(), Length(max=100)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not (self.place.data or "").strip() and not (self.online_link.data or "").strip():
            self.place.errors = [*self.place.errors, _("장소나 온라인 회의 링크 중 하나는 입력해 주세요.")]
            ok = False
        return ok

    def validate_ext1_org(self, field):
        self._external_org(1)

    def validate_ext2_org(self, field):
        self._external_org(2)

    def validate_ext3_org(self, field):
        self._external_org(3)

    def _external_org(self, n: int) -> None:
        name, org = getattr(self, f"ext{n}_name").data, getattr(self, f"ext{n}_org").data
        if (org or "").strip() and not (name or "").strip():
            raise ValidationError(_("외부 참석자의 이름을 입력해 주세요."))

    def starts_at(self) -> dt.datetime:
        """The date and time entered, naive Seoul time (the service stores UTC)."""
        return dt.datetime.combine(self.date.data, self.time.data)

    def externals(self) -> list[tuple[str, str]]:
        """(name, organisation) of each external row filled in."""
        rows = []
        for n in range(1, EXTERNAL_ROWS + 1):
            name = (getattr(self, f"ext{n}_name").data or "").strip()
            if name:
                rows.append((name, (getattr(self, f"ext{n}_org").data or "").strip()))
        return rows


class StatusForm(BaseForm):
    """Change an action item's status."""

    status = SelectField(_l("상태"), choices=[(k, ACTION_ITEM_STATUSES[k]) for k in SETTABLE_ITEM_STATUSES],
                         validators=[InputRequired(_l("상태를 골라 주세요."))])


def case_prefix(case_id: int) -> str:
    return f"c{case_id}"


def record_form_class(case_ids: list[int], participants: list[tuple[int, str]], users: list[tuple[int, str]],
                      agencies: list[tuple[int, str]]):
    """A record form for these cases: attendance, minutes, and per case a decision, a note, a review
    date and ACTION_ROWS action items (owner user/agency choices as given)."""
    user_choices = [("", _l("선택 안 함")), *users]
    agency_choices = [("", _l("선택 안 함")), *agencies]

    class RecordForm(BaseForm):
        attended = MultiCheckboxField(_l("참석"), coerce=int, choices=participants)
        minutes = TextAreaField(_l("회의록"), validators=[DataRequired(_l("회의록을 입력해 주세요.")),
                                                     Length(max=TEXT_MAX, message=_l("회의록이 너무 깁니다."))],
                                render_kw={"rows": 8})

        def case_fields(self, case_id: int) -> dict:
            p = case_prefix(case_id)
            return {"decision": self[f"{p}_decision"], "note": self[f"{p}_note"],
                    "next_review_on": self[f"{p}_review"],
                    "actions": [{name: self[f"{p}_a{n}_{name}"] for name in
                                 ("description", "owner_kind", "owner_user_id", "owner_agency_id", "due_on")}
                                for n in range(1, ACTION_ROWS + 1)]}

        def validate(self, extra_validators=None) -> bool:
            ok = super().validate(extra_validators)
            user_ids, agency_ids = {u for u, _ in users}, {a for a, _ in agencies}
            for case_id in case_ids:
                for row in self.case_fields(case_id)["actions"]:
                    if not (row["description"].data or "").strip():
                        continue
                    kind = row["owner_kind"].data
                    if kind == "user" and row["owner_user_id"].data not in user_ids:
                        row["owner_user_id"].errors = [*row["owner_user_id"].errors, _("담당자를 골라 주세요.")]
                        ok = False
                    if kind == "agency" and row["owner_agency_id"].data not in agency_ids:
                        row["owner_agency_id"].errors = [*row["owner_agency_id"].errors, _("담당 기관을 골라 주세요.")]
                        ok = False
                    if row["due_on"].data is None and not row["due_on"].errors:
                        row["due_on"].errors = [*row["due_on"].errors, _("기한을 입력해 주세요.")]
                        ok = False
            return ok

        def decisions_data(self) -> dict:
            out = {}
            for case_id in case_ids:
                f = self.case_fields(case_id)
                actions = [{name: fld.data if name != "description" else (fld.data or "").strip()
                            for name, fld in row.items()} for row in f["actions"]]
                out[case_id] = {"decision": f["decision"].data, "note": f["note"].data or "",
                                "next_review_on": f["next_review_on"].data,
                                "actions": [a for a in actions if a["description"]]}
            return out

    for case_id in case_ids:
        p = case_prefix(case_id)
        _decision_fields(RecordForm, case_id)
        for n in range(1, ACTION_ROWS + 1):
            a = f"{p}_a{n}"
            setattr(RecordForm, f"{a}_description", StringField(
                _l("실행 과제 %(n)d", n=n), validators=[Optional(), Length(max=500, message=_l("내용이 너무 깁니다."))]))
            setattr(RecordForm, f"{a}_owner_kind", SelectField(
                _l("실행 과제 %(n)d 담당 구분", n=n), choices=list(ACTION_OWNER_KINDS.items()), default="user"))
            setattr(RecordForm, f"{a}_owner_user_id", SelectField(
                _l("실행 과제 %(n)d 담당자", n=n), choices=user_choices, coerce=optional_int, validate_choice=False))
            setattr(RecordForm, f"{a}_owner_agency_id", SelectField(
                _l("실행 과제 %(n)d 담당 기관", n=n), choices=agency_choices, coerce=optional_int, validate_choice=False))
            setattr(RecordForm, f"{a}_due_on", DateField(_l("실행 과제 %(n)d 기한", n=n), validators=[Optional()]))
    return RecordForm


def close_form_for(case, formdata=None):
    """The case page's close form (reason, outcome per need, one answer per close item) for one
    case of the record form, posted under the case's own prefix ("c12-close-reason")."""
    kwargs = {} if formdata is None else {"formdata": formdata}
    return close_form_class(case)(prefix=f"{case_prefix(case.id)}-close", meta={"csrf": False}, **kwargs)


def _decision_fields(cls, case_id: int) -> None:
    p = case_prefix(case_id)
    setattr(cls, f"{p}_decision", RadioField(
        _l("결정"), choices=list(DECISIONS.items()), validators=[InputRequired(_l("결정을 골라 주세요."))]))
    setattr(cls, f"{p}_note", TextAreaField(
        _l("결정 내용"), validators=[Optional(), Length(max=TEXT_MAX, message=_l("내용이 너무 깁니다."))],
        render_kw={"rows": 3}))
    setattr(cls, f"{p}_review", DateField(_l("다음 점검일"), validators=[Optional()]))


def amend_form_class(case_ids: list[int]):
    """An amendment form: the reason, the minutes and per case the decision, note and review date."""

    class AmendForm(BaseForm):
        reason = TextAreaField(_l("수정 사유"), validators=[DataRequired(_l("수정 사유를 입력해 주세요.")),
                                                    Length(max=REASON_MAX, message=_l("수정 사유가 너무 깁니다."))],
                               render_kw={"rows": 2})
        minutes = TextAreaField(_l("회의록"), validators=[DataRequired(_l("회의록을 입력해 주세요.")),
                                                     Length(max=TEXT_MAX, message=_l("회의록이 너무 깁니다."))],
                                render_kw={"rows": 8})

        def case_fields(self, case_id: int) -> dict:
            p = case_prefix(case_id)
            return {"decision": self[f"{p}_decision"], "note": self[f"{p}_note"], "next_review_on": self[f"{p}_review"]}

        def decisions_data(self) -> dict:
            return {case_id: {name: fld.data for name, fld in self.case_fields(case_id).items()}
                    for case_id in case_ids}

    for case_id in case_ids:
        _decision_fields(AmendForm, case_id)
    return AmendForm


class CancelForm(BaseForm):
    """Cancel a scheduled conference: the reason is required."""

    reason = TextAreaField(_l("취소 사유"), validators=[DataRequired(_l("취소 사유를 입력해 주세요.")),
                                                Length(max=REASON_MAX, message=_l("취소 사유가 너무 깁니다."))],
                           render_kw={"rows": 3})
