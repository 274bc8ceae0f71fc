"""Auditor forms: shape checks only; the rules live in review.py, access_review.py and export.py."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

MONTH_PATTERN = r"^\d{4}-\d{2}$"
MONTH_MESSAGE = "달을 YYYY-MM 형식(예: 2026-03)으로 입력해 주세요."
OUTCOMES = [("", "전체"), ("allowed", "허용"), ("denied", "거부")]
FORMATS = [("sqlite", "SQLite (감사용 단독 파일)"), ("csv", "CSV"), ("xlsx", "XLSX (엑셀)")]


class _QueryForm(FlaskForm):
    """A GET form read from the query string: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False


class AuditSearchForm(_QueryForm):
    start = DateField("시작일", validators=[Optional()])
    end = DateField("종료일", validators=[Optional()])
    actor = StringField("사용자 아이디", validators=[Optional(), Length(max=64)])
    action = StringField("동작", validators=[Optional(), Length(max=64)],
                         render_kw={"placeholder": "예: login, permission_denied"})
    subject = StringField("정보주체 참조번호", validators=[Optional(), Length(max=64)])
    outcome = SelectField("결과", choices=OUTCOMES, default="", validators=[Optional()])

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            field.errors.append("종료일은 시작일과 같거나 그 뒤여야 합니다.")


class ReviewMonthForm(_QueryForm):
    month = StringField("점검할 달", validators=[Optional(), Regexp(MONTH_PATTERN, message=MONTH_MESSAGE)],
                        render_kw={"type": "month", "placeholder": "YYYY-MM"})
    attention = BooleanField("점검이 필요한 사용자만 보기")


class MarkReviewForm(FlaskForm):
    month = StringField("점검 대상 달", render_kw={"readonly": True},
                        validators=[DataRequired(MONTH_MESSAGE), Regexp(MONTH_PATTERN, message=MONTH_MESSAGE)])
    comment = TextAreaField("점검 의견", validators=[DataRequired("점검 의견을 입력해 주세요."), Length(max=2000)],
                            render_kw={"rows": 4})


class ExportForm(FlaskForm):
    # InputRequired keeps the "not a valid date" message for text that is not a date
    start = DateField("시작일", validators=[InputRequired("시작일을 입력해 주세요.")])
    end = DateField("종료일", validators=[InputRequired("종료일을 입력해 주세요.")])
    fmt = SelectField("파일 형식", choices=FORMATS, default="sqlite")
    reason = TextAreaField("내보내는 사유", validators=[DataRequired("내보내는 사유를 입력해 주세요."), Length(max=1000)],
                           render_kw={"rows": 3})
