"""Referral forms of the school side: shape checks only; referrals.py enforces the rules."""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext as _l
from ..form_fields import BaseForm
from sqlalchemy import select
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..auth.models import Organisation
from ..cases.forms.actions import optional_int
from ..cases.forms.consent import MultiCheckboxField
from ..extensions import db
from .models import OVERRIDE_CATEGORIES, SHAREABLE_ITEMS, AgencyService

TEXT_MAX = 2000


def _text(label: str, message: str | None, rows: int = 3) -> TextAreaField:
    validators = [DataRequired(message)] if message else [Optional()]
    return TextAreaField(label, validators=[*validators, Length(max=TEXT_MAX, message=_l("내용이 너무 깁니다."))],
                         render_kw={"rows": rows})


#: the category goes to the audit trail; the written reason stays encrypted in the referral
OVERRIDE_CHOICES = [("", _l("선택하지 않음 (동의 있음)")), *OVERRIDE_CATEGORIES.items()]


class ReferralForm(BaseForm):
    """Agency, service, reason, the items to share, and a lead's optional override reason."""

    agency = SelectField(_l("의뢰할 기관"), coerce=optional_int, validators=[InputRequired(_l("의뢰할 기관을 선택해 주세요."))])
    service = SelectField(_l("서비스"), coerce=optional_int, validators=[Optional()])
    reason = _text(_l("의뢰 사유"), _l("의뢰 사유를 입력해 주세요."), rows=4)
    shared_items = MultiCheckboxField(_l("기관에 보낼 정보"), choices=list(SHAREABLE_ITEMS.items()),
                                      validators=[DataRequired(_l("기관에 보낼 정보를 하나 이상 선택해 주세요."))])
    override_category = SelectField(_l("동의 없이 보내는 사유의 종류 (긴급)"), choices=OVERRIDE_CHOICES,
                                    validators=[Optional()], validate_choice=False)  # the service says it in Korean
    override_reason = _text(_l("동의 없이 보내는 사유 (긴급)"), None)


class SendForm(BaseForm):
    """Send a draft; a school lead may give an override category and reason."""

    override_category = SelectField(_l("동의 없이 보내는 사유의 종류 (긴급)"), choices=OVERRIDE_CHOICES,
                                    validators=[Optional()], validate_choice=False)  # the service says it in Korean
    override_reason = _text(_l("동의 없이 보내는 사유 (긴급)"), None)


class CancelForm(BaseForm):
    reason = _text(_l("취소 사유"), _l("취소 사유를 입력해 주세요."), rows=2)


def office_agencies(office_code: str, extra: Organisation | None = None) -> list[Organisation]:
    """Active agencies of the district office (plus ``extra``, e.g. one chosen in the directory)."""
    agencies = list(db.session.execute(select(Organisation).where(
        Organisation.kind == "agency", Organisation.active.is_(True), Organisation.office_code == office_code)
        .order_by(Organisation.name)).scalars())
    if extra is not None and extra.kind == "agency" and extra.active and extra not in agencies:
        agencies.insert(0, extra)
    return agencies


def agency_choice(agency: Organisation, coverage=None) -> tuple:
    """One option of the agency select: an agency the consent does not cover says so in its
    label (only a school lead's emergency override can send to it) and carries data-covered."""
    if coverage is None:
        return agency.id, agency.name
    if coverage.covers(agency):
        return agency.id, agency.name, {"data-covered": "yes"}
    return agency.id, gettext("%(name)s (동의 범위 밖)", name=agency.name), {"data-covered": "no"}


def referral_form(agencies: list[Organisation], formdata=None, coverage=None, **data) -> ReferralForm:
    """A ReferralForm offering ``agencies`` (marked by ``coverage``, a ReferralCoverage) and their services."""
    form = ReferralForm(formdata=formdata, **data) if formdata is not None else ReferralForm(formdata=None, **data)
    form.agency.choices = [("", gettext("선택해 주세요")), *[agency_choice(a, coverage) for a in agencies]]
    by_id = {a.id: a for a in agencies}
    services = db.session.execute(select(AgencyService).where(AgencyService.organisation_id.in_(list(by_id)))
                                  .order_by(AgencyService.organisation_id, AgencyService.name)).scalars() if by_id else []
    form.service.choices = [("", _l("선택 안 함")),
                            *[(s.id, f"{by_id[s.organisation_id].name} — {s.name}") for s in services]]
    return form
