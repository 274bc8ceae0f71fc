"""Transfer forms: shape checks only; transfer_services.py enforces the rules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..form_fields import BaseForm

TEXT_MAX = 1000


class SendForm(BaseForm):
    """The destination (one of the search's schools, by uid), a note and how to reach the lead."""

    q = HiddenField()
    to_school = RadioField(_l("전학 갈 학교"), choices=[], validate_choice=False,
                           validators=[DataRequired(_l("전학 갈 학교를 골라 주세요."))])
    note = TextAreaField(_l("새 학교에 전할 말 (선택)"), render_kw={"rows": 3},
                         validators=[Optional(), Length(max=TEXT_MAX, message=_l("내용이 너무 깁니다."))])
    contact = StringField(_l("연락처 (선택: 전화·이메일)"),
                          validators=[Optional(), Length(max=200, message=_l("내용이 너무 깁니다."))])


class AcceptForm(BaseForm):
    """A receipt: the lead confirms the student is enrolled here (an empty post accepts nothing)."""

    confirm = BooleanField(_l("이 학생이 우리 학교에 전입했음을 확인합니다."),
                           validators=[DataRequired(_l("전입을 확인해 주세요."))])


class ReturnForm(BaseForm):
    reason = TextAreaField(_l("반송 사유"), render_kw={"rows": 2},
                           validators=[DataRequired(_l("반송 사유를 입력해 주세요.")),
                                       Length(max=TEXT_MAX, message=_l("내용이 너무 깁니다."))])


class CancelForm(BaseForm):
    confirm = BooleanField(_l("이 전학 이관을 취소합니다."), validators=[DataRequired(_l("취소를 확인해 주세요."))])
