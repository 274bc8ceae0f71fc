"""Login form: shape checks only; the rules live in services."""
from flask_babel import lazy_gettext as _l
from ..form_fields import BaseForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(BaseForm):
    once = False  # signing in changes nothing that a repeat could duplicate
    login = StringField(_l("아이디"), validators=[DataRequired(_l("아이디를 입력해 주세요.")), Length(max=64)],
                        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField(_l("비밀번호"), validators=[DataRequired(_l("비밀번호를 입력해 주세요.")), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class EmptyForm(BaseForm):
    """A CSRF-protected POST with no fields (logout, language switch)."""


class PasswordChangeForm(BaseForm):
    """The user's own password change: the current one, then the new one twice."""

    current = PasswordField(_l("지금 비밀번호"), validators=[DataRequired(_l("지금 쓰는 비밀번호를 입력해 주세요.")), Length(max=200)],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("새 비밀번호"), validators=[DataRequired(_l("새 비밀번호를 입력해 주세요.")), Length(max=200)],
                        render_kw={"autocomplete": "new-password"},
                        description=_l("10자 이상. 서로 관계없는 단어 서너 개에 숫자나 기호를 섞으면 기억하기 쉽고 안전합니다."))
    confirm = PasswordField(_l("새 비밀번호 확인"), validators=[DataRequired(_l("새 비밀번호를 한 번 더 입력해 주세요.")),
                                                      EqualTo("new", _l("새 비밀번호가 서로 다릅니다."))],
                            render_kw={"autocomplete": "new-password"})


class SignInCodeForm(BaseForm):
    """The second sign-in step: a code from the authenticator app, or one recovery code."""

    once = False  # a used code is refused anyway; signing in duplicates nothing

    code = StringField(_l("인증 코드"), validators=[DataRequired(_l("인증 코드를 입력해 주세요.")), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters",
                                  "spellcheck": "false"},
                       description=_l("인증 앱에 표시된 6자리 숫자를 입력하세요. 휴대전화를 쓸 수 없으면 복구 코드 "
                                   "(예: ABCDE-FGHJK) 하나를 입력하세요."))


class TotpCodeForm(BaseForm):
    """A current 6-digit code from the app (enrolment, new recovery codes, turning 2FA off)."""

    once = False  # recovery codes are shown by the answer itself; a used code is refused anyway

    code = StringField(_l("인증 코드"), validators=[DataRequired(_l("인증 앱에 표시된 6자리 숫자를 입력해 주세요.")),
                                            Length(max=16)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"},
                       description=_l("인증 앱에 표시된 6자리 숫자"))
