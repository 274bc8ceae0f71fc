"""Forms of the 열람·정정 screens: shape only (the services check the rules and say which field)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..form_fields import BaseForm, DateField
from ..students.forms import StudentForm
from .request_models import IDENTITY_METHODS, REQUEST_KINDS, REQUESTERS, STATUSES

TEXT = Length(max=2000, message=_l("2000자 이내로 입력해 주세요."))


def _choices(labels: dict) -> list:
    return list(labels.items())


class SubjectRequestForm(BaseForm):
    """Recording a request: what, who, when, how identity was checked."""

    kind = RadioField(_l("요청 종류"), choices=_choices(REQUEST_KINDS),
                      validators=[InputRequired(_l("요청 종류를 선택해 주세요."))])
    requested_by = RadioField(_l("요청한 사람"), choices=_choices(REQUESTERS),
                              validators=[InputRequired(_l("요청한 사람을 선택해 주세요."))])
    requested_on = DateField(_l("요청일"), validators=[InputRequired(_l("요청일을 입력해 주세요."))])
    identity_method = SelectField(_l("본인 확인 방법"), choices=[("", _l("선택해 주세요"))] + _choices(IDENTITY_METHODS),
                                  validators=[InputRequired(_l("본인 확인 방법을 선택해 주세요."))])
    identity_note = StringField(_l("본인 확인 메모"),
                                validators=[Optional(), Length(max=200, message=_l("200자 이내로 입력해 주세요."))],
                                description=_l("'기타'로 확인했다면 필수입니다. 신분증 번호는 적지 마세요."))
    correction_asked = TextAreaField(_l("정정을 요청한 내용"), validators=[Optional(), TEXT],
                                     description=_l("정정 요청일 때 필수입니다."))


class CorrectionForm(StudentForm):
    """The student's record, prefilled, as the lead corrects it for a 정정 request."""


class CompleteForm(BaseForm):
    """Answering a request as done, or partly done with the reason (shown with the prefix
    "complete", beside the refusal form on the same page)."""

    partly = BooleanField(_l("일부만 처리함"))
    reason = TextAreaField(_l("처리 내용·사유"), validators=[Optional(), TEXT],
                           description=_l("일부만 처리했다면 처리하지 않은 부분과 그 이유를 적어 주세요."))
    completed_on = DateField(_l("처리일"), validators=[InputRequired(_l("처리일을 입력해 주세요."))])


class RefuseForm(BaseForm):
    """Refusing a request, with the reason the family is told (prefix "refuse")."""

    reason = TextAreaField(_l("거절 사유"), validators=[InputRequired(_l("거절 사유를 입력해 주세요.")), TEXT])
    completed_on = DateField(_l("처리일"), validators=[InputRequired(_l("처리일을 입력해 주세요."))])


class RequestFilterForm(BaseForm):
    """The list's status filter (a query string: no personal data in it)."""

    class Meta:
        csrf = False

    status = SelectField(_l("상태"), choices=[("", _l("전체")), *STATUSES.items()], validators=[Optional()])
