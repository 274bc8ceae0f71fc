"""Forms of the guardian portal: shape checks only, Korean messages; services enforce the rules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..form_fields import BaseForm
from wtforms import BooleanField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from .models import ACTIVITY_KINDS
from ..form_fields import DateField


class ActivityForm(BaseForm):
    occurred_on = DateField(_l("활동 날짜"), validators=[InputRequired(_l("활동 날짜를 입력해 주세요."))])
    minutes = IntegerField(_l("활동 시간(분)"), validators=[InputRequired(_l("활동 시간을 분 단위 숫자로 입력해 주세요."))],
                           render_kw={"min": 1, "max": 600, "inputmode": "numeric"})
    kind = SelectField(_l("활동 유형"), choices=[("", _l("선택해 주세요")), *ACTIVITY_KINDS.items()],
                       validators=[InputRequired(_l("활동 유형을 선택해 주세요."))])
    notes = TextAreaField(_l("활동 내용"), validators=[Optional(), Length(max=2000, message=_l("활동 내용이 너무 깁니다."))],
                          render_kw={"rows": 4})
    concern = BooleanField(_l("우려 사항이 있습니다 (학교 지원팀과 교육지원청에 바로 알립니다)"))
    concern_description = TextAreaField(_l("우려 내용"), validators=[
        Optional(), Length(max=2000, message=_l("우려 내용은 2000자 이내로 적어 주세요."))], render_kw={"rows": 3})


class AcceptForm(BaseForm):
    """Just a button: the CSRF token is its only field."""


class DeclineForm(BaseForm):
    reason = TextAreaField(_l("거절 사유"), validators=[DataRequired(_l("거절 사유를 입력해 주세요.")),
                                                   Length(max=300, message=_l("거절 사유는 300자 이내로 입력해 주세요."))],
                           render_kw={"rows": 2})
