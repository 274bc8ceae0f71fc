"""Case screens: the forms that change a case.  Each POST loads the case (404 outside the
user's scope), checks the shape of the input, calls one service, commits once and goes back
to the case page; a refused rule shows the page again with the message next to its field."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from ...domain import DomainError, NotPermitted, attach_to_form
from ...extensions import db
from ...form_actions import save_or_show
from ...permissions import can_edit_case, can_reply_escalation
from ...words import particle
from .. import bp
from .. import notes as case_notes, services as s
from ..consent import record_consent, withdraw_consent
from ..forms.actions import (PREFIXES, ButtonForm, EscalateForm, NoteForm, NotSelectForm, PlanStatusForm,
                             ReopenForm, ReplyForm, SelectForm, WithdrawRequestForm, close_choices,
                             close_form_class, close_outcomes, plan_action_form)
from ..forms.consent import consent_form
from ..loaders import deny_not_found, load_case_or_404
from ..models import ACTION_STATUSES, CONSENT_PARTIES, STATUSES, CaseEscalation, Consent, PlanAction
from ..plan import add_plan_action, set_action_status
from .page import BUTTON_TRANSITIONS, render_case


def _apply(case, key: str, form, run, message: str, refused: bool = False):
    """Validate ``form``, run the service, commit once and go back to the case page with
    ``message``; a refused rule re-renders the page (400) with nothing saved, and a refused
    role answers 403 (the error handler audits it).  ``refused``: already refused, show why."""
    if not refused and form.validate():
        ok, _ = save_or_show(form, lambda: run(form))
        if ok:
            flash(message, "success")
            return redirect(url_for("cases.view", uid=case.uid))
    return render_case(case, status=400, forms={key: form})


def _to_status(label) -> str:
    """"사례 상태를 '검토 중'으로 바꿨습니다." (the particle chosen from the Korean label)."""
    return gettext("사례 상태를 '%(status)s'%(ro)s 바꿨습니다.", status=label, ro=particle(str(label), "으로/로"))


def _goal_to_status(goal: str, label) -> str:
    return gettext("'%(goal)s' 항목을 '%(status)s'%(ro)s 바꿨습니다.", goal=goal, status=label,
                   ro=particle(str(label), "으로/로"))


def _check_transition(case, name: str, form) -> bool:
    """Refuse a wrong role with 403 before reading any input; a wrong status becomes a form
    error (returns True when refused)."""
    try:
        s.check_transition(case, name, current_user)
    except NotPermitted:
        abort(403)
    except DomainError as error:
        attach_to_form(form, error)
        return True
    return False


def _require_edit(case) -> None:
    if not can_edit_case(current_user, case):
        abort(403)


def _part_of_case(model, uid: str, case):
    """A consent, plan action or escalation of *this* case; a uid of another case is an
    audited 404, like a case out of scope."""
    item = db.session.execute(select(model).where(model.uid == uid)).scalar_one_or_none()
    if item is None or item.case_id != case.id:
        deny_not_found(model.__tablename__, uid)
    return item


@bp.post("/<uid>/transition/<name>")
@login_required
def transition(uid: str, name: str):
    """Move the case one step along its lifecycle (the steps that need no input)."""
    case = load_case_or_404(uid)
    if name not in BUTTON_TRANSITIONS:
        abort(404)
    form = ButtonForm(prefix=PREFIXES["transition"])
    refused = _check_transition(case, name, form)
    return _apply(case, "transition", form, lambda f: getattr(s, name)(case, current_user),
                  _to_status(STATUSES[s.TRANSITIONS[name].target]), refused)


@bp.post("/<uid>/select", endpoint="select")
@login_required
def select_view(uid: str):
    """Select the student for support with the school meeting's evidence (school lead)."""
    case = load_case_or_404(uid)
    form = SelectForm(prefix=PREFIXES["select"])
    refused = _check_transition(case, "select", form)
    return _apply(case, "select", form, lambda f: s.select_case(
        case, current_user, meeting_on=f.meeting_on.data, members=f.members.data,
        basic_academic_result=f.basic_academic_result.data, teacher_opinions=f.teacher_opinions.data,
        parent_counselling=f.parent_counselling.data), gettext("지원 대상으로 선정했습니다."), refused)


@bp.post("/<uid>/not-select")
@login_required
def not_select(uid: str):
    """Record the meeting's decision not to select, with the reason (school lead)."""
    case = load_case_or_404(uid)
    form = NotSelectForm(prefix=PREFIXES["not_select"])
    refused = _check_transition(case, "not_select", form)
    return _apply(case, "not_select", form, lambda f: s.not_select_case(
        case, current_user, meeting_on=f.meeting_on.data, members=f.members.data, reason=f.reason.data),
        gettext("미선정으로 결정했습니다."), refused)


@bp.post("/<uid>/close")
@login_required
def close(uid: str):
    """Close the case with a coded reason and an outcome per need (school lead)."""
    case = load_case_or_404(uid)
    form = close_form_class(case)(prefix=PREFIXES["close"])
    refused = _check_transition(case, "close", form)

    def run(f):
        s.close_case(case, current_user, reason=f.reason.data, outcomes=close_outcomes(f, case),
                     choices=close_choices(f, case))
    return _apply(case, "close", form, run, gettext("사례를 종결했습니다. 관련 배정·의뢰·계획도 함께 정리했습니다."), refused)


@bp.post("/<uid>/withdraw-request")
@login_required
def withdraw_request(uid: str):
    """Withdraw a mistaken request still in 요청 접수, with the reason (school team)."""
    case = load_case_or_404(uid)
    form = WithdrawRequestForm(prefix=PREFIXES["withdraw_request"])
    refused = _check_transition(case, "withdraw_request", form)
    return _apply(case, "withdraw_request", form, lambda f: s.withdraw_request(case, current_user, reason=f.reason.data),
                  gettext("지원 요청을 철회했습니다."), refused)


@bp.post("/<uid>/reopen")
@login_required
def reopen(uid: str):
    """Reopen a closed case; it goes back to planning (school lead)."""
    case = load_case_or_404(uid)
    form = ReopenForm(prefix=PREFIXES["reopen"])
    refused = _check_transition(case, "reopen", form)
    return _apply(case, "reopen", form, lambda f: s.reopen_case(case, current_user, reason=f.reason.data),
                  gettext("사례를 재개했습니다. 지원 계획을 다시 세워 주세요."), refused)


@bp.post("/<uid>/consent")
@login_required
def consent(uid: str):
    """Record the consent of the ticked parties (student, parent or both: one record and one audit
    event each, in one transaction) with its purposes (and agencies for a referral)."""
    case = load_case_or_404(uid)
    _require_edit(case)
    form = consent_form(case, formdata=request.form)
    parties = [party for party in CONSENT_PARTIES if party in (form.party.data or [])]

    def run(f):
        for party in parties:
            record_consent(case, current_user, party=party, purposes=list(f.purposes.data or []),
                           given_on=f.given_on.data, method=f.method.data, expires_on=f.expires_on.data,
                           agency_ids=list(f.agencies.data or []), agency_kinds=list(f.agency_kinds.data or []))
    names = "·".join(str(CONSENT_PARTIES[party]) for party in parties)
    return _apply(case, "consent", form, run, gettext("%(parties)s 동의를 기록했습니다.", parties=names) if names
                  else gettext("동의를 기록했습니다."))


@bp.post("/<uid>/consent/<consent_uid>/withdraw", endpoint="withdraw_consent")
@login_required
def withdraw_consent_view(uid: str, consent_uid: str):
    """Record that a party withdrew a consent today; nothing new is shared under it."""
    case = load_case_or_404(uid)
    _require_edit(case)
    item = _part_of_case(Consent, consent_uid, case)
    form = ButtonForm(prefix=PREFIXES["withdraw"])
    return _apply(case, "withdraw", form, lambda f: withdraw_consent(item, case, current_user),
                  gettext("%(party)s 동의 철회를 기록했습니다.", party=CONSENT_PARTIES[item.party]))


@bp.post("/<uid>/plan", endpoint="add_plan_action")
@login_required
def add_plan_action_view(uid: str):
    """Add a goal and the action that serves it to the support plan."""
    case = load_case_or_404(uid)
    _require_edit(case)
    form = plan_action_form(case, formdata=request.form)
    return _apply(case, "plan", form, lambda f: add_plan_action(
        case, current_user, goal=f.goal.data, action=f.action.data, need_id=f.need_id.data,
        owner_id=f.owner_id.data, due_on=f.due_on.data, shared_with_guardian=f.shared_with_guardian.data),
        gettext("지원 계획에 추가했습니다."))


@bp.post("/<uid>/plan/<action_uid>/status")
@login_required
def plan_action_status(uid: str, action_uid: str):
    """Mark a plan action done, cancelled, or open again."""
    case = load_case_or_404(uid)
    _require_edit(case)
    item = _part_of_case(PlanAction, action_uid, case)
    form = PlanStatusForm(prefix=PREFIXES["plan_status"])
    return _apply(case, "plan_status", form,
                  lambda f: set_action_status(item, case, current_user, *f.parts()),
                  _goal_to_status(item.goal, ACTION_STATUSES.get(form.parts()[0], "")))


@bp.post("/<uid>/notes", endpoint="add_note")
@login_required
def add_note_view(uid: str):
    """Add a dated note (상담 · 관찰 · 가정 연락 · 기타) to the chronology."""
    case = load_case_or_404(uid)
    _require_edit(case)
    form = NoteForm(prefix=PREFIXES["note"])
    return _apply(case, "note", form, lambda f: case_notes.add_note(case, current_user, kind=f.kind.data, body=f.body.data),
                  gettext("기록을 추가했습니다."))


@bp.post("/<uid>/escalate")
@login_required
def escalate(uid: str):
    """Ask the district centre for help with this case (법 10④)."""
    case = load_case_or_404(uid)
    _require_edit(case)
    form = EscalateForm(prefix=PREFIXES["escalate"])
    return _apply(case, "escalate", form, lambda f: case_notes.escalate_case(case, current_user, reason=f.reason.data),
                  gettext("교육지원청에 지원을 요청했습니다."))


@bp.post("/<uid>/escalation/<escalation_uid>/reply")
@login_required
def reply_escalation(uid: str, escalation_uid: str):
    """Record the district centre's reply to an escalation (district coordinator, 법 10⑤)."""
    case = load_case_or_404(uid)
    if not can_reply_escalation(current_user, case):
        abort(403)
    escalation = _part_of_case(CaseEscalation, escalation_uid, case)
    form = ReplyForm(prefix=PREFIXES["reply"])
    return _apply(case, "reply", form, lambda f: case_notes.reply_to_escalation(escalation, case, current_user,
                                                                       reply=f.reply.data), gettext("회신을 기록했습니다."))


@bp.post("/<uid>/satisfaction")
@login_required
def record_satisfaction_view(uid: str):
    """Record the student's or the parent's satisfaction with the support of a closed case."""
    from ..forms.satisfaction import PREFIX, SatisfactionForm
    from ..satisfaction import SATISFACTION_PARTIES, record_satisfaction
    case = load_case_or_404(uid)
    _require_edit(case)
    form = SatisfactionForm(prefix=PREFIX)
    party = SATISFACTION_PARTIES.get(form.party.data, "")
    return _apply(case, "satisfaction", form, lambda f: record_satisfaction(
        case, current_user, party=f.party.data, score=f.score.data, comment=f.comment.data,
        surveyed_on=f.surveyed_on.data), gettext("%(party)s 만족도를 기록했습니다.", party=party))
