"""Emergency overrides: the lead picks a reason category and writes the reason; the audit trail keeps
the category and the referral's uid only, the text stays encrypted in the referral for the school team."""
from __future__ import annotations

import html as htmllib

import pytest
from sqlalchemy import select, text

from app.agencies import referrals as r
from app.agencies.models import OVERRIDE_CATEGORIES, Referral
from app.audit.chain import verify_chain
from app.audit.models import AuditEvent
from app.domain import DomainError

from .conftest import agency_with_service  # noqa: F401  (fixture)
from .test_referral_views import form_data, sign_in
from .test_referrals import draft, make_world

REASON = "새벽에 아버지가 때렸다고 함, 얼굴에 멍"


def trail_text(db) -> str:
    """Every value of every audit event, as one string."""
    return " ".join(str(v) for row in db.session.execute(text("SELECT * FROM audit_event")) for v in row)


@pytest.fixture
def unconsented(build, agency_with_service):
    return make_world(build, agency_with_service, consent=False)


def test_categories_are_the_short_list():
    assert list(OVERRIDE_CATEGORIES.values()) == ["아동학대 의심", "자해·자살 위험", "긴급 의료", "가정 내 위기", "기타"]


def test_override_event_keeps_category_and_pointer_never_the_text(db, unconsented):
    referral = draft(unconsented)
    r.send_referral(referral, unconsented.lead, override_reason=REASON, override_category="self_harm")
    db.session.commit()
    event = db.session.execute(select(AuditEvent).filter_by(action="referral_sent")).scalar_one()
    assert event.reason == "자해·자살 위험" and event.object_id == referral.uid
    assert '"override_category":"self_harm"' in event.details
    assert REASON not in trail_text(db) and "멍" not in trail_text(db)
    db.session.expire_all()
    stored = db.session.get(Referral, referral.id)
    assert stored.override_reason == REASON and stored.override_category == "self_harm"
    raw = db.session.execute(text("SELECT override_reason_enc FROM referral WHERE id = :id"), {"id": referral.id})
    assert REASON not in raw.scalar_one()
    assert verify_chain().ok


@pytest.mark.parametrize("category, reason, field", [
    (None, REASON, "override_category"), ("", REASON, "override_category"), ("made_up", REASON, "override_category"),
    ("child_abuse", "  ", "override_reason"),
])
def test_category_and_reason_are_both_required(db, unconsented, category, reason, field):
    referral = draft(unconsented)
    with pytest.raises(DomainError) as info:
        r.send_referral(referral, unconsented.lead, override_reason=reason, override_category=category)
    assert info.value.field == field
    assert referral.status == "draft" and referral.override_by_id is None


def test_send_form_asks_for_the_category_and_shows_it_to_the_school(app, db, unconsented):
    lead = sign_in(app, unconsented.lead)
    page = htmllib.unescape(lead.get(f"/agencies/referrals/new/{unconsented.case.uid}").get_data(as_text=True))
    assert 'name="override_category"' in page and all(str(label) in page for label in OVERRIDE_CATEGORIES.values())
    missing = lead.post(f"/agencies/referrals/new/{unconsented.case.uid}",
                        data=form_data(unconsented, "send", override_reason=REASON))
    assert missing.status_code == 400
    assert "동의 없이 보내는 사유의 종류를 선택해 주세요." in htmllib.unescape(missing.get_data(as_text=True))
    assert db.session.execute(select(Referral)).first() is None
    sent = lead.post(f"/agencies/referrals/new/{unconsented.case.uid}",
                     data=form_data(unconsented, "send", override_reason=REASON, override_category="family_crisis"))
    assert sent.status_code == 302
    referral = db.session.execute(select(Referral)).scalar_one()
    shown = htmllib.unescape(lead.get(sent.headers["Location"]).get_data(as_text=True))
    assert "가정 내 위기" in shown and REASON in shown  # the school team reads the text
    assert REASON not in trail_text(db)
    assert referral.override_category == "family_crisis"


def test_overrides_page_shows_the_category(app, db, build, unconsented):
    r.send_referral(draft(unconsented), unconsented.lead, override_reason=REASON, override_category="medical")
    db.session.commit()
    auditor = sign_in(app, build.user("auditor"))
    page = htmllib.unescape(auditor.get("/audit/overrides").get_data(as_text=True))
    assert 'data-testid="override-category">긴급 의료<' in page and REASON not in page
