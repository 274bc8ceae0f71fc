"""Roster and vetting forms: shape checks only (Korean messages); the rules are the service's."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..form_fields import BaseForm
from wtforms import IntegerField, PasswordField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ..cases.forms.consent import MultiCheckboxField
from ..cases.models import DOMAINS
from .models import CHECK_KINDS, CHECK_RESULTS, GENDERS, GUARDIAN_STATUSES, SLOTS
from ..pagination import bounded_id
from ..form_fields import DateField

REQUIRED = _l("필수 입력 항목입니다.")
DATE_MESSAGE = _l("날짜를 2026-12-08처럼 입력하거나 달력에서 골라 주세요.")


def _at_most(n: int) -> Length:
    return Length(max=n, message=_l("%(n)d자 이내로 입력해 주세요.", n=n))


def _int_or_none(value):
    return bounded_id(value)  # a number past any id reads as "none chosen", never an SQL overflow


class GuardianForm(BaseForm):
    """교육후견인 등록·수정: personal data (encrypted), place, skills, availability, load."""

    name = StringField(_l("이름"), validators=[InputRequired(REQUIRED), _at_most(50)])
    phone = StringField(_l("연락처"), validators=[InputRequired(REQUIRED), _at_most(20)],
                        render_kw={"inputmode": "tel", "autocomplete": "off"})
    address = StringField(_l("주소"), validators=[Optional(), _at_most(200)],
                          render_kw={"autocomplete": "off"})
    birth_date = DateField(_l("생년월일"), validators=[InputRequired(DATE_MESSAGE)])
    gu_id = SelectField(_l("자치구"), coerce=_int_or_none, choices=[], validate_choice=False,
                        validators=[InputRequired(_l("자치구를 선택해 주세요."))])
    dong = StringField(_l("행정동"), validators=[Optional(), _at_most(40)])
    gender = SelectField(_l("성별"), choices=[("", _l("선택 안 함")), *GENDERS.items()], validators=[Optional()])
    languages = StringField(_l("한국어 외 사용 언어"), validators=[Optional(), _at_most(200)],
                            render_kw={"placeholder": _l("예: 베트남어, 중국어")})
    experience = MultiCheckboxField(_l("경험 영역"), choices=list(DOMAINS.items()))
    availability = MultiCheckboxField(_l("활동 가능 시간"), choices=list(SLOTS.items()))
    capacity = IntegerField(_l("담당 가능 학생 수"), default=2, validators=[InputRequired(_l("1~4 사이 숫자를 입력해 주세요."))],
                            render_kw={"min": 1, "max": 4, "inputmode": "numeric"})
    training_hours = IntegerField(_l("기본 교육 이수 시간"), default=0, validators=[InputRequired(_l("숫자를 입력해 주세요."))],
                                  render_kw={"min": 0, "inputmode": "numeric"})
    conflict_school_ids = SelectMultipleField(_l("이해충돌 학교 (근무·재학)"), coerce=int, choices=[], validate_choice=False)

    def to_fields(self) -> dict:
        """The service's field dict."""
        data = {name: getattr(self, name).data for name in (
            "name", "phone", "address", "birth_date", "gu_id", "dong", "gender", "experience", "availability",
            "capacity", "training_hours", "conflict_school_ids")}
        data["languages"] = [x.strip() for x in (self.languages.data or "").replace("·", ",").split(",") if x.strip()]
        return data

    def fill(self, guardian) -> None:
        """Show a guardian's current values (GET of the edit page)."""
        for name in ("name", "phone", "address", "birth_date", "gu_id", "dong", "gender", "experience",
                     "availability", "capacity", "training_hours"):
            getattr(self, name).data = getattr(guardian, name)
        self.gender.data = guardian.gender or ""
        self.languages.data = ", ".join(guardian.languages or [])
        self.conflict_school_ids.data = [c.school_id for c in guardian.conflicts]


class RosterFilterForm(BaseForm):
    """Roster filters, sent by GET."""

    class Meta:
        csrf = False

    status = SelectField(_l("상태"), choices=[("", _l("전체")), *GUARDIAN_STATUSES.items()], validators=[Optional()])


class StatusForm(BaseForm):
    """상태 변경: the next lifecycle step, with an optional note."""

    status = SelectField(_l("변경할 상태"), choices=[], validate_choice=False,
                         validators=[InputRequired(_l("상태를 선택해 주세요."))])
    note = StringField(_l("사유 (후견인에게 보임, 학생 정보 없이)"), validators=[Optional(), _at_most(200)])


class CheckRequestForm(BaseForm):
    """범죄경력 조회 요청: kind, consent date, request date."""

    kind = RadioField(_l("조회 종류"), choices=list(CHECK_KINDS.items()), validators=[InputRequired(_l("조회 종류를 선택해 주세요."))])
    consent_on = DateField(_l("본인 동의일"), validators=[InputRequired(DATE_MESSAGE)])
    requested_on = DateField(_l("조회 요청일"), validators=[InputRequired(DATE_MESSAGE)])


class CheckResultForm(BaseForm):
    """조회 결과: result, checked on, reference number (encrypted)."""

    result = RadioField(_l("조회 결과"), choices=[(k, v) for k, v in CHECK_RESULTS.items() if k != "pending"],
                        validators=[InputRequired(_l("조회 결과를 선택해 주세요."))])
    checked_on = DateField(_l("조회일"), validators=[InputRequired(DATE_MESSAGE)])
    reference = StringField(_l("회보서 번호"), validators=[InputRequired(REQUIRED), _at_most(100)],
                            render_kw={"autocomplete": "off"})


class LoginForm(BaseForm):
    """후견인 계정 만들기."""

    login = StringField(_l("아이디"), validators=[InputRequired(REQUIRED), _at_most(64)],
                        render_kw={"autocomplete": "off"})
    password = PasswordField(_l("초기 비밀번호"), validators=[InputRequired(REQUIRED)],
                             render_kw={"autocomplete": "new-password"})
