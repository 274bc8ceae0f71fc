"""Forms of 알림 받는 방법: shape checks only; the rules live in mail_outbox.py."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, InputRequired, NumberRange, ValidationError

from ..form_fields import BaseForm
from .mail_models import MAIL_MODES
from .mail_outbox import MODE_LABELS, default_mode, is_locked, modes_for
from .services import KINDS

#: RFC 5321's longest path
ADDRESS_MAX = 254
#: one address, no display name, no spaces or line breaks (a header can never be split by it): a
#: local part, "@", and a domain of at least two dot-separated labels (letters, digits, hyphens;
#: internationalised domains typed in Hangul pass as they are)
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
                      r"(?=.{1,253}$)(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})$")


def email_address(form, field) -> None:
    """WTForms validator: the shape of one e-mail address (whether it exists is what the link
    sent to it proves)."""
    value = (field.data or "").strip()
    if len(value) > ADDRESS_MAX:
        raise ValidationError(_l("메일 주소가 너무 깁니다. %(max)d자까지 입력할 수 있습니다.", max=ADDRESS_MAX))
    if not _ADDRESS.match(value) or ".." in value or value.split("@")[0].startswith(".") \
            or value.split("@")[0].endswith("."):
        raise ValidationError(_l("메일 주소 형식이 올바르지 않습니다. 예: hong@sen.go.kr"))


class AddressForm(BaseForm):
    """A new address: it waits for its link to be opened before alerts go to it."""

    address = StringField(_l("메일 주소"), filters=[lambda v: v.strip() if isinstance(v, str) else v],
                          validators=[DataRequired(_l("메일 주소를 입력해 주세요.")), email_address],
                          render_kw={"autocomplete": "email", "inputmode": "email", "spellcheck": "false",
                                     "autocapitalize": "none", "maxlength": ADDRESS_MAX},
                          description=_l("입력한 주소로 확인 링크를 보냅니다. 링크를 열어야 알림 메일을 받기 시작합니다."))


class RemoveAddressForm(BaseForm):
    """메일 받지 않기: a CSRF-protected POST with no fields."""


HOUR_CHOICES = [(hour, _l("%(hour)d시", hour=hour)) for hour in range(24)]
MODE_CHOICES = [(mode, MODE_LABELS[mode]) for mode in MAIL_MODES]
HOUR_MESSAGE = _l("0시부터 23시 사이에서 골라 주세요.")
MODE_MESSAGE = _l("받는 방법을 목록에서 골라 주세요.")


class ChoicesForm(BaseForm):
    """The digest hour and, made per user by ``choices_form``, one ``mode_<kind>`` select per
    alert kind the user may change (a locked kind has no field: a crafted value is never read)."""

    digest_hour = SelectField(_l("모아 받는 시각 (한국 시간)"), choices=HOUR_CHOICES, coerce=int, validate_choice=False,
                              validators=[InputRequired(HOUR_MESSAGE), NumberRange(0, 23, HOUR_MESSAGE)],
                              description=_l("'하루 한 번 모아서'로 고른 알림을 매일 이 시각에 한 통으로 보냅니다."))

    def mode_fields(self):
        """(kind, its select) for every kind with a field, in KINDS order."""
        return [(kind, self[f"mode_{kind}"]) for kind in KINDS if f"mode_{kind}" in self]

    def modes(self) -> dict[str, str]:
        return {kind: field.data for kind, field in self.mode_fields()}


def choices_form(user, digest_hour: int, **kwargs) -> ChoicesForm:
    """The choices form of ``user``, its selects starting at their current modes."""
    class UserChoicesForm(ChoicesForm):
        pass

    chosen = modes_for(user)
    for kind, label in KINDS.items():
        if not is_locked(user, kind):
            setattr(UserChoicesForm, f"mode_{kind}",
                    SelectField(label, choices=MODE_CHOICES, default=chosen.get(kind, default_mode(kind)),
                                validate_choice=False,
                                validators=[InputRequired(MODE_MESSAGE), AnyOf(MAIL_MODES, MODE_MESSAGE)]))
    return UserChoicesForm(digest_hour=digest_hour, **kwargs)
