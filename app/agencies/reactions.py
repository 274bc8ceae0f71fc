"""Reactions of the agencies feature to lifecycle signals (app/signals.py); connected by the app factory.

Each receiver runs in the sender's transaction; the referral changes write their own chronology
lines and audit events (referral_lifecycle.py), and a refusal (DomainError) rolls the whole
change back.
"""
from __future__ import annotations

from .. import signals
from ..db import today_kst
from ..lifecycle import PageSection
from .referral_lifecycle import close_items, end_on_close, end_on_withdrawn_case, stop_referrals_on_withdrawal
from .referral_queries import referrals_for_case
from .referrals import FINISHED_CASES, is_school_side


@signals.case_close_items.connect
def case_close_items(case, **_kwargs):
    """The close form asks a cancel reason for each referral the agency has in hand."""
    return close_items(case)


@signals.case_closed.connect
def case_closed(case, actor=None, choices=None, **_kwargs):
    """Drafts are cancelled; open referrals are cancelled with the form's reason, or the close is refused."""
    end_on_close(case, actor, choices or {})


@signals.case_withdrawn.connect
def case_withdrawn(case, actor=None, **_kwargs):
    """A withdrawn request takes its referrals with it."""
    end_on_withdrawn_case(case, actor)


def _stops_referrals(purposes) -> bool:
    # a consent that never covered a referral cannot stop one; unknown purposes: check anyway
    return purposes is None or "agency_referral" in purposes


@signals.consent_withdrawn.connect
def consent_withdrawn(case, actor=None, purposes=None, **_kwargs):
    """Referrals the remaining consent no longer covers stop, or hide what they shared."""
    if _stops_referrals(purposes):
        stop_referrals_on_withdrawal(case, actor)


@signals.consent_expired.connect
def consent_expired(case, actor=None, purposes=None, **_kwargs):
    """An expired consent stops referrals like a withdrawal (actor None: the daily command)."""
    if _stops_referrals(purposes):
        stop_referrals_on_withdrawal(case, actor, cause="consent_expired")


@signals.case_page_sections.connect
def case_page_sections(case, user=None, **_kwargs):
    """The case page's referral block, for the case's school team and district coordinator."""
    if not is_school_side(user, case):
        return None
    referrals = referrals_for_case(case)
    return PageSection(template="agencies/_case_section.html", order=20, context={
        "referrals": referrals, "today": today_kst(),
        "can_refer": case.status not in FINISHED_CASES,
        "has_needs": bool(case.needs),
    })
