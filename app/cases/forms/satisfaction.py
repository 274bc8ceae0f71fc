"""The satisfaction survey of a closed case (만족도 조사): shape checks; the service enforces the rules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ...form_fields import BaseForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..satisfaction import COMMENT_MAX, SATISFACTION_PARTIES, SCORES
from ...form_fields import DateField

PREFIX = "sat"


class SatisfactionForm(BaseForm):
    # validate_choice=False: a value off the list gets the service's message, not WTForms' English one
    party = RadioField(_l("응답자"), choices=list(SATISFACTION_PARTIES.items()), validate_choice=False,
                       validators=[InputRequired(_l("응답자를 학생 또는 보호자 중에서 골라 주세요."))])
    score = RadioField(_l("만족도"), choices=[(str(k), _l("%(n)d점 %(label)s", n=k, label=v)) for k, v in SCORES.items()], validate_choice=False,
                       validators=[InputRequired(_l("만족도를 1점부터 5점 사이에서 골라 주세요."))])
    surveyed_on = DateField(_l("조사일"), validators=[InputRequired(_l("조사일을 입력해 주세요."))])
    comment = TextAreaField(_l("의견 (선택)"), validators=[Optional(), Length(
        max=COMMENT_MAX, message=_l("의견은 %(n)s자 이내로 입력해 주세요.", n=f"{COMMENT_MAX:,}"))], render_kw={"rows": 3})
