"""Case screens: the case page — header, chronology, plan, needs, consents and escalation,
with the forms the signed-in user may use (the POST endpoints live in actions.py)."""
from __future__ import annotations

from flask import render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...audit.services import record
from ...db import today_kst
from ...extensions import db
from ...lifecycle import page_sections
from ...permissions import can_decide_case, can_edit_case, can_reply_escalation
from .. import bp
from ..chronology import EVENT_KINDS, chronology
from ..consent import consent_state
from ..forms.actions import (PREFIXES, ButtonForm, EscalateForm, NeedForm, NoteForm, NotSelectForm, PlanStatusForm,
                             ReopenForm, ReplyForm, ResolveNeedForm, RiskForm, SelectForm, WithdrawRequestForm,
                             close_form_class, plan_action_form)
from ..forms.consent import AGENCY_KIND_LABELS, consent_form
from ..loaders import load_case_or_404
from ..models import (ACTION_STATUSES, CLOSE_REASONS, OPEN_STATUSES, CONSENT_METHODS, CONSENT_PARTIES, CONSENT_PURPOSES,
                      NEED_OUTCOMES, NOTE_KINDS, RISK_LEVELS, STATUSES, CaseEscalation, CaseSelection,
                      Consent, ConsentPurpose, SupportCase)
from ..forms.satisfaction import PREFIX as SATISFACTION_PREFIX, SatisfactionForm
from ..plan import PLANNABLE, plan_of
from ..satisfaction import SATISFACTION_PARTIES, SCORES, SURVEYABLE_STATUSES, satisfaction_of
from ..services import TRANSITIONS, allowed_transitions

#: transitions that need no input: one button each, posted to cases.transition
BUTTON_TRANSITIONS = ("start_screening", "start_planning", "start_support", "start_monitoring", "start_follow_up")
#: statuses in which a case takes no new consent and no escalation
FINISHED = ("closed", "not_selected", "withdrawn")


def page_forms(case: SupportCase, user) -> dict:
    """Blank forms for everything ``user`` may do on this case now (none for read-only users)."""
    forms: dict = {}
    allowed = allowed_transitions(case, user)
    if any(name in BUTTON_TRANSITIONS for name in allowed):
        forms["transition"] = ButtonForm(formdata=None, prefix=PREFIXES["transition"])
    if "select" in allowed:
        forms["select"] = SelectForm(formdata=None, prefix=PREFIXES["select"])
    if "not_select" in allowed:
        forms["not_select"] = NotSelectForm(formdata=None, prefix=PREFIXES["not_select"])
    if "close" in allowed:
        forms["close"] = close_form_class(case)(formdata=None, prefix=PREFIXES["close"])
    if "withdraw_request" in allowed:
        forms["withdraw_request"] = WithdrawRequestForm(formdata=None, prefix=PREFIXES["withdraw_request"])
    if "reopen" in allowed:
        forms["reopen"] = ReopenForm(formdata=None, prefix=PREFIXES["reopen"])
    if can_edit_case(user, case):
        forms["withdraw"] = ButtonForm(formdata=None, prefix=PREFIXES["withdraw"])
        forms["note"] = NoteForm(formdata=None, prefix=PREFIXES["note"])
        if case.status in PLANNABLE:
            forms["plan"] = plan_action_form(case, owner_id=user.id)
            forms["plan_status"] = PlanStatusForm(formdata=None, prefix=PREFIXES["plan_status"])
        if case.status in OPEN_STATUSES:
            forms["need"] = NeedForm(formdata=None, prefix=PREFIXES["need"])
            forms["resolve_need"] = ResolveNeedForm(formdata=None, prefix=PREFIXES["resolve_need"])
            forms["risk"] = RiskForm(formdata=None, prefix=PREFIXES["risk"], risk_level=case.risk_level)
        if case.status not in FINISHED:
            forms["consent"] = consent_form(case)
            if not case.escalation_open:
                forms["escalate"] = EscalateForm(formdata=None, prefix=PREFIXES["escalate"])
        if case.status in SURVEYABLE_STATUSES:
            forms["satisfaction"] = SatisfactionForm(formdata=None, prefix=SATISFACTION_PREFIX, surveyed_on=today_kst())
    if can_reply_escalation(user, case) and case.escalation_open:
        forms["reply"] = ReplyForm(formdata=None, prefix=PREFIXES["reply"])
    return forms


def _consents(case: SupportCase) -> list[Consent]:
    return list(db.session.execute(
        select(Consent).where(Consent.case_id == case.id)
        .options(selectinload(Consent.purposes).joinedload(ConsentPurpose.agency), selectinload(Consent.recorded_by))
        .order_by(Consent.given_on.desc(), Consent.id.desc())).scalars())


def _escalations(case: SupportCase) -> list[CaseEscalation]:
    return list(db.session.execute(select(CaseEscalation).where(CaseEscalation.case_id == case.id)
                                   .order_by(CaseEscalation.created_at.desc(), CaseEscalation.id.desc())).scalars())


def _selections(case: SupportCase) -> list[CaseSelection]:
    return list(db.session.execute(select(CaseSelection).where(CaseSelection.case_id == case.id)
                                   .order_by(CaseSelection.meeting_on.desc(), CaseSelection.id.desc())).scalars())


def render_case(case: SupportCase, status: int = 200, forms: dict | None = None):
    """Render the case page (``forms`` replace the blank ones, e.g. a form with errors) and
    record the view: one ``case_viewed`` event per page shown."""
    user, today = current_user, today_kst()
    kind = request.args.get("kind") if request.args.get("kind") in EVENT_KINDS else None
    older = request.args.get("older") or None
    plan = plan_of(case)
    open_dues = [item.due_on for item in plan if item.status == "open" and item.due_on]
    page_forms_ = {**page_forms(case, user), **(forms or {})}
    consents = _consents(case)
    html = render_template(
        "cases/view.html", case=case, student=case.student, today=today, kind=kind, event_kinds=EVENT_KINDS,
        chronology=chronology(case, kind, older), plan=plan, next_due=min(open_dues) if open_dues else None,
        consent_summary=consent_state(case), consents=consents, escalations=_escalations(case),
        consent_complete={c.party for c in consents if c.active_on(today)} >= set(CONSENT_PARTIES),
        selections=_selections(case), forms=page_forms_, scores=SCORES, satisfaction_parties=SATISFACTION_PARTIES,
        satisfaction=satisfaction_of(case) if case.status in SURVEYABLE_STATUSES else None, sections=page_sections(case, user),
        allowed=allowed_transitions(case, user),
        button_transitions=BUTTON_TRANSITIONS, transitions=TRANSITIONS,
        can_edit=can_edit_case(user, case), can_decide=can_decide_case(user, case),
        labels={"status": STATUSES, "risk": RISK_LEVELS, "party": CONSENT_PARTIES, "method": CONSENT_METHODS,
                "purpose": CONSENT_PURPOSES, "action_status": ACTION_STATUSES, "note": NOTE_KINDS,
                "close": CLOSE_REASONS, "outcome": NEED_OUTCOMES, "agency_kind": AGENCY_KIND_LABELS})
    # recorded once the page exists: what is audited is what was shown
    details = {**({"kind": kind} if kind else {}), **({"chronology": "older"} if older else {})}
    record("case_viewed", obj=case, subject=case.student, details=details or None)
    db.session.commit()
    return html, status


@bp.get("/<uid>")
@login_required
def view(uid: str):
    """The case page: everything about one case on one screen, newest first."""
    return render_case(load_case_or_404(uid))
