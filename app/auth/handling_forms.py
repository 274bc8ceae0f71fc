"""Handling approval and training forms: shape checks only; the rules live in auth/handling.py.
Each form has its own prefix so the three can sit on one page (the guardian's, the admin's)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..form_fields import BaseForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..form_fields import DateField

REASON_MAX = 500


class ApproveForm(BaseForm):
    """취급승인: an optional note (e.g. the 서약서 received)."""

    reason = StringField(_l("메모"), validators=[Optional(), Length(max=REASON_MAX, message=_l("500자 이내로 입력해 주세요."))],
                         description=_l("예: 보안 서약서 제출 확인"))


class WithdrawForm(BaseForm):
    """취급승인 철회: the reason is required (a grant change)."""

    reason = TextAreaField(_l("철회 사유"), validators=[InputRequired(_l("철회 사유를 입력해 주세요.")),
                                                Length(max=REASON_MAX, message=_l("500자 이내로 입력해 주세요."))])


class TrainingForm(BaseForm):
    """The date of the account's latest yearly 개인정보 training."""

    trained_on = DateField(_l("교육 이수일"), validators=[InputRequired(_l("교육 이수일을 입력해 주세요."))])
    reason = StringField(_l("메모"), validators=[Optional(), Length(max=REASON_MAX, message=_l("500자 이내로 입력해 주세요."))],
                         description=_l("예: 2026년 개인정보 보호 교육(온라인)"))


class HandlingFilterForm(BaseForm):
    """The admin's list: which accounts to show."""

    class Meta:
        csrf = False

    state = SelectField(_l("상태"), choices=[("attention", _l("조치 필요")), ("not_approved", _l("승인 전")),
                                         ("training", _l("교육 기록 없음·만료")), ("expiring", _l("교육 만료 예정")),
                                         ("all", _l("전체"))], default="attention", validators=[Optional()])


def handling_forms(given: dict | None = None) -> dict:
    """Blank approve, withdraw and training forms; ``given`` replaces one (a form with errors)."""
    from ..db import today_kst
    given = given or {}
    return {"approve": given.get("approve") or ApproveForm(formdata=None, prefix="ha"),
            "withdraw": given.get("withdraw") or WithdrawForm(formdata=None, prefix="hw"),
            "training": given.get("training") or TrainingForm(formdata=None, prefix="ht", trained_on=today_kst())}


#: form key -> its class and prefix (the routes build the submitted form from these)
FORMS = {"approve": (ApproveForm, "ha"), "withdraw": (WithdrawForm, "hw"), "training": (TrainingForm, "ht")}
