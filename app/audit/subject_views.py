"""정보주체 찾기: the auditor finds a student by name and birth date and reads the trail about them."""
from __future__ import annotations

from flask_babel import gettext
from flask_login import current_user

from ..extensions import db
from . import bp
from . import review as rv
from .forms import AuditSearchForm, SubjectLookupForm
from .subjects import find_subjects
from .views import auditor_only, render_search, run_search


@bp.post("/subject")
@auditor_only
def lookup_subject():
    """POST, so the name and birth date never reach a URL, a proxy log or the browser history.
    One candidate: its events are shown at once; several: the auditor picks one."""
    lookup = SubjectLookupForm()
    form = AuditSearchForm(formdata=None)
    if not lookup.validate_on_submit():
        return render_search(form, rv.EventPage(), False, lookup=lookup, status=400)
    candidates = find_subjects(lookup.name.data, lookup.birth_date.data, current_user)
    db.session.commit()
    if not candidates:
        lookup.name.errors = [gettext("이름과 생년월일이 같은 학생을 찾지 못했습니다. 소속 교육지원청의 학생만 찾을 수 있습니다.")
                              if getattr(current_user.organisation, "kind", "") == "district_office" else
                              gettext("이름과 생년월일이 같은 학생을 찾지 못했습니다.")]
        return render_search(form, rv.EventPage(), False, lookup=lookup, candidates=[], status=200)
    page, ran = rv.EventPage(), False
    if len(candidates) == 1:
        form = AuditSearchForm(formdata=None, subject=candidates[0].uid)
        page, ran = run_search(form)
    return render_search(form, page, ran, lookup=SubjectLookupForm(formdata=None), candidates=candidates)
