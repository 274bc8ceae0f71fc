"""Admin forms: shape checks only; the rules live in services.py and organisations.py."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..agencies.models import AGENCY_KINDS
from ..auth.models import SCHOOL_LEVELS
from ..permissions import ROLES
from .services import ASSIGNABLE_ROLES, REASON_MAX

ROLE_CHOICES = [(role, ROLES[role][0]) for role in ASSIGNABLE_ROLES]
STATUS_CHOICES = [("", "전체"), ("active", "사용 중"), ("inactive", "비활성")]
ORG_KIND_CHOICES = [("", "전체"), ("school", "학교"), ("agency", "유관기관"), ("district_office", "교육지원청"),
                    ("city_office", "서울특별시교육청")]
ORG_HINT = "기관 목록의 기관 코드 (교육청: SEN, 교육지원청: 예 SEOBU)"


class _QueryForm(FlaskForm):
    """A GET form read from the query string: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False


class UserFilterForm(_QueryForm):
    q = StringField("아이디", validators=[Optional(), Length(max=64)])
    role = SelectField("역할", choices=[("", "전체"), *((r, label) for r, (label, _k) in ROLES.items())],
                       default="", validators=[Optional()])
    org = StringField("기관 (코드 또는 이름 일부)", validators=[Optional(), Length(max=200)])
    status = SelectField("상태", choices=STATUS_CHOICES, default="", validators=[Optional()])
    locked = BooleanField("잠긴 계정만")


def _reason(label: str = "사유", required: bool = True):
    validators = [DataRequired("사유를 입력해 주세요. 권한 변경 이력에 남습니다.")] if required else [Optional()]
    return TextAreaField(label, validators=[*validators, Length(max=REASON_MAX)], render_kw={"rows": 2})


class UserCreateForm(FlaskForm):
    login = StringField("아이디", validators=[DataRequired("아이디를 입력해 주세요."), Length(max=64)],
                        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
    display_name = StringField("이름", validators=[DataRequired("이름을 입력해 주세요."), Length(max=100)])
    role = SelectField("역할", choices=ROLE_CHOICES, validators=[InputRequired("역할을 골라 주세요.")])
    organisation = StringField("소속 기관 코드", validators=[Optional(), Length(max=32)])
    password_mode = RadioField("첫 비밀번호", choices=[("generate", "임시 비밀번호를 만들어 한 번 보여 주기"),
                                                  ("typed", "직접 입력하기")], default="generate")
    password = PasswordField("임시 비밀번호", validators=[Optional(), Length(max=200)],
                             render_kw={"autocomplete": "new-password"})

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Optional() ends the password's own checks when it is blank, so the pair is checked here
        if self.password_mode.data == "typed" and not self.password.data:
            self.password.errors = [*self.password.errors, "직접 입력을 골랐다면 임시 비밀번호를 입력해 주세요."]
            return False
        return ok


class GrantForm(FlaskForm):
    """Role and organisation together: a move between kinds changes both at once."""

    role = SelectField("역할", choices=ROLE_CHOICES, validators=[InputRequired("역할을 골라 주세요.")])
    organisation = StringField("소속 기관 코드", validators=[Optional(), Length(max=32)])
    reason = _reason("변경 사유")


class ReasonForm(FlaskForm):
    reason = _reason()


class OptionalReasonForm(FlaskForm):
    reason = _reason("사유 (선택)", required=False)


class OrganisationFilterForm(_QueryForm):
    q = StringField("기관명 또는 코드", validators=[Optional(), Length(max=200)])
    kind = SelectField("종류", choices=ORG_KIND_CHOICES, default="", validators=[Optional()])
    gu = SelectField("자치구", choices=[("", "전체")], default="", validators=[Optional()])
    status = SelectField("상태", choices=[("", "전체"), ("active", "운영 중"), ("inactive", "비활성")], default="",
                         validators=[Optional()])


class SchoolForm(FlaskForm):
    code = StringField("학교 코드 (NEIS)", validators=[DataRequired("학교 코드를 입력해 주세요."), Length(max=32)],
                       render_kw={"autocapitalize": "characters", "spellcheck": "false"})
    name = StringField("학교명", validators=[DataRequired("학교명을 입력해 주세요."), Length(max=200)])
    school_level = SelectField("학교급", choices=[("", "선택해 주세요"), *SCHOOL_LEVELS.items()],
                               validators=[DataRequired("학교급을 골라 주세요.")])
    gu_id = SelectField("자치구", choices=[("", "선택해 주세요")], validators=[DataRequired("자치구를 골라 주세요.")])


class AgencyForm(FlaskForm):
    code = StringField("기관 코드", validators=[Optional(), Length(max=32)],
                       render_kw={"autocapitalize": "characters", "spellcheck": "false"})
    name = StringField("기관명", validators=[DataRequired("기관명을 입력해 주세요."), Length(max=200)])
    agency_kind = SelectField("기관 유형", choices=[("", "선택해 주세요"), *((k, k) for k in AGENCY_KINDS)],
                              validators=[DataRequired("기관 유형을 골라 주세요.")])
    gu_id = SelectField("자치구", choices=[("", "선택해 주세요")], validators=[DataRequired("자치구를 골라 주세요.")])


class ButtonForm(FlaskForm):
    """A CSRF-protected POST with no fields (organisation deactivate / reactivate)."""
