"""The filters of every statistics page, read from the URL (so a figure can be shared by link).

Periods follow the Korean school year: 학년도 N runs from 1 March N to the end of February N+1;
1학기 from March to August, 2학기 from September to February.  A custom period is whole months
(``from``..``to`` as YYYY-MM), so two custom periods never differ by a day or a week: the
smallest step between two settings is a month, which the de-identification rule checks."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _, lazy_gettext as _l
from ..form_fields import BaseForm
from wtforms import SelectField, StringField
from wtforms.validators import Optional, ValidationError

from ..auth.models import SCHOOL_LEVELS
from ..cases.models import DOMAINS, RISK_LEVELS
from ..db import today_kst
from ..i18n import language
from ..words import month_text

PERIOD_KINDS = {"year": _l("학년도"), "semester": _l("학기"), "month": _l("월"), "custom": _l("기간 지정")}
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
#: school levels as the filter names them (SCHOOL_LEVELS keeps the short forms 초·중·고)
LEVEL_NAMES = {"elementary": _l("초등학교"), "middle": _l("중학교"), "high": _l("고등학교"), "special": _l("특수학교")}
ALL = _l("전체")
#: the oldest school year offered (Ieum's first)
FIRST_YEAR = 2024


def school_year_of(day: dt.date) -> int:
    """The school year a day belongs to (January and February belong to the year before)."""
    return day.year if day.month >= 3 else day.year - 1


def month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def school_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 3, 1), month_end(year + 1, 2)


def semester_bounds(year: int, semester: int) -> tuple[dt.date, dt.date]:
    return (dt.date(year, 3, 1), dt.date(year, 8, 31)) if semester == 1 else (dt.date(year, 9, 1), month_end(year + 1, 2))


def parse_month(text: str) -> tuple[int, int]:
    match = _MONTH.match((text or "").strip())
    if not match:
        raise ValueError(text)
    return int(match.group(1)), int(match.group(2))


@dataclass(frozen=True)
class ReportFilters:
    """What a page counts: records dated start..end (KST, inclusive) matching the other filters."""
    period: str
    start: dt.date
    end: dt.date
    #: "2026학년도 1학기", "2026년 3월", "2026년 3월–2026년 7월" (the reader's language: not part of the key)
    label: str = field(compare=False)
    school_level: str | None = None
    domain: str | None = None
    risk_level: str | None = None

    def months(self) -> list[tuple[int, int]]:
        """Every (year, month) of the period, in order (the trend charts' rows)."""
        out, (y, m) = [], (self.start.year, self.start.month)
        while (y, m) <= (self.end.year, self.end.month):
            out.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def args(self) -> dict:
        """The query string that reproduces these filters (links, exports, the print view)."""
        out = {"period": self.period}
        if self.period == "custom":
            out.update({"from": f"{self.start:%Y-%m}", "to": f"{self.end:%Y-%m}"})
        elif self.period == "month":
            out["month"] = f"{self.start:%Y-%m}"
        else:
            out["year"] = str(school_year_of(self.start))
            if self.period == "semester":
                out["semester"] = "1" if self.start.month == 3 else "2"
        for name in ("school_level", "domain", "risk_level"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out

    def described(self) -> list[tuple[str, str]]:
        """(filter, chosen value) in the reader's language, for headings, exports and the printed report."""
        return [(_("학교급"), str(LEVEL_NAMES.get(self.school_level, ALL) if self.school_level else ALL)),
                (_("지원 영역"), str(DOMAINS.get(self.domain, ALL) if self.domain else ALL)),
                (_("위기 수준"), str(RISK_LEVELS[self.risk_level][0] if self.risk_level in RISK_LEVELS else ALL))]

    def audit_details(self) -> dict:
        """The filters as the audit trail records them (codes, never a label)."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "period": self.period,
                **{k: getattr(self, k) for k in ("school_level", "domain", "risk_level") if getattr(self, k)}}


def _year_choices() -> list[tuple[str, str]]:
    current = school_year_of(today_kst())
    return [(str(y), _year_label(y)) for y in range(current, FIRST_YEAR - 1, -1)]


def _year_label(year: int) -> str:
    return _("%(year)s학년도", year=year)


class FilterForm(BaseForm):
    """GET form: the filters in the URL.  Bad values get a message beside the field and the page
    falls back to the current school year rather than guessing."""

    class Meta:
        csrf = False

    period = SelectField(_l("기간"), choices=list(PERIOD_KINDS.items()), default="year")
    year = SelectField(_l("학년도"), validators=[Optional()])
    semester = SelectField(_l("학기"), choices=[("1", _l("1학기 (3–8월)")), ("2", _l("2학기 (9–2월)"))], default="1",
                           validators=[Optional()])
    month = StringField(_l("월"), validators=[Optional()], render_kw={"placeholder": "2026-03", "inputmode": "numeric"})
    from_ = StringField(_l("시작 월"), validators=[Optional()], name="from", render_kw={"placeholder": "2026-03"})
    to = StringField(_l("끝 월"), validators=[Optional()], render_kw={"placeholder": "2026-07"})
    school_level = SelectField(_l("학교급"), choices=[("", ALL), *((k, LEVEL_NAMES.get(k, v)) for k, v in SCHOOL_LEVELS.items())], default="",
                               validators=[Optional()])
    domain = SelectField(_l("지원 영역"), choices=[("", ALL), *DOMAINS.items()], default="", validators=[Optional()])
    risk_level = SelectField(_l("위기 수준"), choices=[("", ALL), *((k, v[0]) for k, v in RISK_LEVELS.items())],
                             default="", validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.year.choices = _year_choices()
        if not self.year.data:
            self.year.data = self.year.choices[0][0]

    def validate_month(self, field):
        if self.period.data == "month":
            _month_or_error(field.data, _("월을 2026-03처럼 연도-월로 입력해 주세요."))

    def validate_from_(self, field):
        if self.period.data == "custom":
            _month_or_error(field.data, _("시작 월을 2026-03처럼 연도-월로 입력해 주세요."))

    def validate_to(self, field):
        if self.period.data != "custom":
            return
        end = _month_or_error(field.data, _("끝 월을 2026-07처럼 연도-월로 입력해 주세요."))
        try:
            start = parse_month(self.from_.data)
        except ValueError:
            return
        if end < start:
            raise ValidationError(_("끝 월은 시작 월과 같거나 그 뒤여야 합니다."))
        if (end[0] - start[0]) * 12 + end[1] - start[1] >= 36:
            raise ValidationError(_("기간은 36개월까지 지정할 수 있습니다."))

    def filters(self) -> ReportFilters:
        """The filters these (validated) fields mean; the current school year when invalid."""
        extra = {name: getattr(self, name).data or None for name in ("school_level", "domain", "risk_level")}
        if self.errors or self.period.data not in PERIOD_KINDS:
            year = school_year_of(today_kst())
            return ReportFilters("year", *school_year_bounds(year), _year_label(year), **extra)
        kind = self.period.data
        if kind == "month":
            y, m = parse_month(self.month.data)
            return ReportFilters(kind, dt.date(y, m, 1), month_end(y, m), month_text(y, m, language()), **extra)
        if kind == "custom":
            (y1, m1), (y2, m2) = parse_month(self.from_.data), parse_month(self.to.data)
            return ReportFilters(kind, dt.date(y1, m1, 1), month_end(y2, m2),
                                 f"{month_text(y1, m1, language())}–{month_text(y2, m2, language())}", **extra)
        year = int(self.year.data)
        if kind == "semester":
            semester = int(self.semester.data or 1)
            return ReportFilters(kind, *semester_bounds(year, semester),
                                 _("%(year)s학년도 %(n)s학기", year=year, n=semester), **extra)
        return ReportFilters(kind, *school_year_bounds(year), _year_label(year), **extra)


def _month_or_error(text: str, message: str) -> tuple[int, int]:
    try:
        return parse_month(text)
    except ValueError:
        raise ValidationError(message) from None
