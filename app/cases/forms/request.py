"""The one-screen support request and the case-list filters: shape checks only, translatable messages.

The rules (who may ask, which domains exist, a description per need) are the service's; the
form repeats the simple ones so the teacher sees every message next to its field at once.
"""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext as _l
from ...form_fields import BaseForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..models import DOMAINS, REQUESTERS, RISK_LEVELS, STATUSES
from ...form_fields import DateField

STUDENT_MODES = [("existing", _l("등록된 학생에서 선택")), ("new", _l("새 학생 등록"))]
#: the new-student fields, by the name create_student and its errors use
NEW_STUDENT_FIELDS = {"new_name": "name", "new_birth_date": "birth_date", "new_grade": "grade",
                      "new_class_no": "class_no", "new_number": "number"}


def desc_field(domain: str) -> str:
    """The name of the short-description input of a need domain."""
    return f"desc_{domain}"


class RequestForm(BaseForm):
    """지원 요청: the student (picked or new), who asked, the needs, the risk level, a summary."""

    student_mode = RadioField(_l("학생"), choices=STUDENT_MODES, default="existing",
                              validators=[InputRequired(_l("학생을 고르는 방법을 선택해 주세요."))])
    #: a student uid; the view loads it through the scope check (404 when not the school's)
    student = SelectField(_l("등록된 학생"), choices=[], validate_choice=False)
    new_name = StringField(_l("학생 이름"), validators=[Optional(), Length(max=50, message=_l("이름은 50자 이내로 입력해 주세요."))],
                           render_kw={"autocomplete": "off"})
    new_birth_date = DateField(_l("생년월일"), validators=[Optional()])
    new_grade = IntegerField(_l("학년"), validators=[Optional()], render_kw={"min": 1, "max": 12, "inputmode": "numeric"})
    new_class_no = IntegerField(_l("반"), validators=[Optional()], render_kw={"min": 1, "max": 30, "inputmode": "numeric"})
    new_number = IntegerField(_l("번호"), validators=[Optional()], render_kw={"min": 1, "max": 99, "inputmode": "numeric"})
    confirm_duplicate = BooleanField(_l("같은 이름의 다른 학생입니다"))
    #: the student has an open case: add this request's needs to it instead of a second case
    add_to_open_case = BooleanField(_l("진행 중인 사례에 이 요청의 지원 영역을 더합니다"))

    requested_by = RadioField(_l("요청한 사람"), choices=list(REQUESTERS.items()), default="staff",
                              validators=[InputRequired(_l("요청한 사람을 선택해 주세요."))])
    needs = SelectMultipleField(_l("지원이 필요한 영역"), choices=list(DOMAINS.items()), validate_choice=False)
    risk_level = RadioField(_l("위기 수준"), choices=[(k, label) for k, (label, _rank) in RISK_LEVELS.items()][::-1],
                            default="general", validators=[InputRequired(_l("위기 수준을 선택해 주세요."))])
    summary = TextAreaField(_l("요청 내용"), validators=[Optional(), Length(max=2000, message=_l("2,000자 이내로 입력해 주세요."))],
                            render_kw={"rows": 4, "placeholder": _l("예: 3월부터 지각과 결석이 잦고, 보호자와 연락이 잘 닿지 않음")})

    def validate_student(self, field):
        if self.student_mode.data == "existing" and not field.data:
            field.errors.append(gettext("지원할 학생을 선택해 주세요."))

    def validate_needs(self, field):
        field.data = list(dict.fromkeys(field.data or []))
        if any(d not in DOMAINS for d in field.data):
            field.errors.append(gettext("알 수 없는 지원 영역입니다."))
        elif not field.data:
            field.errors.append(gettext("지원이 필요한 영역을 하나 이상 선택해 주세요."))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.student_mode.data == "new":
            for name, message in (("new_name", _l("학생 이름을 입력해 주세요.")), ("new_birth_date", _l("생년월일을 입력해 주세요.")),
                                  ("new_grade", _l("학년을 입력해 주세요.")), ("new_class_no", _l("반을 입력해 주세요.")),
                                  ("new_number", _l("번호를 입력해 주세요."))):
                field = self[name]
                if field.data in (None, "") and not field.errors:
                    field.errors.append(message)
                    ok = False
        checked = set(self.needs.data or [])
        for domain, label in DOMAINS.items():
            field = self[desc_field(domain)]
            text = (field.data or "").strip()
            if domain in checked and not text:
                field.errors.append(gettext("%(label)s 영역의 내용을 간단히 적어 주세요.", label=label))
                ok = False
            elif text and domain not in checked:
                field.errors.append(gettext("%(label)s 영역을 선택하거나 적은 내용을 지워 주세요.", label=label))
                ok = False
        return ok

    def new_student_fields(self) -> dict:
        """The inline student's fields, as create_student takes them."""
        return {key: self[name].data for name, key in NEW_STUDENT_FIELDS.items()}

    def need_list(self) -> list[tuple[str, str]]:
        """(domain, description) for each checked domain, in the order of DOMAINS."""
        checked = set(self.needs.data or [])
        return [(d, self[desc_field(d)].data.strip()) for d in DOMAINS if d in checked]


for _domain, _label in DOMAINS.items():
    setattr(RequestForm, desc_field(_domain),
            StringField(_l("%(label)s 영역 내용", label=_label), validators=[Optional(), Length(max=200, message=_l("200자 이내로 간단히 적어 주세요."))]))


class CaseFilterForm(BaseForm):
    """The filters above the case list, read from the query string (nothing changes: no CSRF)."""

    class Meta:
        csrf = False

    status = SelectField(_l("상태"), choices=[("", _l("전체")), ("open", _l("진행 중 전체")), *STATUSES.items()], default="")
    domain = SelectField(_l("지원 영역"), choices=[("", _l("전체")), *DOMAINS.items()], default="")
    risk = SelectField(_l("위기 수준"), choices=[("", _l("전체")), *((k, label) for k, (label, _r) in RISK_LEVELS.items())], default="")
    overdue = BooleanField(_l("기한 지난 계획"))
    consent_missing = BooleanField(_l("동의 미비"))
    q = StringField(_l("학생 이름 또는 개인번호"), validators=[Optional(), Length(max=50, message=_l("50자 이내로 입력해 주세요."))])

    #: the query-string keys a page link keeps
    KEYS = ("status", "domain", "risk", "overdue", "consent_missing", "q")

    def active(self) -> dict:
        """The filters in use, as query-string arguments for page links."""
        values = {"status": self.status.data, "domain": self.domain.data, "risk": self.risk.data,
                  "overdue": "y" if self.overdue.data else "", "consent_missing": "y" if self.consent_missing.data else "",
                  "q": (self.q.data or "").strip()}
        return {k: v for k, v in values.items() if v}
