"""The three vetting steps of a guardian's page (vetting.py): record both checks, record the
training, activate.  Each is one post; a refusal re-renders the page (400) with the messages next
to the fields and nothing saved.  Registered from views.py."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ..form_actions import save_or_show
from . import bp
from . import vetting
from .eligibility import training_hours_required
from .views import coordinators, load_guardian_or_404, render_detail
from .vetting_forms import ActivateForm, TrainingForm, checks_form, korean_errors


def _done(guardian, message: str, category: str = "success"):
    flash(message, category)
    return redirect(url_for("guardians.detail", uid=guardian.uid, _anchor="sec-vetting"))


@bp.post("/<uid>/vetting/checks")
@coordinators
def vet_checks(uid: str):
    """Step 1: both record checks (requests and results) in one submission."""
    guardian = load_guardian_or_404(uid)
    form = checks_form(guardian, request.form)
    valid = form.validate_on_submit()
    korean_errors(form)
    if form.check_required(guardian) and valid:
        ok, touched = save_or_show(form, lambda: vetting.record_checks(current_user, guardian, form.entries()))
        if ok:
            if any(c.result == "not_clear" for c in touched):
                return _done(guardian, gettext("결격 사유가 있는 조회 결과를 기록했습니다. 이 교육후견인은 활동할 수 없습니다."),
                             "warning")
            return _done(guardian, gettext("범죄경력 조회 %(n)d건을 기록했습니다.", n=len(touched)))
    return render_detail(guardian, 400, {"vet_checks": form})


@bp.post("/<uid>/vetting/training")
@coordinators
def vet_training(uid: str):
    """Step 2: the basic training hours."""
    guardian = load_guardian_or_404(uid)
    form = TrainingForm()
    valid = form.validate_on_submit()
    korean_errors(form)
    if valid:
        ok, done = save_or_show(form, lambda: vetting.record_training(current_user, guardian, form.training_hours.data))
        if ok:
            return _done(guardian, gettext("기본 교육 이수를 기록했습니다.") if done else gettext(
                "이수 시간을 기록했습니다. 기본 교육 %(n)d시간을 채우면 다음 단계로 넘어갑니다.", n=training_hours_required()))
    return render_detail(guardian, 400, {"vet_training": form})


@bp.post("/<uid>/vetting/activate")
@coordinators
def vet_activate(uid: str):
    """Step 3: the guardian starts serving."""
    guardian = load_guardian_or_404(uid)
    form = ActivateForm()
    if form.validate_on_submit():
        ok, _ = save_or_show(form, lambda: vetting.activate_guardian(current_user, guardian, form.note.data or ""))
        if ok:
            return _done(guardian, gettext("활동을 시작했습니다. 이제 학생과 연계할 수 있습니다."))
    return render_detail(guardian, 400, {"vet_activate": form})
