"""The three vetting steps' forms (shape checks, every missing field at once, Korean messages next
to each field); vetting.py decides the rules.  The checks form has one row of fields per record
check kind, named ``<kind>_<field>`` (sex_offence_consent_on …)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..form_fields import BaseForm
from wtforms import IntegerField, RadioField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from .models import CHECK_KINDS
from .vetting import CheckEntry, pending_check, valid_check
from ..form_fields import DateField

DATE_MESSAGE = _l("날짜를 2026-12-08처럼 입력하거나 달력에서 골라 주세요.")
RESULT_CHOICES = [("pending", _l("아직 결과 없음 (조회 중)")), ("clear", _l("이상 없음")), ("not_clear", _l("결격 사유 있음"))]
FIELDS = ("consent_on", "requested_on", "result", "checked_on", "reference")


class ChecksForm(BaseForm):
    """Step 1: both record checks, each with consent, request and result dates and the 회보서 번호."""

    def entries(self) -> dict[str, CheckEntry]:
        return {kind: CheckEntry(consent_on=self[f"{kind}_consent_on"].data,
                                 requested_on=self[f"{kind}_requested_on"].data,
                                 result=self[f"{kind}_result"].data or "pending",
                                 checked_on=self[f"{kind}_checked_on"].data,
                                 reference=(self[f"{kind}_reference"].data or "").strip())
                for kind in CHECK_KINDS}

    def check_required(self, guardian) -> bool:
        """Every missing field of every kind at once (the service checks again): a kind without a
        pending check needs its consent and request dates unless it is left empty while in date;
        a result needs its date and number."""
        ok = True

        def need(name, message):
            nonlocal ok
            field = self[name]
            if field.data in (None, "") and not field.errors:
                field.errors = [*field.errors, message]
                ok = False
        for kind, entry in self.entries().items():
            pending = pending_check(guardian, kind)
            if pending is None and not (entry.empty and valid_check(guardian, kind) is not None):
                need(f"{kind}_consent_on", _l("본인 동의일을 입력해 주세요."))
                need(f"{kind}_requested_on", _l("조회 요청일을 입력해 주세요."))
            if entry.result != "pending":
                need(f"{kind}_checked_on", _l("결과를 받은 조회일을 입력해 주세요."))
                need(f"{kind}_reference", _l("회보서 번호를 입력해 주세요."))
        return ok


for _kind in CHECK_KINDS:
    setattr(ChecksForm, f"{_kind}_consent_on", DateField(_l("본인 동의일"), validators=[Optional()]))
    setattr(ChecksForm, f"{_kind}_requested_on", DateField(_l("조회 요청일"), validators=[Optional()]))
    setattr(ChecksForm, f"{_kind}_result", RadioField(_l("조회 결과"), choices=RESULT_CHOICES, default="pending",
                                                     validators=[Optional()]))
    setattr(ChecksForm, f"{_kind}_checked_on", DateField(_l("조회일 (결과 회보일)"), validators=[Optional()]))
    setattr(ChecksForm, f"{_kind}_reference", StringField(
        _l("회보서 번호"), validators=[Optional(), Length(max=100, message=_l("%(n)d자 이내로 입력해 주세요.", n=100))],
        render_kw={"autocomplete": "off", "maxlength": 100}))


def checks_form(guardian, formdata=None) -> ChecksForm:
    """The checks form; a pending check of a kind shows its dates (only its result is asked)."""
    form = ChecksForm(formdata=formdata) if formdata is not None else ChecksForm(formdata=None)
    for kind in CHECK_KINDS:
        pending = pending_check(guardian, kind)
        if pending is not None and formdata is None:
            form[f"{kind}_consent_on"].data, form[f"{kind}_requested_on"].data = pending.consent_on, pending.requested_on
    return form


def korean_errors(form) -> None:
    """WTForms' own English parse errors ("Not a valid date value.", "Not a valid integer value.")
    become Korean messages that say what to do."""
    for field in form:
        if field.errors and field.type in ("DateField", "IntegerField"):
            better = DATE_MESSAGE if field.type == "DateField" else _l("숫자로 입력해 주세요.")
            if field.data is None and field.raw_data and field.raw_data[0]:  # typed, but not parsed
                field.errors = [better]


class TrainingForm(BaseForm):
    """Step 2: the basic training hours completed so far."""

    training_hours = IntegerField(_l("기본 교육 이수 시간"), validators=[
        InputRequired(_l("이수 시간을 숫자로 입력해 주세요.")),
        NumberRange(min=0, max=1000, message=_l("이수 시간은 0에서 1000 사이로 입력해 주세요."))],
        render_kw={"min": 0, "max": 1000, "inputmode": "numeric"})


class ActivateForm(BaseForm):
    """Step 3: start serving, with an optional note the guardian sees."""

    note = StringField(_l("메모 (후견인에게 보임, 학생 정보 없이)"),
                       validators=[Optional(), Length(max=200, message=_l("%(n)d자 이내로 입력해 주세요.", n=200))],
                       render_kw={"maxlength": 200})
