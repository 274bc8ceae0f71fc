"""Forms that change a case: shape checks only, translatable messages; services enforce the rules.

Many of these forms share one page, so each has a prefix (its fields are posted as
``<prefix>-<name>``) and no two controls on the case page share an id.
"""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext as _l
from ...form_fields import BaseForm
from sqlalchemy import select
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ...auth.models import User
from ...extensions import db
from ...permissions import SCHOOL_ROLES
from ...lifecycle import close_items
from ...words import particle
from ..models import ACTION_STATUSES, CLOSE_REASONS, DOMAINS, NEED_OUTCOMES, NOTE_KINDS, RISK_LEVELS, SETTABLE_ACTION_STATUSES
from ...form_fields import DateField

TEXT_MAX = 2000
#: the prefix each form is posted with; the case page and the POST views agree on these
PREFIXES = {"transition": "tr", "select": "sel", "not_select": "nsel", "close": "close", "reopen": "reopen",
            "consent": "consent", "withdraw": "wd", "plan": "plan", "plan_status": "ps", "note": "note",
            "escalate": "esc", "reply": "reply", "withdraw_request": "wr", "need": "need",
            "resolve_need": "rn", "risk": "risk"}


def optional_int(value):
    """Coerce a select value to an int, with '' (nothing chosen) as None."""
    if value in (None, "", "None"):
        return None
    return int(value)


def _text(label: str, message: str, rows: int = 3, required: bool = True) -> TextAreaField:
    validators = [DataRequired(message)] if required else [Optional()]
    return TextAreaField(label, validators=[*validators, Length(max=TEXT_MAX, message=_l("내용이 너무 깁니다."))],
                         render_kw={"rows": rows})


def _date(label: str, message: str) -> DateField:
    return DateField(label, validators=[InputRequired(message)])


class ButtonForm(BaseForm):
    """A form that is just a button: the CSRF token is its only field (transitions, withdrawal)."""


class SelectForm(BaseForm):
    meeting_on = _date(_l("협의 날짜"), _l("협의 날짜를 입력해 주세요."))
    members = StringField(_l("참석자"), validators=[DataRequired(_l("협의에 참석한 사람을 입력해 주세요.")), Length(max=500)],
                          render_kw={"placeholder": _l("예: 교감, 담임, 상담교사")})
    basic_academic_result = _text(_l("기초학력 진단 결과"), "", rows=2, required=False)
    teacher_opinions = _text(_l("담임·교과 교사 의견"), "", rows=3, required=False)
    parent_counselling = _text(_l("보호자 상담 결과"), "", rows=2, required=False)


class NotSelectForm(BaseForm):
    meeting_on = _date(_l("협의 날짜"), _l("협의 날짜를 입력해 주세요."))
    members = StringField(_l("참석자"), validators=[DataRequired(_l("협의에 참석한 사람을 입력해 주세요.")), Length(max=500)])
    reason = _text(_l("미선정 사유"), _l("미선정 사유를 입력해 주세요."))


class CloseForm(BaseForm):
    """The reason; ``close_form_class`` adds an outcome and a note per open need of the case and
    one field per question the other features ask (app.lifecycle.close_items)."""

    reason = SelectField(_l("종결 사유"), choices=[("", _l("선택해 주세요")), *CLOSE_REASONS.items()],
                         validators=[InputRequired(_l("종결 사유를 선택해 주세요."))])
    #: carries the service's "outcome per need" error next to the outcome fields
    outcomes = StringField(_l("영역별 결과"), validators=[Optional()])
    #: the CloseItems the dependent features asked about (set by close_form_class)
    close_items: tuple = ()

    def need_fields(self, need):
        return getattr(self, f"outcome_{need.id}"), getattr(self, f"note_{need.id}")

    def item_fields(self):
        return [(item, getattr(self, item.key)) for item in self.close_items]


def close_form_class(case) -> type[CloseForm]:
    """A CloseForm for ``case``: outcome and note per need still open, and one field per
    dependent object (assignment closure code, referral cancel reason …)."""
    class CaseCloseForm(CloseForm):
        pass
    for need in case.needs:
        if need.resolved_on is not None:
            continue
        label = DOMAINS.get(need.domain, need.domain)
        setattr(CaseCloseForm, f"outcome_{need.id}", SelectField(
            gettext("%(label)s 결과", label=label), choices=[("", _l("선택해 주세요")), *NEED_OUTCOMES.items()],
            validators=[InputRequired(gettext("%(label)s 영역의 결과를 선택해 주세요.", label=label))]))
        setattr(CaseCloseForm, f"note_{need.id}", TextAreaField(
            gettext("%(label)s 결과 메모", label=label), validators=[Optional(), Length(max=TEXT_MAX, message=_l("내용이 너무 깁니다."))],
            render_kw={"rows": 2}))
    items = tuple(close_items(case))
    for item in items:
        if item.kind == "choice":
            validators = [InputRequired(gettext("%(label)s%(eul)s 선택해 주세요.", label=item.label,
                                                           eul=particle(str(item.label), "을/를")))] if item.required else [Optional()]
            setattr(CaseCloseForm, item.key, SelectField(item.label, choices=[("", _l("선택해 주세요")), *item.options],
                                                         validators=validators, description=item.hint))
        else:
            setattr(CaseCloseForm, item.key, TextAreaField(
                item.label, validators=[Optional(), Length(max=TEXT_MAX, message=_l("내용이 너무 깁니다."))],
                render_kw={"rows": 2}, description=item.hint))
    CaseCloseForm.close_items = items
    return CaseCloseForm


def close_outcomes(form: CloseForm, case) -> dict:
    """{need id: (outcome, note)} from a submitted close form."""
    return {need.id: tuple(f.data for f in form.need_fields(need)) for need in case.needs if need.resolved_on is None}


def close_choices(form: CloseForm, case=None) -> dict[str, str]:
    """The answers about dependent objects, keyed as the CloseItems (for ``case_closed``)."""
    return {item.key: (field.data or "").strip() for item, field in form.item_fields()}


class WithdrawRequestForm(BaseForm):
    reason = _text(_l("철회 사유"), _l("철회 사유를 입력해 주세요."), rows=2)


class NeedForm(BaseForm):
    domain = SelectField(_l("지원 영역"), choices=[("", _l("선택해 주세요")), *DOMAINS.items()],
                         validators=[InputRequired(_l("지원 영역을 선택해 주세요."))])
    description = StringField(_l("내용"), validators=[DataRequired(_l("내용을 간단히 적어 주세요.")),
                                                 Length(max=200, message=_l("200자 이내로 간단히 적어 주세요."))])


class ResolveNeedForm(BaseForm):
    outcome = SelectField(_l("결과"), choices=[("", _l("선택해 주세요")), *NEED_OUTCOMES.items()],
                          validators=[InputRequired(_l("결과를 선택해 주세요."))])
    note = _text(_l("결과 메모"), "", rows=2, required=False)


class RiskForm(BaseForm):
    risk_level = RadioField(_l("위기 수준"), choices=[(k, label) for k, (label, _rank) in RISK_LEVELS.items()][::-1],
                            validators=[InputRequired(_l("위기 수준을 선택해 주세요."))])
    reason = _text(_l("바꾸는 이유"), _l("바꾸는 이유를 입력해 주세요."), rows=2)


class ReopenForm(BaseForm):
    reason = _text(_l("재개 사유"), _l("재개 사유를 입력해 주세요."))


class PlanActionForm(BaseForm):
    need_id = SelectField(_l("지원 영역"), coerce=optional_int, validators=[Optional()])
    goal = StringField(_l("목표"), validators=[DataRequired(_l("목표를 입력해 주세요.")), Length(max=300)])
    action = _text(_l("실행 내용"), _l("실행 내용을 입력해 주세요."), rows=2)
    owner_id = SelectField(_l("담당자"), coerce=optional_int, validators=[Optional()])
    due_on = DateField(_l("기한"), validators=[Optional()])
    shared_with_guardian = BooleanField(_l("교육후견인과 이 목표를 공유"))


class PlanStatusForm(BaseForm):
    """Rendered as one button per status (``name=ps-status``), not as a select."""

    #: "done", or "done@open": the new status and the one the page showed (see plan_status_parts)
    status = SelectField(_l("상태"), choices=[(k, k) for k in SETTABLE_ACTION_STATUSES] + [
        (f"{k}@{seen}", k) for k in SETTABLE_ACTION_STATUSES for seen in ACTION_STATUSES if seen != k],
        validators=[InputRequired(_l("상태를 선택해 주세요."))])

    def parts(self) -> tuple[str, str | None]:
        """(new status, status the page showed or None)."""
        code, _sep, seen = (self.status.data or "").partition("@")
        return code, seen or None


class NoteForm(BaseForm):
    kind = RadioField(_l("기록 종류"), choices=list(NOTE_KINDS.items()), default="counselling",
                      validators=[InputRequired(_l("기록 종류를 선택해 주세요."))])
    body = _text(_l("내용"), _l("내용을 입력해 주세요."), rows=4)


class EscalateForm(BaseForm):
    reason = _text(_l("요청 사유"), _l("요청 사유를 입력해 주세요."))


class ReplyForm(BaseForm):
    reply = _text(_l("회신 내용"), _l("회신 내용을 입력해 주세요."), rows=4)


def plan_action_form(case, formdata=None, owner_id=None) -> PlanActionForm:
    """The plan form with this case's needs and its school's team members as choices."""
    form = PlanActionForm(formdata=formdata, prefix=PREFIXES["plan"], owner_id=owner_id)
    form.need_id.choices = [("", _l("영역 없음(사례 전체)"))] + [(n.id, n.domain_label) for n in case.needs]
    staff = db.session.execute(select(User).where(User.organisation_id == case.school_id, User.active.is_(True),
                                                  User.role.in_(SCHOOL_ROLES))).scalars()
    people = sorted((u.display_name or u.login, u.id) for u in staff)
    form.owner_id.choices = [("", _l("담당자 없음"))] + [(uid, name) for name, uid in people]
    return form
