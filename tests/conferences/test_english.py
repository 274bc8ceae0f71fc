"""Conference screens and stored lines in English: labels, the overdue badge with its days,
chronology lines and alerts read in the reader's language (run with the compiled English catalogue)."""
from __future__ import annotations

import datetime as dt

from flask_babel import force_locale
from sqlalchemy import select

from app.cases.models import CaseEvent
from app.conferences import cli as conference_cli
from app.conferences.models import ActionItem
from app.db import today_kst
from app.notifications.models import Notification

from .test_views import held, page


def english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"


def test_overdue_item_badge_counts_the_days_in_each_language(db, client, login, conference_world, make_conference):
    w = conference_world
    conference = make_conference()
    held(w, conference)
    item = db.session.execute(select(ActionItem).filter_by(owner_kind="user")).scalar_one()
    item.due_on = today_kst() - dt.timedelta(days=3)
    db.session.commit()
    login(w.lead)
    korean = page(client, f"/conferences/{conference.uid}")
    assert "3일 지남" in korean and ">기한 지남<" not in korean
    english(client)
    text = page(client, f"/conferences/{conference.uid}")
    assert "3 days overdue" in text and "3일 지남" not in text
    assert "School case meeting (solution meeting)" in text and "Continue support" in text


def test_chronology_lines_and_alerts_are_read_in_the_readers_language(db, conference_world, make_conference):
    w = conference_world
    conference = make_conference()
    db.session.commit()
    line = db.session.execute(select(CaseEvent).filter_by(case_id=w.guardian_case.id, kind="conference")
                              .order_by(CaseEvent.id.desc())).scalars().first()
    assert line.text.startswith("학교 사례회의(솔루션 회의) 예정: ")
    invite = db.session.execute(select(Notification).filter_by(user_id=w.staff.id, kind="conference")).scalar_one()
    assert "초대되었습니다" in invite.text
    with force_locale("en"):
        assert line.text.startswith("School case meeting (solution meeting) scheduled: ")
        assert invite.text.startswith("You are invited to a School case meeting")


def test_reminders_name_the_near_date_and_the_days_in_each_language(db, conference_world, make_conference):
    w = conference_world
    conference = make_conference()
    held(w, conference)
    item = db.session.execute(select(ActionItem).filter_by(owner_kind="user")).scalar_one()
    today = today_kst()
    item.due_on = today - dt.timedelta(days=1)
    db.session.commit()
    conference_cli.remind_item(item, conference, item.case if hasattr(item, "case") else w.guardian_case, today)
    db.session.commit()
    note = db.session.execute(select(Notification).filter_by(kind="conference_action")).scalars().first()
    weekday = "월화수목금토일"[item.due_on.weekday()]
    assert f"({item.due_on.month}월 {item.due_on.day}일 ({weekday}), 1일 지남)" in note.text
    with force_locale("en"):
        assert f"{item.due_on:%a} {item.due_on.day} {item.due_on:%b}, 1 day overdue" in note.text
        assert "overdue" in note.text and "지남" not in note.text
