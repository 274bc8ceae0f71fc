"""Consent (법 11③): one record per party with its purposes; ``consent_covers`` is the single
question every sharing feature asks before it shares anything."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import selectinload

from .. import signals
from ..audit.services import record
from ..auth.models import Organisation
from ..db import today_kst
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..locking import lock_for_change
from ..permissions import SCHOOL_ROLES
from .chronology import add_event, listing
from .models import CONSENT_METHODS, CONSENT_PARTIES, CONSENT_PURPOSES, Consent, ConsentPurpose, SupportCase


def active_consents(case: SupportCase, on: dt.date | None = None) -> list[Consent]:
    """Consents of the case in force on ``on`` (default: today in Seoul)."""
    day = on or today_kst()
    consents = db.session.execute(
        select(Consent).where(Consent.case_id == case.id).options(selectinload(Consent.purposes))).scalars()
    return [c for c in consents if c.active_on(day)]


def both_parties_consented(case: SupportCase, on: dt.date | None = None) -> bool:
    """True when the student and the parent each have a consent in force."""
    return {c.party for c in active_consents(case, on)} >= set(CONSENT_PARTIES)


def consent_active_on(day: dt.date):
    """SQL condition on Consent: in force on ``day`` (the same rule as ``Consent.active_on``)."""
    return and_(Consent.given_on <= day, or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > day),
                or_(Consent.expires_on.is_(None), Consent.expires_on >= day))


def _purpose_condition(purpose: str, agency: Organisation | None):
    """SQL condition on ConsentPurpose: it covers ``purpose`` (a referral: to ``agency`` by name or kind)."""
    wanted = ConsentPurpose.purpose == purpose
    if purpose != "agency_referral":
        return wanted
    named = [ConsentPurpose.agency_id == agency.id]
    if agency.agency_kind is not None:
        named.append(ConsentPurpose.agency_kind == agency.agency_kind)
    return and_(wanted, or_(*named))


def covering_case_ids(case_ids, purpose: str, agency: Organisation | None = None,
                      on: dt.date | None = None) -> set[int]:
    """The cases (of ``case_ids``: ids, or a SQL select of ids) whose student and parent both
    consent on ``on`` (default: today in Seoul) to ``purpose`` — for a referral, to ``agency`` by
    name or by its kind.  One query, whatever the number of cases: the batch form of
    ``consent_covers``, which asks it for one case, so the two cannot disagree."""
    if purpose not in CONSENT_PURPOSES:
        raise ValueError(f"unknown consent purpose {purpose}")
    if purpose == "agency_referral" and agency is None:
        return set()
    if not isinstance(case_ids, Select):
        case_ids = list({int(i) for i in case_ids if i is not None})
        if not case_ids:
            return set()
    day = on or today_kst()
    covered = exists().where(ConsentPurpose.consent_id == Consent.id, _purpose_condition(purpose, agency))
    rows = db.session.execute(select(Consent.case_id, Consent.party).distinct()
                              .where(Consent.case_id.in_(case_ids), consent_active_on(day), covered))
    parties: dict[int, set[str]] = defaultdict(set)
    for case_id, party in rows:
        parties[case_id].add(party)
    return {case_id for case_id, found in parties.items() if found >= set(CONSENT_PARTIES)}


def consent_covers(case: SupportCase, purpose: str, agency: Organisation | None = None,
                   on: dt.date | None = None) -> bool:
    """Both the student and the parent consent, today, to ``purpose`` (for a referral: to this
    agency by name or by its kind).  Withdrawal or expiry stops the purpose at once."""
    return case.id in covering_case_ids([case.id], purpose, agency, on)


def consent_state(case: SupportCase) -> str:
    """A short summary for the case header, in the page's language."""
    parties = {c.party for c in active_consents(case)}
    if parties >= set(CONSENT_PARTIES):
        return gettext("학생·보호자 동의 완료")
    missing = [str(label) for party, label in CONSENT_PARTIES.items() if party not in parties]
    return gettext("%(parties)s 동의 필요", parties="·".join(missing))


def record_consent(case: SupportCase, actor, *, party: str, purposes: list[str], given_on: dt.date,
                   method: str, expires_on: dt.date | None = None, agency_ids: list[int] | None = None,
                   agency_kinds: list[str] | None = None) -> Consent:
    """Record one party's consent with its purposes (a referral purpose names agencies or kinds)."""
    if actor is None or actor.role not in SCHOOL_ROLES or actor.organisation_id != case.school_id:
        raise NotPermitted(gettext("이 사례의 동의를 기록할 권한이 없습니다."))
    if case.status in ("closed", "not_selected"):
        raise DomainError(gettext("종결되었거나 미선정된 사례에는 동의를 기록할 수 없습니다."), "party")
    if party not in CONSENT_PARTIES:
        raise DomainError(gettext("동의한 사람을 선택해 주세요."), "party")
    if method not in CONSENT_METHODS:
        raise DomainError(gettext("동의 방법을 선택해 주세요."), "method")
    if not purposes or any(p not in CONSENT_PURPOSES for p in purposes):
        raise DomainError(gettext("동의 목적을 하나 이상 선택해 주세요."), "purposes")
    if not isinstance(given_on, dt.date) or given_on > today_kst():
        raise DomainError(gettext("동의 날짜는 오늘 이후일 수 없습니다."), "given_on")
    if expires_on is not None and expires_on <= given_on:
        raise DomainError(gettext("만료일은 동의 날짜 이후여야 합니다."), "expires_on")
    agency_ids, agency_kinds = agency_ids or [], [k for k in (agency_kinds or []) if k]
    if "agency_referral" in purposes and not (agency_ids or agency_kinds):
        raise DomainError(gettext("의뢰에 동의한 기관이나 기관 종류를 선택해 주세요."), "agencies")
    consent = Consent(case_id=case.id, party=party, given_on=given_on, method=method,
                      expires_on=expires_on, recorded_by_id=actor.id)
    db.session.add(consent)
    db.session.flush()
    for purpose in purposes:
        if purpose != "agency_referral":
            db.session.add(ConsentPurpose(consent_id=consent.id, purpose=purpose))
    if "agency_referral" in purposes:
        for agency_id in agency_ids:
            db.session.add(ConsentPurpose(consent_id=consent.id, purpose="agency_referral", agency_id=agency_id))
        for kind in agency_kinds:
            db.session.add(ConsentPurpose(consent_id=consent.id, purpose="agency_referral", agency_kind=kind))
    add_event(case, "consent", _l("%(party)s 동의 기록 (%(method)s; %(purposes)s)", party=CONSENT_PARTIES[party],
                                  method=CONSENT_METHODS[method],
                                  purposes=listing([CONSENT_PURPOSES[p] for p in purposes])), actor)
    record("consent_recorded", obj=consent, subject=case.student, actor=actor,
           details={"party": party, "purposes": purposes, "method": method,
                    "expires_on": expires_on.isoformat() if expires_on else None})
    return consent


def withdraw_consent(consent: Consent, case: SupportCase, actor, *, withdrawn_on: dt.date | None = None) -> None:
    """Record a withdrawal; from that day nothing new is shared under this consent."""
    if actor is None or actor.role not in SCHOOL_ROLES or actor.organisation_id != case.school_id:
        raise NotPermitted(gettext("이 사례의 동의를 변경할 권한이 없습니다."))
    lock_for_change(consent, "withdrawn_on")  # a second withdrawal at the same moment loses
    if consent.withdrawn_on is not None:
        raise DomainError(gettext("이미 철회된 동의입니다."), "withdrawn_on")
    day = withdrawn_on or today_kst()
    if day > today_kst() or day < consent.given_on:
        raise DomainError(gettext("철회 날짜를 확인해 주세요."), "withdrawn_on")
    consent.withdrawn_on = day
    add_event(case, "consent", _l("%(party)s 동의 철회", party=CONSENT_PARTIES[consent.party]), actor)
    record("consent_withdrawn", obj=consent, subject=case.student, actor=actor, details={"party": consent.party})
    # withdrawal stops new sharing at once: every feature that shares under this consent reacts
    signals.consent_withdrawn.send(case, **_consent_kwargs(consent, actor))


def _consent_kwargs(consent: Consent, actor) -> dict:
    return {"actor": actor, "consent": consent, "party": consent.party,
            "purposes": sorted({p.purpose for p in consent.purposes}),
            "agency_ids": sorted({p.agency_id for p in consent.purposes if p.agency_id})}


def lapsed_consents(day: dt.date) -> list[int]:
    """Ids of consents that expired before ``day`` and whose consequences have not run yet."""
    return list(db.session.execute(select(Consent.id).where(
        Consent.expires_on < day, Consent.withdrawn_on.is_(None), Consent.lapse_handled_on.is_(None))
        .order_by(Consent.id)).scalars())


def handle_lapsed_consent(consent: Consent, day: dt.date) -> None:
    """An expired consent stops sharing like a withdrawal (actor None: the daily command)."""
    case = db.session.get(SupportCase, consent.case_id)
    consent.lapse_handled_on = day
    add_event(case, "consent", _l("%(party)s 동의 만료 (%(day)s)", party=CONSENT_PARTIES[consent.party],
                                  day=consent.expires_on))
    record("consent_expired", obj=consent, subject=case.student, actor=None,
           details={"party": consent.party, "expires_on": consent.expires_on.isoformat()})
    signals.consent_expired.send(case, **_consent_kwargs(consent, None))
