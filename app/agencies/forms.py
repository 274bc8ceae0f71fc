"""Directory forms: shape checks only (marked messages); services enforce the rules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..form_fields import BaseForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..cases.forms.consent import MultiCheckboxField
from ..cases.models import DOMAINS
from ..csv_import import CsvUploadForm, csv_file_field
from .models import AGENCY_KIND_LABELS, CAPACITY_STATUSES
from ..pagination import bounded_id
from ..form_fields import DateField

REQUIRED = _l("값을 입력해 주세요.")
UP_TO_200 = Length(max=200, message=_l("200자 이내로 입력해 주세요."))
AGE = [Optional(), NumberRange(0, 24, _l("나이는 0~24세 사이여야 합니다."))]


def _int_or_none(value):
    return bounded_id(value)  # a number past any id reads as "none chosen", never an SQL overflow


class DirectoryFilterForm(BaseForm):
    """Directory search and filters, sent by GET."""

    class Meta:
        csrf = False

    q = StringField(_l("기관·서비스명"), validators=[Optional(), Length(max=100)])
    kind = SelectField(_l("기관 유형"), choices=[("", _l("전체")), *AGENCY_KIND_LABELS.items()], validators=[Optional()])
    domain = SelectField(_l("지원 영역"), choices=[("", _l("전체")), *DOMAINS.items()], validators=[Optional()])
    gu = SelectField(_l("서비스 지역"), coerce=_int_or_none, choices=[], validate_choice=False, validators=[Optional()])
    capacity = SelectField(_l("접수 상태"), choices=[("", _l("전체")), *CAPACITY_STATUSES.items()], validators=[Optional()])


class AgencyForm(BaseForm):
    """기관 등록: name, kind, 자치구 (of the coordinator's office)."""

    name = StringField(_l("기관명"), validators=[InputRequired(REQUIRED), UP_TO_200])
    agency_kind = SelectField(_l("기관 유형"), choices=[("", _l("선택해 주세요")), *AGENCY_KIND_LABELS.items()],
                              validators=[InputRequired(_l("기관 유형을 선택해 주세요."))])
    gu_id = SelectField(_l("자치구"), coerce=_int_or_none, choices=[], validate_choice=False,
                        validators=[InputRequired(_l("자치구를 선택해 주세요."))])


class AgencyEditForm(AgencyForm):
    """기관 정보 수정: as AgencyForm; ``active`` only for the district office (the view drops it otherwise)."""

    active = BooleanField(_l("운영 중 (유관기관 목록과 의뢰 대상에 보입니다)"))


class ServiceForm(BaseForm):
    """서비스 등록·수정: HSDS service fields that fit."""

    name = StringField(_l("서비스명"), validators=[InputRequired(REQUIRED), UP_TO_200])
    description = TextAreaField(_l("설명"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 3})
    domains = MultiCheckboxField(_l("지원 영역"), choices=list(DOMAINS.items()))
    min_age = IntegerField(_l("대상 최소 나이(만)"), validators=AGE, render_kw={"inputmode": "numeric"})
    max_age = IntegerField(_l("대상 최대 나이(만)"), validators=AGE, render_kw={"inputmode": "numeric"})
    languages = StringField(_l("지원 언어"), validators=[Optional(), Length(max=300)],
                            render_kw={"placeholder": _l("예: 한국어, 베트남어, 중국어")})
    capacity_status = SelectField(_l("접수 상태"), choices=list(CAPACITY_STATUSES.items()), default="available")
    areas = MultiCheckboxField(_l("서비스 지역(자치구)"), coerce=int, choices=[])
    schedule = StringField(_l("운영 시간"), validators=[Optional(), Length(max=200)],
                           render_kw={"placeholder": _l("예: 평일 09:00-18:00")})
    contact_phone = StringField(_l("전화"), validators=[Optional(), Length(max=40)], render_kw={"inputmode": "tel"})
    contact_email = StringField(_l("이메일"), validators=[Optional(), Length(max=120)])
    address = StringField(_l("주소"), validators=[Optional(), Length(max=200)])
    last_confirmed_on = DateField(_l("최종 확인일"), validators=[Optional()])

    FIELDS = ("name", "description", "domains", "min_age", "max_age", "capacity_status", "areas", "schedule",
              "contact_phone", "contact_email", "address", "last_confirmed_on")

    def to_fields(self) -> dict:
        """The service's field dict."""
        data = {name: getattr(self, name).data for name in self.FIELDS}
        data["languages"] = [x.strip() for x in (self.languages.data or "").split(",") if x.strip()]
        return data

    def fill(self, service) -> None:
        """Show a service's current values (GET of the edit page)."""
        for name in self.FIELDS:
            getattr(self, name).data = getattr(service, name) if name != "areas" else [a.gu_id for a in service.areas]
        self.languages.data = ", ".join(service.languages or [])


class ImportUploadForm(CsvUploadForm):
    file = csv_file_field(_l("유관기관 목록 CSV 파일"))


class ButtonForm(BaseForm):
    """Just a button: the CSRF token is its only field."""
