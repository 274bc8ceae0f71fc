"""Referrals of supported cases to the agencies their consents name (so the busiest agencies
follow the Zipf-like popularity), in every state: recent ones waiting (some past their response
day), accepted and in service, finished; service records for the ones that were served."""
from __future__ import annotations

import datetime as dt

from ...agencies.models import (DECLINE_REASONS, OVERRIDE_CATEGORIES, REFERRAL_STATUSES, SERVICE_KINDS, Referral,
                                ServiceRecord)
from ...business_days import add_business_days
from .build import Build, Case
from .casework import chronology
from .words import REFERRAL_REASONS, SERVICE_NOTES

#: where referrals of a case that is still supported stand, and of a finished case
ACTIVE_MIX = (("draft", 0.03), ("sent", 0.12), ("accepted", 0.10), ("in_service", 0.27), ("completed", 0.22),
              ("declined", 0.09), ("failed", 0.05), ("cancelled", 0.12))
DONE_MIX = (("completed", 0.55), ("declined", 0.12), ("failed", 0.10), ("cancelled", 0.23))
ACTIVE_CASES = ("planning", "in_support", "monitoring")
ITEMS = ("student_name", "school_grade", "needs", "risk_level", "summary", "parent_contact")


def build_referrals(b: Build, tick) -> None:
    actives = [s for s, _ in ACTIVE_MIX], [p for _, p in ACTIVE_MIX]
    dones = [s for s, _ in DONE_MIX], [p for _, p in DONE_MIX]
    for case in b.cases:
        if case.agencies and case.consent_on:
            for agency_id in case.agencies:
                statuses, weights = actives if case.status in ACTIVE_CASES else dones
                one(b, case, agency_id, b.rng.choices(statuses, weights)[0])
        tick(1)
    b.writer.flush()


def _day_between(b: Build, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=b.rng.randrange(max(1, (end - start).days + 1)))


def one(b: Build, case: Case, agency_id: int, status: str) -> int:
    rng, w = b.rng, b.writer
    if status == "sent":  # waiting for an answer: sent in the last three weeks
        sent = max(case.consent_on, b.day_ago(rng.randrange(0, 21)))
    else:
        sent = _day_between(b, case.consent_on, min(case.until, b.today))
    created = b.at(sent, 9)
    teacher, agency_user = case.owner_id, rng.choice(b.agency_users[agency_id])
    uid = b.uid()
    items = rng.sample(ITEMS, rng.randrange(2, 5))
    shared = {"student_name": case.student_name, "school_grade": "재학 중", "needs": ", ".join(case.need_domains),
              "risk_level": case.risk, "summary": "요청 내용 요약", "parent_contact": "보호자 연락처"}
    sent_at = None if status == "draft" else b.at(sent, 10)
    answered = status not in ("draft", "sent") and not (status == "cancelled" and rng.random() < 0.5)
    responded = b.at(min(b.today, add_business_days(sent, rng.randrange(0, 5)))) if answered else None
    if responded and sent_at and responded < sent_at:
        responded = b.clamp(sent_at + dt.timedelta(hours=2))
    finished = status in ("completed", "failed", "cancelled", "declined")
    closed = None
    if finished:
        closed = b.at(min(b.today, sent + dt.timedelta(days=rng.randrange(3, 120))))
        closed = b.clamp(max(closed, (responded or sent_at or created) + dt.timedelta(hours=1)))
    override = not case.consented and case.withdrawn_on is None and rng.random() < 0.5 and status != "draft"
    withdrawn_at = b.at(case.withdrawn_on) if case.withdrawn_on and case.withdrawn_on >= sent else None
    service_id = rng.choice(b.agency_services[agency_id])
    ref_id = w[Referral].add(
        uid=uid, case_id=case.id, agency_id=agency_id, service_id=service_id, status=status, created_by_id=teacher,
        shared_items=items, sent_at=sent_at, sent_by_id=teacher if sent_at else None,
        respond_by=add_business_days(sent, 5) if sent_at else None, responded_at=responded,
        responded_by_id=agency_user if responded else None,
        decline_reason=rng.choice(list(DECLINE_REASONS)) if status == "declined" else None,
        closed_at=closed, consent_withdrawn_at=withdrawn_at, override_by_id=case.lead_id if override else None,
        override_category=rng.choice(list(OVERRIDE_CATEGORIES)) if override else None,
        reason=rng.choice(REFERRAL_REASONS), shared={k: shared[k] for k in items},
        decline_comment="이번 학기 정원이 마감되었습니다." if status == "declined" else None,
        override_reason="보호자 연락 두절, 아동학대 의심으로 긴급 연계" if override else None,
        outcome_note="서비스 종결, 목표 달성" if status in ("completed", "failed") else None,
        created_at=created, updated_at=closed or responded or created)
    b.referrals[ref_id] = (uid, case, agency_id, status, sent if sent_at else None)
    chronology(b, case, created, "referral", "기관 의뢰 작성", teacher)
    b.audit(created, teacher, "referral_created", "referral", uid, case.student_uid, {"agency": agency_id})
    if sent_at:
        chronology(b, case, sent_at, "referral", "기관 의뢰 발송", teacher)
        b.audit(sent_at, teacher, "referral_sent", "referral", uid, case.student_uid)
    if responded:
        action = "referral_declined" if status == "declined" else "referral_accepted"
        b.audit(responded, agency_user, action, "referral", uid, case.student_uid)
    if status in ("in_service", "completed", "failed"):
        start = (responded or created).date()
        for _ in range(rng.randrange(1, 5)):
            day = _day_between(b, start, (closed.date() if closed else b.today))
            note_uid = b.uid()
            when = b.at(day)
            w[ServiceRecord].add(uid=note_uid, referral_id=ref_id, occurred_on=day, created_at=when,
                                 kind=rng.choice(list(SERVICE_KINDS)), created_by_id=agency_user,
                                 note=rng.choice(SERVICE_NOTES))
            b.audit(when, agency_user, "referral_service_recorded", "referral_service_record", note_uid,
                    case.student_uid)
    if closed:
        actor = agency_user if status in ("completed", "failed", "declined") else case.lead_id
        b.audit(closed, actor, f"referral_{status}", "referral", uid, case.student_uid)
        chronology(b, case, closed, "referral", f"기관 의뢰 {REFERRAL_STATUSES[status]}", actor)
    return ref_id
