"""권한 변경 이력 for auditors: every grant change (account created, role or organisation changed,
deactivated, reactivated, 2FA reset, handling approval …) with who, when, before, after and the
reason, filtered, paged and exported as CSV or XLSX with a required reason (audited).

The export goes through app/exports.py, the one CSV/XLSX writer: formulas neutralised, XLSX cells
explicit strings, the file written under a temporary name with mode 0600, fsynced and renamed into
place, so a failure leaves no half-written file.  The
shared ``describe_change``/``organisation_names`` also serve the admin's user page.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

from flask import render_template, request, send_file
from flask_babel import gettext as _, lazy_gettext as _l, lazy_pgettext
from ..form_fields import BaseForm
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from .. import exports
from .. import permissions as p
from ..auth.grants import grant_history
from ..auth.models import GRANT_KINDS, GrantChange, Organisation, User
from ..auth.services import login_key
from ..db import today_kst
from ..extensions import db
from ..form_fields import EARLIEST, LATEST, DateField
from ..navigation import add_nav
from . import bp
from .chain import KST
from .export import MIMETYPES
from .services import record

PAGE_SIZE = 50
#: grant changes read per batch when exporting
EXPORT_BATCH = 1000
GRANT_FORMATS = [("csv", "CSV"), ("xlsx", _l("XLSX (엑셀)"))]
#: the facts a grant change compares, in the order shown
FACT_LABELS = {"role": _l("역할"), "organisation_id": _l("소속"), "active": _l("사용 여부"),
               "totp": _l("2단계 인증"), "approved": _l("취급승인"), "training_on": _l("개인정보 교육 이수일")}
FLAG_WORDS = {"active": (lazy_pgettext("grant flag", "비활성"), lazy_pgettext("grant flag", "사용")),
              "totp": (lazy_pgettext("grant flag", "미등록"), lazy_pgettext("grant flag", "등록")),
              "approved": (lazy_pgettext("grant flag", "미승인"), lazy_pgettext("grant flag", "승인"))}
HEADINGS = (_l("일시(KST)"), _l("변경 번호"), _l("종류"), _l("종류 코드"), _l("대상 아이디"), _l("처리자 아이디"),
            _l("변경 내용"), _l("이전(JSON)"), _l("이후(JSON)"), _l("사유"))

auditor_only = p.roles_required(p.AUDITOR)
add_nav("audit.grants", _l("권한 변경 이력"), p.AUDITOR)


class _QueryForm(BaseForm):
    class Meta:
        csrf = False


class GrantFilterForm(_QueryForm):
    kind = SelectField(_l("종류"), choices=[("", _l("전체")), *GRANT_KINDS.items()], default="",
                       validators=[Optional()])
    start = DateField(_l("시작일"), validators=[Optional()])
    end = DateField(_l("종료일"), validators=[Optional()])
    login = StringField(_l("아이디 (대상 또는 처리자)"), validators=[Optional(), Length(max=64)])

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_("종료일은 시작일과 같거나 그 뒤여야 합니다."))


class GrantExportForm(BaseForm):
    """The export carries the page's filters along as hidden fields."""

    kind = HiddenField()
    start = HiddenField()
    end = HiddenField()
    login = HiddenField()
    fmt = SelectField(_l("파일 형식"), choices=GRANT_FORMATS, default="csv")
    reason = TextAreaField(_l("내보내는 사유"), validators=[DataRequired(_l("내보내는 사유를 입력해 주세요.")),
                                                        Length(max=1000)],
                           render_kw={"rows": 2})


# -- shared with the admin's user page ---------------------------------------------------

def organisation_names(changes) -> dict[int, str]:
    """The names of every organisation the changes mention, in one query."""
    ids = {state.get("organisation_id") for change in changes for state in (change.before or {}, change.after or {})}
    ids.discard(None)
    if not ids:
        return {}
    return dict(db.session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())


def _fact(key: str, value, names: dict[int, str]) -> str:
    if value is None:
        return _("없음")
    if key == "role":
        return str(p.role_label(value)) if value in p.ROLES else str(value)
    if key == "organisation_id":
        return names.get(value, f"#{value}")
    if key in FLAG_WORDS:
        return FLAG_WORDS[key][bool(value)]
    return str(value)


def describe_change(change: GrantChange, names: dict[int, str]) -> list[tuple[str, str, str]]:
    """(label, before, after) for each fact that changed; for a new account, what it was given."""
    before, after = change.before or {}, change.after or {}
    keys = [k for k in FACT_LABELS if before.get(k) != after.get(k) and (before or after.get(k) not in (None, False))]
    return [(FACT_LABELS[k], _fact(k, before.get(k), names) if before else "", _fact(k, after.get(k), names))
            for k in keys]


def change_text(lines: list[tuple[str, str, str]]) -> str:
    """One line of text for an export cell."""
    return "; ".join(f"{label}: {old} → {new}" if old else f"{label}: {new}" for label, old, new in lines)


# -- the auditor's page ------------------------------------------------------------------

def _criteria(kind: str | None, start: dt.date | None, end: dt.date | None, login: str | None):
    """The grant history query narrowed by the filters (KST days, either side's login)."""
    query = grant_history().options(selectinload(GrantChange.user), selectinload(GrantChange.actor))
    if kind:
        query = query.where(GrantChange.kind == kind)
    if start:
        query = query.where(GrantChange.occurred_at >= dt.datetime.combine(start, dt.time()) - KST)
    if end:
        query = query.where(GrantChange.occurred_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()) - KST)
    if login and login.strip():
        people = select(User.id).where(User.login_key == login_key(login))
        query = query.where(or_(GrantChange.user_id.in_(people), GrantChange.actor_id.in_(people)))
    return query


def _filters(form: GrantFilterForm) -> dict:
    """The filters as query-string values (for page links and the export form)."""
    values = {"kind": form.kind.data or "", "start": form.start.data.isoformat() if form.start.data else "",
              "end": form.end.data.isoformat() if form.end.data else "", "login": (form.login.data or "").strip()}
    return {k: v for k, v in values.items() if v}


def _render(form: GrantFilterForm, export_form: GrantExportForm, status: int = 200):
    page, names = None, {}
    if form.validate():
        page = db.paginate(_criteria(form.kind.data, form.start.data, form.end.data, form.login.data),
                           per_page=PAGE_SIZE, error_out=False, count=True)
        names = organisation_names(page.items)
        filters = _filters(form)
        record("grant_history_viewed", object_type="grant_change",
               details={**{k: v for k, v in filters.items() if k != "login"}, "login": bool(filters.get("login")),
                        "page": page.page, "rows": len(page.items)})
    else:
        status = 400
    html = render_template("audit/grants.html", form=form, export_form=export_form, page=page, names=names,
                           describe=describe_change, filters=_filters(form) if page else {},
                           role_names={r: p.role_label(r) for r in p.ROLES})
    db.session.commit()  # after rendering, so the listed rows are not expired and reloaded
    return html, status


@bp.get("/grants")
@auditor_only
def grants():
    """권한 변경 이력: every grant change, newest first, with filters (viewing is audited)."""
    form = GrantFilterForm(request.args)
    export_form = GrantExportForm(formdata=None, **{k: request.args.get(k, "") for k in ("kind", "start", "end",
                                                                                       "login")})
    return _render(form, export_form)


def _rows(query):
    """Export rows in HEADINGS order (the writer guards every cell); read in batches, so a long
    history never sits in memory whole."""
    for changes in db.session.execute(query.execution_options(yield_per=EXPORT_BATCH)).scalars().partitions():
        yield from _batch_rows(changes, organisation_names(changes))


def _batch_rows(changes, names):
    for change in changes:
        row = [(change.occurred_at + KST).strftime("%Y-%m-%d %H:%M:%S"), change.uid, str(change.kind_label),
               change.kind,
               change.user.login if change.user else "", change.actor.login if change.actor else _("(시스템)"),
               change_text(describe_change(change, names)),
               json.dumps(change.before or {}, ensure_ascii=False, sort_keys=True),
               json.dumps(change.after or {}, ensure_ascii=False, sort_keys=True), change.reason or ""]
        yield row


def _write_csv(fh, rows) -> int:
    return exports.write_csv(fh, [str(h) for h in HEADINGS], rows)


def _write_xlsx(fh, rows) -> int:
    return exports.write_xlsx(fh, [(_("권한 변경 이력"), [str(h) for h in HEADINGS], rows)])[0]


def _hidden_date(text: str | None) -> dt.date | None | bool:
    """A hidden filter date: None when empty, False when not a date a person could mean (year 1
    or 9999 parses, but overflowed the day-after arithmetic of ``_criteria``: a 500)."""
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return False
    return day if EARLIEST <= day <= LATEST else False


@bp.post("/grants/export")
@auditor_only
def export_grants():
    """Download the filtered grant history as CSV or XLSX with a required reason (audited)."""
    form = GrantExportForm()
    filters = GrantFilterForm(formdata=None, kind=form.kind.data or "", login=form.login.data or "")
    for name in ("start", "end"):  # the hidden dates come back as text
        day = _hidden_date(getattr(form, name).data)
        if day is False:
            form.form_errors.append(_("기간이 올바르지 않습니다. 조회 조건을 다시 정해 주세요."))
        else:
            getattr(filters, name).data = day
    if form.kind.data and form.kind.data not in GRANT_KINDS:
        form.form_errors.append(_("변경 종류가 올바르지 않습니다. 조회 조건을 다시 정해 주세요."))
    if form.validate_on_submit() and not form.form_errors:
        reason, fmt = form.reason.data.strip(), form.fmt.data
        query = _criteria(form.kind.data, filters.start.data, filters.end.data, form.login.data)
        workdir = Path(tempfile.mkdtemp(prefix="ieum-grants-"))
        filename = f"ieum-grants-{today_kst().isoformat()}.{fmt}"
        try:
            with exports.atomic_file(workdir / filename) as fh:
                rows = (_write_csv if fmt == "csv" else _write_xlsx)(fh, _rows(query))
            handle = open(workdir / filename, "rb")  # stays readable after the directory goes
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        record("grant_history_exported", reason=reason, object_type="grant_export", object_id=filename,
               details={"format": fmt, "rows": rows, **{k: v for k, v in _filters(filters).items() if k != "login"},
                        "login": bool((form.login.data or "").strip())})
        db.session.commit()
        return send_file(handle, mimetype=MIMETYPES[fmt], as_attachment=True, download_name=filename)
    return _render(filters, form, 400)
