"""Forms of the assignment screens and the concern page: shape checks only, Korean messages;
the services enforce the rules."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from ..cases.models import NOTE_KINDS
from .assignments import END_NOTE_MAX
from .concerns import TEXT_MAX
from .models import CLOSE_REASONS, SUSPEND_REASONS

#: where a coordinator's action on an assignment returns to
BACK_TO = ("assignment", "guardian", "case")


class _BackForm(FlaskForm):
    back = HiddenField(default="assignment", validators=[Optional(), AnyOf(BACK_TO)])


class SuspendForm(_BackForm):
    """활동 일시 중지: a coded reason (the consent lapse is the system's, not a choice here)."""

    reason = SelectField("중지 사유", choices=[("", "선택해 주세요"), *(
        (code, label) for code, label in SUSPEND_REASONS.items() if code != "consent_withdrawn")],
        validators=[InputRequired("중지 사유를 선택해 주세요.")])


class ReactivateForm(_BackForm):
    """활동 재개: just a button (and where to go back to)."""


class EndForm(_BackForm):
    """배정 종료: a closure code and whether this guardian may be matched with the student again."""

    reason = SelectField("종료 사유", choices=[("", "선택해 주세요"), *(
        (code, label) for code, label in CLOSE_REASONS.items() if code not in ("case_closed", "consent_withdrawn"))],
        validators=[InputRequired("종료 사유를 선택해 주세요.")])
    rematchable = BooleanField("다시 연계 가능 (이 학생과 다시 매칭할 수 있음)", default=True)


class EndRequestForm(FlaskForm):
    """The guardian asks to end an assignment, saying why (encrypted; only the coordinators read it)."""

    note = TextAreaField("종료 요청 사유", validators=[
        InputRequired("종료를 요청하는 사유를 적어 주세요."),
        Length(max=END_NOTE_MAX, message=f"사유는 {END_NOTE_MAX}자 이내로 적어 주세요.")], render_kw={"rows": 3})


class AcknowledgeForm(FlaskForm):
    """우려 확인: the response taken (required), optionally a new plan action and a case note."""

    response = TextAreaField("취한 조치", validators=[
        InputRequired("취한 조치를 적어 주세요."), Length(max=TEXT_MAX, message=f"{TEXT_MAX}자 이내로 적어 주세요.")],
        render_kw={"rows": 4})
    goal = StringField("새 지원 계획: 목표", validators=[Optional(), Length(max=200, message="200자 이내로 적어 주세요.")])
    action = StringField("새 지원 계획: 실행 내용", validators=[Optional(), Length(max=500, message="500자 이내로 적어 주세요.")])
    note_kind = SelectField("사례 기록 종류", choices=list(NOTE_KINDS.items()), default="counselling",
                            validators=[Optional()])
    note = TextAreaField("사례 기록", validators=[Optional(), Length(max=TEXT_MAX, message=f"{TEXT_MAX}자 이내로 적어 주세요.")],
                         render_kw={"rows": 3})
