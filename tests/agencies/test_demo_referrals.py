"""flask demo seed: referrals in every state, and demo-agency has answers waiting, one overdue."""
from sqlalchemy import select

from app.agencies.models import REFERRAL_STATUSES, Referral, ServiceRecord
from app.agencies.referrals import is_overdue, shared_items_visible
from app.auth.models import Organisation, User
from app.cases.models import CaseEvent
from app.db import today_kst

PASSWORD = "Demo-pass-2026!"


def test_demo_seed_has_referrals_in_every_state(app, db, client, login):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    referrals = db.session.execute(select(Referral)).scalars().all()
    assert {ref.status for ref in referrals} == set(REFERRAL_STATUSES)
    agency = db.session.execute(select(Organisation).filter_by(code="AG-MAPO-YOUTH")).scalar_one()
    waiting = [ref for ref in referrals if ref.agency_id == agency.id and ref.status == "sent"]
    overdue = [ref for ref in waiting if is_overdue(ref, today_kst())]
    assert len(waiting) >= 2 and len(overdue) == 1 and shared_items_visible(overdue[0])
    assert db.session.execute(select(ServiceRecord)).first() is not None
    # every status change is in the case chronology, as a user would have left it
    referral_events = db.session.execute(select(CaseEvent).filter_by(kind="referral")).scalars().all()
    assert len(referral_events) > len(referrals)

    assert login("demo-agency", PASSWORD).status_code == 302
    home = client.get("/home/agency").get_data(as_text=True)
    assert 'data-overdue="1"' in home and overdue[0].uid in home
    inbox = client.get("/agencies/inbox").get_data(as_text=True)
    assert all(ref.uid in inbox for ref in waiting)
    demo_agency = db.session.execute(select(User).filter_by(login="demo-agency")).scalar_one()
    assert demo_agency.organisation_id == agency.id
