"""The consent form (법 11③): parties, purposes, agencies for a referral, date, method, expiry.

Every choice is a list of checkboxes (no multi-select that needs Ctrl-clicks); ticking both
학생 and 보호자 records the two consents in one submission."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ...form_fields import BaseForm
from sqlalchemy import select
from wtforms import RadioField, SelectMultipleField, ValidationError
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ...auth.models import AGENCY_KIND_LABELS, Organisation
from ...db import today_kst
from ...extensions import db
from ..models import CONSENT_METHODS, CONSENT_PARTIES, CONSENT_PURPOSES
from ...form_fields import DateField

#: agency kinds offered even before any agency of that kind is in the directory (the stored value
#: stays the Korean kind, as the directory writes it; the label follows the reader's language)
COMMON_AGENCY_KINDS = ("청소년상담복지센터", "가족센터", "정신건강복지센터", "지역아동센터", "동주민센터",
                       "아동보호전문기관", "Wee센터", "드림스타트")


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (the ``field`` macro renders them in a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_formdata(self, valuelist):
        # an empty value (a hand-made post, a reset control) is no choice, not a wrong one
        super().process_formdata([value for value in valuelist if value != ""])

    def pre_validate(self, form):
        choices = {str(value) for value, *_ in self.iter_choices()}
        if any(str(value) not in choices for value in self.data or ()):
            raise ValidationError(_l("선택할 수 없는 항목이 있습니다."))


class ConsentForm(BaseForm):
    #: who consented: one or both (each becomes its own consent record, with the same purposes)
    party = MultiCheckboxField(_l("동의한 사람"), choices=list(CONSENT_PARTIES.items()))
    purposes = MultiCheckboxField(_l("동의 목적"), choices=list(CONSENT_PURPOSES.items()))
    agency_kinds = MultiCheckboxField(_l("의뢰에 동의한 기관 종류"), validators=[Optional()])
    agencies = MultiCheckboxField(_l("의뢰에 동의한 기관"), coerce=int, validators=[Optional()])
    given_on = DateField(_l("동의 날짜"), default=today_kst, validators=[InputRequired(_l("동의 날짜를 입력해 주세요."))])
    method = RadioField(_l("동의 방법"), choices=list(CONSENT_METHODS.items()), default="written",
                        validators=[InputRequired(_l("동의 방법을 선택해 주세요."))])
    expires_on = DateField(_l("만료일"), validators=[Optional()])

    def validate_party(self, field):
        # not InputRequired, as for the purposes below
        if not field.data:
            raise ValidationError(_l("동의한 사람을 선택해 주세요."))

    def validate_purposes(self, field):
        # not InputRequired: its HTML flag would make every single checkbox required
        if not field.data:
            raise ValidationError(_l("동의 목적을 하나 이상 선택해 주세요."))


def agency_kind_choices() -> list[tuple[str, str]]:
    """The common kinds, then every other kind found in the agency directory."""
    found = db.session.execute(select(Organisation.agency_kind).distinct()
                               .where(Organisation.kind == "agency", Organisation.agency_kind.is_not(None))).scalars()
    kinds = list(COMMON_AGENCY_KINDS) + sorted(set(found) - set(COMMON_AGENCY_KINDS))
    return [(kind, AGENCY_KIND_LABELS.get(kind, kind)) for kind in kinds]


def agency_choices(office_code: str | None) -> list[tuple[int, str]]:
    """Active agencies of the school's district office, by name."""
    rows = db.session.execute(select(Organisation.id, Organisation.name, Organisation.agency_kind)
                              .where(Organisation.kind == "agency", Organisation.active.is_(True),
                                     Organisation.office_code == office_code)
                              .order_by(Organisation.name)).all()
    kinds = {kind: str(AGENCY_KIND_LABELS.get(kind, kind)) for kind in {row.agency_kind for row in rows} if kind}
    # each kind's label translated once, not once per agency (~170 in a district office)
    return [(row.id, f"{row.name} ({kinds[row.agency_kind]})" if row.agency_kind else row.name) for row in rows]


def consent_form(case, formdata=None) -> ConsentForm:
    """The consent form with this case's agency choices filled in."""
    form = ConsentForm(formdata=formdata, prefix="consent")
    form.agency_kinds.choices = agency_kind_choices()
    form.agencies.choices = agency_choices(case.school.office_code)
    return form
