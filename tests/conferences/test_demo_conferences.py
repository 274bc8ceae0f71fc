"""flask demo seed: past and upcoming conferences of each kind, decisions, open and overdue items."""
from sqlalchemy import select

from app.conferences.models import CONFERENCE_KINDS, ActionItem, Conference, ConferenceCase
from app.db import today_kst, utcnow

PASSWORD = "Demo-pass-2026!"


def test_demo_seed_has_conferences_of_each_kind(app, db, client, login):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    conferences = db.session.execute(select(Conference)).scalars().all()
    now, today = utcnow(), today_kst()
    for kind in CONFERENCE_KINDS:
        mine = [c for c in conferences if c.kind == kind]
        assert any(c.starts_at < now and c.status == "held" for c in mine), kind
        assert any(c.starts_at > now and c.status == "scheduled" for c in mine), kind
    decided = db.session.execute(select(ConferenceCase).where(ConferenceCase.decision.is_not(None))).scalars().all()
    assert len({cc.decision for cc in decided}) >= 3
    items = db.session.execute(select(ActionItem).where(ActionItem.status == "open")).scalars().all()
    assert any(i.due_on < today for i in items) and any(i.due_on >= today for i in items)
    assert {i.owner_kind for i in items} == {"user", "agency", "school_team"}

    for user, home, text in (("demo-lead", "/home/lead", "다가오는 사례회의"),
                             ("demo-guardian", "/home/guardian", "일 지남"),
                             ("demo-agency", "/home/agency", "상담 진행 결과를 학교에 회신")):
        client.post("/logout")
        assert login(user, PASSWORD).status_code == 302
        html = client.get(home).get_data(as_text=True)
        assert text in html, user
        assert client.get("/conferences/").status_code == 200
