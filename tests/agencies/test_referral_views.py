"""The school side's referral screens over HTTP: write and send, follow and cancel, the
coordinator's overdue list; out of scope is an audited 404."""
from __future__ import annotations

import datetime as dt
import html as htmllib
import re

import pytest
from flask import g, render_template, render_template_string
from freezegun import freeze_time
from sqlalchemy import select

from app.agencies import referrals as r
from app.agencies.models import Referral
from app.audit.models import AuditEvent
from app.db import today_kst
from app.lifecycle import page_sections

from ..factories import DEFAULT_PASSWORD
from .test_referrals import draft, make_world


def sign_in(app, user):
    g.pop("_login_user", None)
    client = app.test_client()
    assert client.post("/login", data={"login": user.login, "password": DEFAULT_PASSWORD}).status_code == 302
    return client


def text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def form_data(w, action: str, **extra) -> dict:
    return {"agency": str(w.agency.id), "service": str(w.service.id), "reason": "정서 상담 필요",
            "shared_items": ["student_name", "needs"], "action": action, **extra}


@pytest.fixture
def world(build, agency_with_service):
    return make_world(build, agency_with_service)


def test_new_referral_page_offers_office_agencies_nothing_checked(app, db, world):
    client = sign_in(app, world.lead)
    page = text(client.get(f"/agencies/referrals/new/{world.case.uid}?agency={world.agency.uid}"))
    assert world.agency.name in page and world.service.name in page
    assert f'<option data-covered="yes" selected value="{world.agency.id}">' in page  # consent covers its kind
    assert "checked" not in page
    assert "동의 없이 보내는 사유" in page
    staff_page = text(sign_in(app, world.staff).get(f"/agencies/referrals/new/{world.case.uid}"))
    assert "동의 없이 보내는 사유" not in staff_page


def test_save_draft_then_send_from_the_referral_page(app, db, world):
    client = sign_in(app, world.staff)
    response = client.post(f"/agencies/referrals/new/{world.case.uid}", data=form_data(world, "draft"))
    assert response.status_code == 302
    referral = db.session.execute(select(Referral)).scalar_one()
    assert referral.status == "draft" and referral.shared_items == ["student_name", "needs"]
    page = text(client.get(f"/agencies/referrals/{referral.uid}"))
    assert "작성 중" in page and 'data-testid="send-form"' in page
    assert client.post(f"/agencies/referrals/{referral.uid}/send", data={}).status_code == 302
    db.session.refresh(referral)
    assert referral.status == "sent"
    assert db.session.execute(select(AuditEvent).filter_by(action="referral_viewed")).first()


def test_send_without_consent_is_refused_and_nothing_saved(app, db, build, agency_with_service):
    w = make_world(build, agency_with_service, consent=False)
    client = sign_in(app, w.staff)
    response = client.post(f"/agencies/referrals/new/{w.case.uid}", data=form_data(w, "send"))
    assert response.status_code == 400 and "동의해야 보낼 수 있습니다" in text(response)
    assert db.session.execute(select(Referral)).first() is None
    forced = client.post(f"/agencies/referrals/new/{w.case.uid}", data=form_data(w, "send", override_reason="긴급", override_category="medical"))
    assert forced.status_code == 403
    lead = sign_in(app, w.lead)
    ok = lead.post(f"/agencies/referrals/new/{w.case.uid}", data=form_data(w, "send", override_reason="학대 의심", override_category="child_abuse"))
    assert ok.status_code == 302
    referral = db.session.execute(select(Referral)).scalar_one()
    assert referral.status == "sent" and referral.override_by_id == w.lead.id


def test_no_items_is_a_form_error(app, db, world):
    data = form_data(world, "draft")
    data.pop("shared_items")
    response = sign_in(app, world.staff).post(f"/agencies/referrals/new/{world.case.uid}", data=data)
    assert response.status_code == 400 and "하나 이상" in text(response)


def test_cancel_with_reason(app, db, world):
    referral = draft(world)
    r.send_referral(referral, world.staff)
    db.session.commit()
    client = sign_in(app, world.staff)
    assert client.post(f"/agencies/referrals/{referral.uid}/cancel", data={"reason": ""}).status_code == 400
    assert client.post(f"/agencies/referrals/{referral.uid}/cancel", data={"reason": "전학"}).status_code == 302
    db.session.refresh(referral)
    assert referral.status == "cancelled" and referral.outcome_note == "전학"
    again = client.post(f"/agencies/referrals/{referral.uid}/cancel", data={"reason": "전학"})
    assert again.status_code == 400


def test_other_school_and_agency_get_an_audited_404(app, db, build, world):
    referral = draft(world)
    r.send_referral(referral, world.staff)
    db.session.commit()
    stranger = build.user("school_lead", organisation=build.school())
    for user in (stranger, world.agent):  # the agency reads it in its portal, not here
        client = sign_in(app, user)
        assert client.get(f"/agencies/referrals/{referral.uid}").status_code == 404
        assert client.post(f"/agencies/referrals/{referral.uid}/cancel", data={"reason": "x"}).status_code == 404
    denied = db.session.execute(select(AuditEvent).filter_by(action="permission_denied",
                                                             object_type="referral")).scalars().all()
    assert len(denied) == 4
    assert sign_in(app, stranger).get(f"/agencies/referrals/new/{world.case.uid}").status_code == 404


def test_overdue_list_for_coordinators_and_the_school_team(app, db, build, world):
    referral = draft(world)
    r.send_referral(referral, world.staff)
    referral.respond_by = today_kst() - dt.timedelta(days=1)
    db.session.commit()
    page = sign_in(app, world.coordinator).get("/agencies/referrals/overdue")
    assert page.status_code == 200 and world.agency.name in text(page)
    assert text(page).count('data-testid="overdue-referral"') == 1 and world.case.student.name in text(page)
    assert "1일 지남" in text(page) and referral.respond_by.isoformat() not in text(page)  # dates for people
    far = build.user("district_coordinator", organisation=build.organisation("district_office", gu="강남구"))
    assert 'data-testid="overdue-referral"' not in text(sign_in(app, far).get("/agencies/referrals/overdue"))
    own_school = text(sign_in(app, world.staff).get("/agencies/referrals/overdue"))
    assert own_school.count('data-testid="overdue-referral"') == 1
    stranger = build.user("school_lead", organisation=build.school())
    assert 'data-testid="overdue-referral"' not in text(sign_in(app, stranger).get("/agencies/referrals/overdue"))
    for role in ("agency_coordinator", "guardian", "auditor"):
        assert sign_in(app, build.user(role)).get("/agencies/referrals/overdue").status_code == 403
    page = text(sign_in(app, world.staff).get(f"/agencies/referrals/{referral.uid}"))
    assert 'data-testid="overdue"' in page and 'href="/agencies/referrals/overdue"' in page
    assert re.search(r'data-testid="overdue">회신 기한 \d+일 지남</a>', page)  # the days, as on the case page


def test_overdue_list_is_linked_from_the_directory(app, db, build, world):
    for user in (world.coordinator, world.staff):
        page = text(sign_in(app, user).get("/agencies/"))
        assert 'data-testid="overdue-list-link"' in page and 'href="/agencies/referrals/overdue"' in page
    assert 'data-testid="overdue-list-link"' not in text(sign_in(app, world.agent).get("/agencies/"))


def test_case_section_renders(app, db, world):
    referral = draft(world)
    r.send_referral(referral, world.staff)
    referral.respond_by = today_kst() - dt.timedelta(days=1)
    db.session.commit()
    with app.test_request_context("/"):
        [section] = [s for s in page_sections(world.case, world.staff) if s.template == "agencies/_case_section.html"]
        html = render_template(section.template, section=section, case=world.case)
    assert section.order == 20 and section.context["referrals"] == [referral]
    assert "의뢰됨" in html and "회신 기한 1일 지남" in html and "학생 이름" in html


def case_page_referral(app, world, day: dt.date, uid: str) -> tuple[str, str]:
    """(the referral's entry on the real case page, the page) as the school staff sees them at
    noon KST on ``day`` (signed in that day: the session of another day has long gone idle)."""
    with freeze_time(dt.datetime.combine(day, dt.time(3, 0))):  # 03:00 UTC is 12:00 KST
        response = sign_in(app, world.staff).get(f"/cases/{world.case.uid}")
    assert response.status_code == 200
    page = text(response)
    section = re.search(r'<section[^>]*data-testid="case-referrals".*?</section>', page, re.S)
    assert section, "no referral section on the case page"
    entries = re.findall(r'<li data-testid="referral" data-status="(\w+)">(.*?)</li>', section.group(0), re.S)
    entry = [body for _status, body in entries if f'href="/agencies/referrals/{uid}"' in body]
    assert len(entry) == 1, entries
    return entry[0], page


def sent_referral(db, world) -> Referral:
    """A referral sent today (the deadline is the app's: business days from today)."""
    referral = draft(world)
    r.send_referral(referral, world.staff)
    db.session.commit()
    assert referral.status == "sent" and referral.respond_by > today_kst()
    return referral


def test_case_page_shows_the_overdue_badge_of_a_referral_past_its_deadline(app, db, world):
    """Through the real case page (GET /cases/<uid> as the school staff), not the partial alone:
    on the deadline day no badge; three days after it, the badge links to the overdue list and
    the entry gives the deadline in the reader's date style."""
    referral = sent_referral(db, world)
    due = referral.respond_by
    with app.test_request_context("/"):
        due_text = render_template_string("{{ d|kdate }}", d=due)
    on_the_day, _page = case_page_referral(app, world, due, referral.uid)
    assert 'data-testid="referral-overdue"' not in on_the_day and f"회신 기한 {due_text}" in on_the_day
    late, page = case_page_referral(app, world, due + dt.timedelta(days=3), referral.uid)
    badge = re.search(r'<a class="krds-badge outline-danger" href="([^"]+)" data-testid="referral-overdue">(.*?)</a>', late)
    assert badge and badge.groups() == ("/agencies/referrals/overdue", "회신 기한 3일 지남")
    assert f"회신 기한 {due_text}" in late and world.agency.name in late
    assert page.count('data-testid="referral-overdue"') == 1
    # once the agency has answered, the same day shows no badge: only a waiting referral is late
    r.accept_referral(referral, world.agent)
    db.session.commit()
    answered, _page = case_page_referral(app, world, due + dt.timedelta(days=3), referral.uid)
    assert 'data-testid="referral-overdue"' not in answered


def test_case_page_overdue_referral_badge_counts_the_days(app, db, world):
    referral = sent_referral(db, world)
    late, _page = case_page_referral(app, world, referral.respond_by + dt.timedelta(days=3), referral.uid)
    badge = re.search(r'data-testid="referral-overdue">(.*?)</a>', late)
    assert badge and "3일 지남" in badge.group(1)
