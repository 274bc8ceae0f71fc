"""Forms of the agency coordinator's inbox: shape checks only, Korean messages; services enforce rules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..form_fields import BaseForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from .models import DECLINE_REASONS, REFERRAL_STATUSES, SERVICE_KINDS
from ..form_fields import DateField


class AcceptForm(BaseForm):
    """Just a button: the CSRF token is its only field."""


class DeclineForm(BaseForm):
    reason_code = SelectField(_l("거절 사유"), choices=[("", _l("선택해 주세요")), *DECLINE_REASONS.items()],
                              validators=[InputRequired(_l("거절 사유를 선택해 주세요."))])
    comment = TextAreaField(_l("설명"), validators=[Optional(), Length(max=1000, message=_l("설명이 너무 깁니다."))],
                            render_kw={"rows": 3})


class ServiceRecordForm(BaseForm):
    occurred_on = DateField(_l("제공 날짜"), validators=[InputRequired(_l("제공 날짜를 입력해 주세요."))])
    kind = SelectField(_l("서비스 유형"), choices=[("", _l("선택해 주세요")), *SERVICE_KINDS.items()],
                       validators=[InputRequired(_l("서비스 유형을 선택해 주세요."))])
    note = TextAreaField(_l("내용"), validators=[DataRequired(_l("제공한 서비스 내용을 입력해 주세요.")),
                                           Length(max=2000, message=_l("내용이 너무 깁니다."))], render_kw={"rows": 4})


class OutcomeForm(BaseForm):
    outcome_note = TextAreaField(_l("최종 결과"), validators=[DataRequired(_l("최종 결과를 입력해 주세요.")),
                                                      Length(max=2000, message=_l("최종 결과가 너무 깁니다."))],
                                 render_kw={"rows": 4})


class InboxFilterForm(BaseForm):
    """The inbox's status filter (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    status = SelectField(_l("상태"), choices=[("", _l("전체")),
                                           *((k, v) for k, v in REFERRAL_STATUSES.items() if k != "draft")],
                         validators=[Optional()])
