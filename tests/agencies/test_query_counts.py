"""The agency coordinator's home and inbox run the same number of SQL statements whatever the
number of referrals (consent is decided for a whole page at once), still hide what consent no
longer covers; the batch consent question agrees with the single one; the directory import
checks its duplicates in a constant number of queries."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.agencies import csv_io
from app.agencies.referrals import create_referral, send_referral
from app.cases.consent import consent_covers, covering_case_ids, record_consent, withdraw_consent
from app.cases.models import Consent
from app.db import today_kst
from app.extensions import db

from ..cases.test_page_views import sign_in
from ..factories import consent_both
from ..querycount import counting

KIND = "청소년상담복지센터"


def _refer(build, agency, school, lead, *, items=("student_name", "needs"), status="sent", consent=True,
           withdrawn=False, late=False):
    """One in-support case referred to ``agency``; ``withdrawn``: consent withdrawn after sending."""
    case = build.case(school, status="in_support", lead=lead)
    if consent:
        consent_both(case, lead, purposes=("agency_referral",), agency_kinds=[KIND])
    referral = create_referral(case, lead, agency=agency, reason="상담 연계", shared_items=list(items))
    send_referral(referral, lead, **({} if consent else {"override_reason": "학대 의심", "override_category": "child_abuse"}))
    if status != "sent":
        referral.status = status
    if late:
        referral.respond_by = today_kst() - dt.timedelta(days=2)
    if withdrawn:
        for c in db.session.execute(select(Consent).filter_by(case_id=case.id)).scalars().all():
            withdraw_consent(c, case, lead)
    db.session.commit()
    return referral


def _grow(build, agency, school, lead, n: int) -> dict:
    """``n`` referrals of every kind the inbox and home show; returns the uids by kind."""
    made = {"named": [], "hidden": [], "override": [], "accepted": [], "late": []}
    for _ in range(n):
        made["named"].append(_refer(build, agency, school, lead).uid)
        made["hidden"].append(_refer(build, agency, school, lead, withdrawn=True).uid)
        made["override"].append(_refer(build, agency, school, lead, consent=False).uid)
        made["accepted"].append(_refer(build, agency, school, lead, status="accepted").uid)
        made["late"].append(_refer(build, agency, school, lead, late=True).uid)
    return made


@pytest.fixture
def world(build):
    agency = build.agency(agency_kind=KIND)
    coordinator = build.user("agency_coordinator", organisation=agency)
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    return agency, coordinator, school, lead


def _get(app, user, url):
    """(statements, html) of one page, read with an empty session: nothing the builders loaded
    may hide a lazy load.  The caller's objects stay usable (merged back)."""
    client = sign_in(app, user)
    kept = list(db.session.identity_map.values())
    db.session.expunge_all()
    with counting() as seen:
        response = client.get(url)
    assert response.status_code == 200
    db.session.expunge_all()
    for obj in kept:
        db.session.add(obj)
    return len(seen), response.get_data(as_text=True)


def _names(html: str) -> set[str]:
    return set(re.findall(r'href="/agencies/inbox/([0-9a-f-]{36})">([^<]+)</a>', html))


def test_inbox_and_home_do_not_grow_with_referrals(app, build, world):
    agency, coordinator, school, lead = world
    made = _grow(build, agency, school, lead, 1)
    counts = {url: _get(app, coordinator, url)[0] for url in ("/agencies/inbox", "/home/agency")}
    for kind, uids in _grow(build, agency, school, lead, 6).items():  # 35 referrals: two inbox pages
        made[kind] += uids
    shown = {}
    for url in ("/agencies/inbox", "/agencies/inbox?page=2", "/home/agency"):
        n, html = _get(app, coordinator, url)
        assert n == counts[url.split("?")[0]], url
        if "inbox" in url:
            shown.update(_names(html))
    # every referral is listed once, by name only while consent (or an override) covers it
    assert set(shown) == {uid for uids in made.values() for uid in uids}
    assert {shown[uid].strip() for uid in made["hidden"]} == {"이름 비공개 학생"}
    for kind in ("named", "override", "accepted", "late"):
        assert "이름 비공개 학생" not in {shown[uid].strip() for uid in made[kind]}, kind


def test_inbox_rows_keep_the_consent_rules(app, build, world):
    agency, coordinator, school, lead = world
    named = _refer(build, agency, school, lead)
    hidden = _refer(build, agency, school, lead, withdrawn=True)
    unnamed = _refer(build, agency, school, lead, items=("needs",))
    override = _refer(build, agency, school, lead, consent=False)
    _n, html = _get(app, coordinator, "/agencies/inbox")
    rows = dict(_names(html))
    assert rows[named.uid].strip() == named.case.student.name
    assert rows[hidden.uid].strip() == "이름 비공개 학생" and hidden.case.student.name not in html
    assert rows[unnamed.uid].strip() == "이름 비공개 학생" and unnamed.case.student.name not in html
    assert rows[override.uid].strip() == override.case.student.name  # sent under a lead's override


def test_agency_home_counts_in_sql_and_lists_overdue_first(app, build, world):
    agency, coordinator, school, lead = world
    for _ in range(12):
        _refer(build, agency, school, lead, items=("needs",))
    late = _refer(build, agency, school, lead, late=True)
    accepted = _refer(build, agency, school, lead, status="accepted")
    _n, html = _get(app, coordinator, "/home/agency")
    assert 'data-testid="home-waiting-total">13<' in html and 'data-testid="home-in-service-total">1<' in html
    waiting = html[html.index('data-testid="home-waiting"'):html.index('id="p-in_service"')]
    assert waiting.count('data-testid="inbox-row"') == 10 and "13건 중 10건" in waiting
    assert waiting.index(late.uid) < waiting.index('data-status="sent">', waiting.index(late.uid) + 1)
    assert accepted.uid in html[html.index('id="p-in_service"'):]


def test_batch_consent_agrees_with_the_single_question(build):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    named_agency, kind_agency, other = build.agency(agency_kind=KIND), build.agency(agency_kind=KIND), \
        build.agency(agency_kind="가족센터")
    today = today_kst()
    both = build.case(school, status="planning", lead=lead)
    consent_both(both, lead, purposes=("agency_referral", "conference_sharing"), agency_ids=[named_agency.id])
    by_kind = build.case(school, status="planning", lead=lead)
    consent_both(by_kind, lead, purposes=("agency_referral",), agency_kinds=[KIND])
    one_party = build.case(school, status="planning", lead=lead)
    record_consent(one_party, lead, party="student", purposes=["agency_referral", "guardian_matching"],
                   given_on=today - dt.timedelta(days=3), method="written", agency_kinds=[KIND])
    expiring = build.case(school, status="planning", lead=lead)
    consent_both(expiring, lead, purposes=("guardian_matching",), expires_on=today + dt.timedelta(days=2))
    withdrawn = build.case(school, status="planning", lead=lead)
    for consent in consent_both(withdrawn, lead, purposes=("conference_sharing",)):
        withdraw_consent(consent, withdrawn, lead)
    none = build.case(school, status="planning", lead=lead)
    db.session.commit()
    cases = [both, by_kind, one_party, expiring, withdrawn, none]
    days = [today, today + dt.timedelta(days=2), today + dt.timedelta(days=3), today - dt.timedelta(days=1)]
    questions = [("agency_referral", a) for a in (named_agency, kind_agency, other, None)] + \
        [("conference_sharing", None), ("guardian_matching", None)]
    for purpose, agency in questions:
        for day in days:
            single = {c.id for c in cases if consent_covers(c, purpose, agency, on=day)}
            assert covering_case_ids([c.id for c in cases], purpose, agency, on=day) == single, (purpose, day)
    assert covering_case_ids([both.id], "agency_referral", named_agency) == {both.id}
    assert covering_case_ids([by_kind.id], "agency_referral", other) == set()
    assert covering_case_ids([expiring.id], "guardian_matching", on=today + dt.timedelta(days=3)) == set()
    assert covering_case_ids([], "conference_sharing") == set()
    with pytest.raises(ValueError):
        covering_case_ids([both.id], "marketing")
    with counting() as seen:
        covering_case_ids([c.id for c in cases], "agency_referral", kind_agency)
    assert len(seen) == 1


HEADER = ",".join(csv_io.COLUMNS)


def _directory(n: int, existing: str) -> bytes:
    lines = [HEADER] + [f"{existing if i % 2 else f'새센터{n}-{i}'},가족센터,상담 {i},,counselling,7,15,,available,"
                        f"마포구,,,,," for i in range(n)]
    return "\n".join(lines).encode("utf-8")


def test_directory_import_checks_duplicates_in_constant_queries(build):
    seobu = build.user("district_coordinator", organisation=build.organisation("district_office", gu="마포구"))
    existing = build.agency(gu="마포구", name="마포가족센터", agency_kind="가족센터")
    selects = []
    for n in (2, 25):
        db.session.expire_all()  # both runs start from the same cold session
        with counting() as seen:
            assert csv_io.import_directory(seobu, _directory(n, existing.name)) == n
        db.session.commit()
        selects.append(len([s for s in seen if s.lstrip().upper().startswith("SELECT")]))
    assert selects[0] == selects[1]
    services = db.session.execute(select(csv_io.AgencyService).where(
        csv_io.AgencyService.organisation_id == existing.id)).scalars().all()
    assert len(services) == 1 + 12  # the odd rows of both files joined the existing agency
