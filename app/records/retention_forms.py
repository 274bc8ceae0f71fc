"""The lead's retention forms: a legal hold (reason, end date) and the day a student left school."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..form_fields import BaseForm, DateField
from .retention_services import REASON_MAX


class LegalHoldForm(BaseForm):
    """보존 연장: why, and until when."""

    reason = TextAreaField(_l("보존 연장 사유"), validators=[InputRequired(_l("보존 연장 사유를 입력해 주세요.")),
                                                         Length(max=REASON_MAX, message=_l("사유가 너무 깁니다."))])
    ends_on = DateField(_l("연장 종료일"), validators=[InputRequired(_l("연장 종료일을 입력해 주세요."))])


class LeftSchoolForm(BaseForm):
    """학업 중단·자퇴·제적일 (empty: the student is in school again)."""

    left_school_on = DateField(_l("학업 중단일"), validators=[Optional()])
