"""Forms of the guardian portal: shape checks only, Korean messages; services enforce the rules."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from .models import ACTIVITY_KINDS


class ActivityForm(FlaskForm):
    occurred_on = DateField("활동 날짜", validators=[InputRequired("활동 날짜를 입력해 주세요.")])
    minutes = IntegerField("활동 시간(분)", validators=[InputRequired("활동 시간을 분 단위 숫자로 입력해 주세요.")],
                           render_kw={"min": 1, "max": 600, "inputmode": "numeric"})
    kind = SelectField("활동 유형", choices=[("", "선택해 주세요"), *ACTIVITY_KINDS.items()],
                       validators=[InputRequired("활동 유형을 선택해 주세요.")])
    notes = TextAreaField("활동 내용", validators=[Optional(), Length(max=2000, message="활동 내용이 너무 깁니다.")],
                          render_kw={"rows": 4})
    concern = BooleanField("우려 사항이 있습니다 (학교 지원팀과 교육지원청에 바로 알립니다)")
    concern_description = TextAreaField("우려 내용", validators=[
        Optional(), Length(max=2000, message="우려 내용은 2000자 이내로 적어 주세요.")], render_kw={"rows": 3})


class AcceptForm(FlaskForm):
    """Just a button: the CSRF token is its only field."""


class DeclineForm(FlaskForm):
    reason = TextAreaField("거절 사유", validators=[DataRequired("거절 사유를 입력해 주세요."), Length(max=300)],
                           render_kw={"rows": 2})
