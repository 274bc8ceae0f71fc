"""Auditor forms: shape checks only; the rules live in review.py, access_review.py and export.py."""
from ..form_fields import BaseForm
from markupsafe import Markup
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp
from wtforms.widgets import Select, html_params

from flask_babel import lazy_gettext as _l
from ..form_fields import DateField
from .labels import grouped_choices

MONTH_PATTERN = r"^\d{4}-\d{2}$"
MONTH_MESSAGE = _l("달을 YYYY-MM 형식(예: 2026-03)으로 입력해 주세요.")
OUTCOMES = [("", _l("전체")), ("allowed", _l("허용")), ("denied", _l("거부"))]
FORMATS = [("sqlite", _l("SQLite (감사용 단독 파일)")), ("csv", "CSV"), ("xlsx", _l("XLSX (엑셀)"))]


class _QueryForm(BaseForm):
    """A GET form read from the query string: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False


class GroupedSelect(Select):
    """A select whose "" group holds plain options (전체) and every other group an <optgroup>."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        for group, choices in field.iter_groups():
            options = "".join(self.render_option(val, label, selected, **render_kw)
                              for val, label, selected, render_kw in choices)
            html.append(f"<optgroup {html_params(label=group)}>{options}</optgroup>" if group else options)
        html.append("</select>")
        return Markup("".join(html))


class AuditSearchForm(_QueryForm):
    start = DateField(_l("시작일"), validators=[Optional()])
    end = DateField(_l("종료일"), validators=[Optional()])
    actor = StringField(_l("사용자 아이디"), validators=[Optional(), Length(max=64)])
    #: labels grouped by feature, submitting the event code; an unlisted code is still searchable
    action = SelectField(_l("행위"), default="", validate_choice=False, widget=GroupedSelect(),
                         validators=[Optional(), Length(max=64)])
    subject = StringField(_l("정보주체 참조번호"), validators=[Optional(), Length(max=64)])
    outcome = SelectField(_l("결과"), choices=OUTCOMES, default="", validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = grouped_choices(self.action.data)

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            field.errors.append(_l("종료일은 시작일과 같거나 그 뒤여야 합니다."))


class SubjectLookupForm(BaseForm):
    """Find a data subject by name and birth date (POST: the name never enters a URL or a log)."""

    name = StringField(_l("학생 이름"), validators=[DataRequired(_l("학생 이름을 입력해 주세요.")), Length(max=60)],
                       render_kw={"autocomplete": "off"})
    birth_date = DateField(_l("생년월일"), validators=[InputRequired(_l("생년월일을 입력해 주세요."))])


class ReviewMonthForm(_QueryForm):
    month = StringField(_l("점검할 달"), validators=[Optional(), Regexp(MONTH_PATTERN, message=MONTH_MESSAGE)],
                        render_kw={"type": "month", "placeholder": "YYYY-MM"})
    attention = BooleanField(_l("점검이 필요한 사용자만 보기"))


class MarkReviewForm(BaseForm):
    month = StringField(_l("점검 대상 달"), render_kw={"readonly": True},
                        validators=[DataRequired(MONTH_MESSAGE), Regexp(MONTH_PATTERN, message=MONTH_MESSAGE)])
    comment = TextAreaField(_l("점검 의견"), validators=[DataRequired(_l("점검 의견을 입력해 주세요.")), Length(max=2000)],
                            render_kw={"rows": 4})


class ExportForm(BaseForm):
    # InputRequired keeps the "not a valid date" message for text that is not a date
    start = DateField(_l("시작일"), validators=[InputRequired(_l("시작일을 입력해 주세요."))])
    end = DateField(_l("종료일"), validators=[InputRequired(_l("종료일을 입력해 주세요."))])
    fmt = SelectField(_l("파일 형식"), choices=FORMATS, default="sqlite")
    reason = TextAreaField(_l("내보내는 사유"), validators=[DataRequired(_l("내보내는 사유를 입력해 주세요.")), Length(max=1000)],
                           render_kw={"rows": 3})
