"""Admin forms: shape checks only; the rules live in services.py and organisations.py."""
from flask_babel import gettext, lazy_gettext as _l
from flask_babel.speaklater import LazyString
from ..form_fields import BaseForm
from wtforms import BooleanField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..agencies.models import AGENCY_KIND_LABELS
from ..permissions import ROLES
from .services import ASSIGNABLE_ROLES, REASON_MAX


def _role_label(role: str) -> LazyString:
    """A role's label (permissions.ROLES, marked there) in the reader's language."""
    return LazyString(gettext, ROLES[role][0])


ROLE_CHOICES = [(role, _role_label(role)) for role in ASSIGNABLE_ROLES]
#: auth.models.SCHOOL_LEVELS in the reader's language
SCHOOL_LEVEL_LABELS = {"elementary": _l("초"), "middle": _l("중"), "high": _l("고"), "special": _l("특수")}
STATUS_CHOICES = [("", _l("전체")), ("active", _l("사용 중")), ("inactive", _l("비활성"))]
ORG_KIND_CHOICES = [("", _l("전체")), ("school", _l("학교")), ("agency", _l("유관기관")), ("district_office", _l("교육지원청")),
                    ("city_office", _l("서울특별시교육청"))]
ORG_HINT = _l("기관 목록의 기관 코드 (교육청: SEN, 교육지원청: 예 SEOBU)")


class _QueryForm(BaseForm):
    """A GET form read from the query string: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False


class UserFilterForm(_QueryForm):
    q = StringField(_l("아이디"), validators=[Optional(), Length(max=64)])
    role = SelectField(_l("역할"), choices=[("", _l("전체")), *((r, _role_label(r)) for r in ROLES)],
                       default="", validators=[Optional()])
    org = StringField(_l("기관 (코드 또는 이름 일부)"), validators=[Optional(), Length(max=200)])
    status = SelectField(_l("상태"), choices=STATUS_CHOICES, default="", validators=[Optional()])
    locked = BooleanField(_l("잠긴 계정만"))


def _reason(label: str = _l("사유"), required: bool = True):
    validators = [DataRequired(_l("사유를 입력해 주세요. 권한 변경 이력에 남습니다."))] if required else [Optional()]
    return TextAreaField(label, validators=[*validators, Length(max=REASON_MAX)], render_kw={"rows": 2})


class UserCreateForm(BaseForm):
    once = False  # a generated password is shown by the answer itself; a second account is refused by its login
    login = StringField(_l("아이디"), validators=[DataRequired(_l("아이디를 입력해 주세요.")), Length(max=64)],
                        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
    display_name = StringField(_l("이름"), validators=[DataRequired(_l("이름을 입력해 주세요.")), Length(max=100)])
    role = SelectField(_l("역할"), choices=ROLE_CHOICES, validators=[InputRequired(_l("역할을 골라 주세요."))])
    organisation = StringField(_l("소속 기관 코드"), validators=[Optional(), Length(max=32)])
    password_mode = RadioField(_l("첫 비밀번호"), choices=[("generate", _l("임시 비밀번호를 만들어 한 번 보여 주기")),
                                                  ("typed", _l("직접 입력하기"))], default="generate")
    password = PasswordField(_l("임시 비밀번호"), validators=[Optional(), Length(max=200)],
                             render_kw={"autocomplete": "new-password"})

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Optional() ends the password's own checks when it is blank, so the pair is checked here
        if self.password_mode.data == "typed" and not self.password.data:
            self.password.errors = [*self.password.errors, _l("직접 입력을 골랐다면 임시 비밀번호를 입력해 주세요.")]
            return False
        return ok


class GrantForm(BaseForm):
    """Role and organisation together: a move between kinds changes both at once."""

    role = SelectField(_l("역할"), choices=ROLE_CHOICES, validators=[InputRequired(_l("역할을 골라 주세요."))])
    organisation = StringField(_l("소속 기관 코드"), validators=[Optional(), Length(max=32)])
    reason = _reason(_l("변경 사유"))


class ReasonForm(BaseForm):
    reason = _reason()


class PasswordResetForm(ReasonForm):
    once = False  # the new password is shown by the answer itself, never replayed away


class OptionalReasonForm(BaseForm):
    reason = _reason(_l("사유 (선택)"), required=False)


class OrganisationFilterForm(_QueryForm):
    q = StringField(_l("기관명 또는 코드"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("종류"), choices=ORG_KIND_CHOICES, default="", validators=[Optional()])
    gu = SelectField(_l("자치구"), choices=[("", _l("전체"))], default="", validators=[Optional()])
    status = SelectField(_l("상태"), choices=[("", _l("전체")), ("active", _l("운영 중")), ("inactive", _l("비활성"))], default="",
                         validators=[Optional()])


class SchoolForm(BaseForm):
    code = StringField(_l("학교 코드 (NEIS)"), validators=[DataRequired(_l("학교 코드를 입력해 주세요.")), Length(max=32)],
                       render_kw={"autocapitalize": "characters", "spellcheck": "false"})
    name = StringField(_l("학교명"), validators=[DataRequired(_l("학교명을 입력해 주세요.")), Length(max=200)])
    school_level = SelectField(_l("학교급"), choices=[("", _l("선택해 주세요")), *SCHOOL_LEVEL_LABELS.items()],
                               validators=[DataRequired(_l("학교급을 골라 주세요."))])
    gu_id = SelectField(_l("자치구"), choices=[("", _l("선택해 주세요"))], validators=[DataRequired(_l("자치구를 골라 주세요."))])


class AgencyForm(BaseForm):
    code = StringField(_l("기관 코드"), validators=[Optional(), Length(max=32)],
                       render_kw={"autocapitalize": "characters", "spellcheck": "false"})
    name = StringField(_l("기관명"), validators=[DataRequired(_l("기관명을 입력해 주세요.")), Length(max=200)])
    agency_kind = SelectField(_l("기관 유형"), choices=[("", _l("선택해 주세요")), *AGENCY_KIND_LABELS.items()],
                              validators=[DataRequired(_l("기관 유형을 골라 주세요."))])
    gu_id = SelectField(_l("자치구"), choices=[("", _l("선택해 주세요"))], validators=[DataRequired(_l("자치구를 골라 주세요."))])


class ButtonForm(BaseForm):
    """A CSRF-protected POST with no fields (organisation deactivate / reactivate)."""
