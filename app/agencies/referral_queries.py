"""Referral reads: the values a referral shares, what an agency may see of them, overdue lists."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload, selectinload

from ..auth.models import Organisation
from ..cases.consent import covering_case_ids
from ..cases.models import SupportCase
from ..db import today_kst
from ..stored_messages import pack_value
from ..extensions import db
from ..permissions import DISTRICT_COORDINATOR, case_scope, has_role, referral_scope
from .models import Referral

#: case statuses in which the agency no longer sees the student (the case ended or never started)
ENDED_CASES = ("closed", "not_selected", "withdrawn")
#: why an agency sees none of a sent referral's shared items -> the sentence its pages show
HIDDEN_REASONS = {
    "cancelled": _l("학교가 의뢰를 취소하여 공유된 정보를 더 이상 볼 수 없습니다."),
    "case_ended": _l("학교의 지원이 종결되어 공유된 정보를 더 이상 볼 수 없습니다."),
    "consent": _l("동의가 철회되거나 만료되어 공유된 정보를 더 이상 볼 수 없습니다."),
}
#: how an alert or list names a student whose name the referral does not share (or no longer shows)
UNNAMED_STUDENT = "이름 비공개 학생"  # the Korean words (tests compare with them)
#: the same label in the reader's language (what pages and stored alerts use)
UNNAMED_LABEL = _l("이름 비공개 학생")


def shared_values(case, items: list[str]) -> dict:
    """The chosen items' values from the case and student, as they are now: a copy kept with the
    referral.  Labels (areas, risk, class, migrant background) and dates are kept as marked
    messages (stored_messages.pack_value), so each reader sees them in their language; pages
    show a value with the ``stored`` filter."""
    student = case.student
    values = {
        "student_name": lambda: student.name,
        "birth_date": lambda: student.birth_date,
        "school_grade": lambda: _l("%(school)s %(klass)s", school=case.school.name, klass=student.class_message),
        "student_phone": lambda: student.phone,
        "address": lambda: student.address,
        "parent_contact": lambda: " ".join(p for p in (student.parent_name, f"({student.parent_relation})"
                                                       if student.parent_relation else "", student.parent_phone) if p),
        "needs": lambda: [_l("%(area)s: %(description)s", area=n.domain_label, description=n.description or "")
                          for n in case.needs],
        "summary": lambda: case.summary,
        "risk_level": lambda: case.risk_label,
        "migrant": lambda: (_l("이주배경, 가정 언어 %(language)s", language=student.home_language)
                            if student.home_language else _l("이주배경")) if student.migrant_background
        else _l("해당 없음"),
    }
    return {item: pack_value(values[item]() or "") for item in items}


def _needs_consent(referral: Referral) -> bool:
    return (referral.status != "cancelled" and referral.case.status not in ENDED_CASES
            and referral.override_by_id is None)


def consented_pairs(referrals, day: dt.date | None = None) -> set[tuple[int, int]]:
    """(agency id, case id) of the ``referrals`` whose case's consent covers their agency on
    ``day``: one query per agency (the inbox and the agency home have one), not one per referral."""
    wanted: dict[int, set[int]] = defaultdict(set)
    for referral in referrals:
        if _needs_consent(referral):
            wanted[referral.agency_id].add(referral.case_id)
    pairs: set[tuple[int, int]] = set()
    for agency_id, case_ids in wanted.items():
        agency = db.session.get(Organisation, agency_id)
        pairs |= {(agency_id, case_id)
                  for case_id in covering_case_ids(case_ids, "agency_referral", agency, on=day)}
    return pairs


def _hidden(referral: Referral, consented: set[tuple[int, int]]) -> str | None:
    if referral.status == "cancelled":
        return "cancelled"
    if referral.case.status in ENDED_CASES:
        return "case_ended"
    if referral.override_by_id is None and (referral.agency_id, referral.case_id) not in consented:
        return "consent"
    return None


def hidden_reason(referral: Referral, day: dt.date | None = None) -> str | None:
    """Why the agency may not read a sent referral's shared items (a HIDDEN_REASONS code), or None.

    Need to know ends with the referral: once the school cancelled it, or the case closed (or was
    withdrawn), the agency keeps the referral's status and dates but no longer sees the student."""
    return _hidden(referral, consented_pairs([referral], day))


def shared_items_visible(referral: Referral, day: dt.date | None = None) -> dict:
    """What the agency may read: the frozen values while consent covers the agency (or the
    referral went under an override) and the referral and its case are still going; nothing
    once consent is withdrawn, the referral cancelled or the case closed."""
    return agency_projection(referral, day).shared


def agency_student_label(referral: Referral, day: dt.date | None = None) -> str:
    """The student as the agency may see them: the shared name, else "이름 비공개 학생"."""
    return agency_projection(referral, day).label


@dataclass
class AgencyProjection:
    """A student as an agency may see them through one referral, in the inbox and on the conference
    page alike: the label (the shared name, else "이름 비공개 학생") and the shared items it may
    still read (none once consent is withdrawn, the referral cancelled or the case ended)."""

    referral: Referral | None
    label: str
    shared: dict = field(default_factory=dict)
    #: why nothing is shown any more (a HIDDEN_REASONS code), or None
    hidden: str | None = None


def agency_projections(referrals, day: dt.date | None = None) -> list[AgencyProjection]:
    """The agency's projection of each referral's student, in order; consent is decided for all
    of them at once (``consented_pairs``), so a page of referrals costs the same as one."""
    referrals = list(referrals)
    consented = consented_pairs([r for r in referrals if r.sent_at is not None], day)
    seen = []
    for referral in referrals:
        hidden = _hidden(referral, consented) if referral.sent_at is not None else None
        shared = dict(referral.shared or {}) if referral.sent_at is not None and hidden is None else {}
        seen.append(AgencyProjection(referral, shared.get("student_name") or UNNAMED_LABEL, shared, hidden))
    return seen


def agency_projection(referral: Referral, day: dt.date | None = None) -> AgencyProjection:
    """The agency's projection of ``referral``'s student."""
    return agency_projections([referral], day)[0]


def is_overdue(referral: Referral, day: dt.date | None = None) -> bool:
    """Sent, not answered, and the response day has passed."""
    day = day or today_kst()
    return referral.status == "sent" and referral.respond_by is not None and referral.respond_by < day


def overdue_referrals(scope_condition, day: dt.date | None = None, limit: int | None = None) -> list[Referral]:
    """Overdue referrals within ``scope_condition`` (e.g. permissions.referral_scope(user)), oldest
    deadline first, with case, student, school and agency loaded (a constant number of queries)."""
    day = day or today_kst()
    query = (select(Referral).where(scope_condition, Referral.status == "sent", Referral.respond_by < day)
             .options(joinedload(Referral.agency), joinedload(Referral.case).options(
                 joinedload(SupportCase.school), selectinload(SupportCase.student)))
             .order_by(Referral.respond_by, Referral.id))
    if limit:
        query = query.limit(limit)
    return list(db.session.execute(query).unique().scalars())


def overdue_referrals_for(user, limit: int = 5, day: dt.date | None = None) -> list[Referral]:
    """The user's overdue referrals, at most ``limit``: their school's, or their district's for a
    coordinator (the district coordinator's home panel; the full list is agencies.overdue_referrals)."""
    if has_role(user, DISTRICT_COORDINATOR):
        # an office has thousands of cases but few overdue referrals: walk the overdue ones in
        # deadline order (status, respond_by index) and keep the office's, stopping at ``limit``,
        # rather than reading every referral of every case of the office
        in_office = exists().where(SupportCase.id == Referral.case_id, case_scope(user))
        return overdue_referrals(in_office, day, limit)
    return overdue_referrals(referral_scope(user), day, limit)


def overridden_referrals(scope_condition=None) -> list[Referral]:
    """Referrals sent without covering consent under a school lead's override (for auditors)."""
    query = select(Referral).where(Referral.override_by_id.is_not(None)).order_by(Referral.sent_at.desc())
    if scope_condition is not None:
        query = query.where(scope_condition)
    return list(db.session.execute(query).scalars())


def referrals_for_case(case) -> list[Referral]:
    """The case's referrals, newest first (for the case page's partial)."""
    return list(db.session.execute(select(Referral).where(Referral.case_id == case.id)
                                   .options(joinedload(Referral.agency))
                                   .order_by(Referral.created_at.desc(), Referral.id.desc())).scalars())


@dataclass
class ReferralCoverage:
    """What the case's consents in force allow for a referral, for the referral form: per party
    the agencies named and the agency kinds, and which of the offered agencies both parties
    cover (the rule of ``consent_covers``: each party, by the agency's name or its kind)."""

    #: party code -> {"agencies": [names], "kinds": [kinds]} (parties without a referral consent: empty)
    parties: dict[str, dict] = field(default_factory=dict)
    covered_ids: set[int] = field(default_factory=set)

    @property
    def missing_parties(self) -> list[str]:
        """The parties (codes) whose consents in force name no agency or kind."""
        return [p for p, scope in self.parties.items() if not (scope["agencies"] or scope["kinds"])]

    def covers(self, agency: Organisation | None) -> bool:
        return agency is not None and agency.id in self.covered_ids


def referral_coverage(case, agencies, day: dt.date | None = None) -> ReferralCoverage:
    """The referral consent of ``case`` on ``day`` and which of ``agencies`` it covers: the
    consents in force are read once (``active_consents``), whatever the number of agencies."""
    from ..cases.consent import active_consents
    from ..cases.models import CONSENT_PARTIES
    ids: dict[str, set[int]] = {party: set() for party in CONSENT_PARTIES}
    kinds: dict[str, set[str]] = {party: set() for party in CONSENT_PARTIES}
    for consent in active_consents(case, day):
        for purpose in consent.purposes:
            if purpose.purpose != "agency_referral" or consent.party not in ids:
                continue
            if purpose.agency_id is not None:
                ids[consent.party].add(purpose.agency_id)
            if purpose.agency_kind:
                kinds[consent.party].add(purpose.agency_kind)
    named = set().union(*ids.values())
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                    .where(Organisation.id.in_(named))).all()) if named else {}
    parties = {party: {"agencies": sorted(names[i] for i in ids[party] if i in names),
                       "kinds": sorted(kinds[party])} for party in CONSENT_PARTIES}
    covered = {a.id for a in agencies
               if all(a.id in ids[p] or (a.agency_kind is not None and a.agency_kind in kinds[p])
                      for p in CONSENT_PARTIES)}
    return ReferralCoverage(parties, covered)
