"""Forms of the assignment screens and the concern page: shape checks only, Korean messages;
the services enforce the rules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..form_fields import BaseForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from ..cases.models import NOTE_KINDS
from .assignments import END_NOTE_MAX
from .concerns import TEXT_MAX
from .models import CLOSE_REASONS, SUSPEND_REASONS

#: where a coordinator's action on an assignment returns to
BACK_TO = ("assignment", "guardian", "case")


def _at_most(n: int) -> Length:
    return Length(max=n, message=_l("%(n)d자 이내로 적어 주세요.", n=n))


class _BackForm(BaseForm):
    back = HiddenField(default="assignment", validators=[Optional(), AnyOf(BACK_TO)])


class SuspendForm(_BackForm):
    """활동 일시 중지: a coded reason (the consent lapse is the system's, not a choice here)."""

    reason = SelectField(_l("중지 사유"), choices=[("", _l("선택해 주세요")), *(
        (code, label) for code, label in SUSPEND_REASONS.items() if code != "consent_withdrawn")],
        validators=[InputRequired(_l("중지 사유를 선택해 주세요."))])


class ReactivateForm(_BackForm):
    """활동 재개: just a button (and where to go back to)."""


class EndForm(_BackForm):
    """배정 종료: a closure code and whether this guardian may be matched with the student again."""

    reason = SelectField(_l("종료 사유"), choices=[("", _l("선택해 주세요")), *(
        (code, label) for code, label in CLOSE_REASONS.items() if code not in ("case_closed", "consent_withdrawn"))],
        validators=[InputRequired(_l("종료 사유를 선택해 주세요."))])
    rematchable = BooleanField(_l("다시 연계 가능 (이 학생과 다시 매칭할 수 있음)"), default=True)
    #: the assignment's status when the page was shown (app/locking.py)
    seen = HiddenField(validators=[Optional()])


class EndRequestForm(BaseForm):
    """The guardian asks to end an assignment, saying why (encrypted; only the coordinators read it)."""

    note = TextAreaField(_l("종료 요청 사유"), validators=[
        InputRequired(_l("종료를 요청하는 사유를 적어 주세요.")),
        Length(max=END_NOTE_MAX, message=_l("사유는 %(n)d자 이내로 적어 주세요.", n=END_NOTE_MAX))], render_kw={"rows": 3})


class AcknowledgeForm(BaseForm):
    """우려 확인: the response taken (required), optionally a new plan action and a case note."""

    response = TextAreaField(_l("취한 조치"), validators=[
        InputRequired(_l("취한 조치를 적어 주세요.")), _at_most(TEXT_MAX)],
        render_kw={"rows": 4})
    goal = StringField(_l("새 지원 계획: 목표"), validators=[Optional(), _at_most(200)])
    action = StringField(_l("새 지원 계획: 실행 내용"), validators=[Optional(), _at_most(500)])
    note_kind = SelectField(_l("사례 기록 종류"), choices=list(NOTE_KINDS.items()), default="counselling",
                            validators=[Optional()])
    note = TextAreaField(_l("사례 기록"), validators=[Optional(), _at_most(TEXT_MAX)],
                         render_kw={"rows": 3})
