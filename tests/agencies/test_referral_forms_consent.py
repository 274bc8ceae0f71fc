"""The referral form shows what the case's consent covers: per party the named agencies and the
agency kinds, the covered agencies of the office, and an uncovered agency marked in the select;
the coverage agrees with consent_covers, the rule that decides sending."""
from __future__ import annotations

import datetime as dt
import html as htmllib
import re

from flask import g
from sqlalchemy import select

from app.agencies.models import Referral
from app.agencies.referral_queries import referral_coverage
from app.agencies.referral_forms import office_agencies
from app.cases.consent import consent_covers, record_consent, withdraw_consent
from app.db import today_kst

from ..factories import DEFAULT_PASSWORD
from .test_referrals import make_world


def sign_in(app, user):
    g.pop("_login_user", None)
    client = app.test_client()
    assert client.post("/login", data={"login": user.login, "password": DEFAULT_PASSWORD}).status_code == 302
    return client


def page_of(client, case) -> str:
    response = client.get(f"/agencies/referrals/new/{case.uid}")
    assert response.status_code == 200
    return htmllib.unescape(response.get_data(as_text=True))


def option(page: str, agency) -> str:
    found = re.search(rf'<option[^>]*value="{agency.id}"[^>]*>[^<]*</option>', page)
    assert found, agency.name
    return found.group(0)


def test_form_lists_kinds_and_marks_uncovered_agencies(app, db, build, agency_with_service):
    w = make_world(build, agency_with_service)  # both parties consent to the agency's kind
    other = build.agency(gu="마포구", agency_kind="가족센터")
    assert w.agency.agency_kind != other.agency_kind
    page = page_of(sign_in(app, w.staff), w.case)
    scope = page[page.index('data-testid="consent-scope"'):]
    assert f"기관 종류: {w.agency.agency_kind}" in scope
    covered = scope[scope.index('data-testid="covered-agencies"'):scope.index("</ul>")]
    assert w.agency.name in covered and other.name not in covered
    assert 'data-covered="yes"' in option(page, w.agency) and "동의 범위 밖" not in option(page, w.agency)
    assert 'data-covered="no"' in option(page, other) and "동의 범위 밖" in option(page, other)


def test_named_agency_needs_both_parties(app, db, build, agency_with_service):
    w = make_world(build, agency_with_service, consent=False)
    given = today_kst() - dt.timedelta(days=1)
    record_consent(w.case, w.lead, party="student", purposes=["agency_referral"], given_on=given,
                   method="written", agency_ids=[w.agency.id])
    db.session.commit()
    page = page_of(sign_in(app, w.staff), w.case)
    student = page[page.index('data-party="student"'):page.index('data-party="parent"')]
    parent = page[page.index('data-party="parent"'):]
    assert w.agency.name in student and "의뢰 동의 없음" in parent[:parent.index("</div>")]
    assert 'data-testid="no-covered-agency"' in page and "동의 범위 밖" in option(page, w.agency)
    record_consent(w.case, w.lead, party="parent", purposes=["agency_referral"], given_on=given,
                   method="written", agency_ids=[w.agency.id])
    db.session.commit()
    page = page_of(sign_in(app, w.staff), w.case)
    assert 'data-covered="yes"' in option(page, w.agency)


def test_coverage_agrees_with_consent_covers(app, db, build, agency_with_service):
    w = make_world(build, agency_with_service)
    named = build.agency(gu="마포구", agency_kind="가족센터")
    given = today_kst() - dt.timedelta(days=2)
    for party in ("student", "parent"):
        record_consent(w.case, w.lead, party=party, purposes=["agency_referral"], given_on=given,
                       method="written", agency_ids=[named.id])
    db.session.commit()
    agencies = office_agencies(w.case.school.office_code)
    assert len(agencies) >= 2

    def agree():
        coverage = referral_coverage(w.case, agencies)
        for agency in agencies:
            assert coverage.covers(agency) == consent_covers(w.case, "agency_referral", agency), agency.name
        return coverage
    assert agree().covered_ids == {w.agency.id, named.id}
    withdraw_consent(w.consents[1], w.case, w.lead)  # the parent's consent to the kind ends
    db.session.commit()
    assert agree().covered_ids == {named.id}


def test_uncovered_agency_still_refused_and_lead_override_kept(app, db, build, agency_with_service):
    w = make_world(build, agency_with_service, consent=False)
    data = {"agency": str(w.agency.id), "reason": "정서 상담 필요", "shared_items": ["needs"], "action": "send"}
    refused = sign_in(app, w.staff).post(f"/agencies/referrals/new/{w.case.uid}", data=data)
    body = htmllib.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400 and "동의해야 보낼 수 있습니다" in body
    assert 'data-testid="consent-scope"' in body and "동의 범위 밖" in option(body, w.agency)
    assert db.session.execute(select(Referral)).first() is None
    lead_page = page_of(sign_in(app, w.lead), w.case)
    assert "동의 없이 보내는 사유" in lead_page and "학교 지원팀장이 긴급 사유" in lead_page
    sent = sign_in(app, w.lead).post(f"/agencies/referrals/new/{w.case.uid}",
                                     data={**data, "override_category": "child_abuse", "override_reason": "학대 의심"})
    assert sent.status_code == 302
    assert db.session.execute(select(Referral.status)).scalar_one() == "sent"
