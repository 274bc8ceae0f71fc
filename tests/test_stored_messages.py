"""Stored messages (app/stored_messages.py): a chronology line or an alert written once is read in
each reader's language; its parameters stay encrypted; plain text stays plain."""
from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import force_locale, lazy_gettext as _l, lazy_pgettext
from sqlalchemy import text

from app.cases.chronology import add_event
from app.cases.models import CaseEvent
from app.stored_messages import MARK, dump_message


def _reload(db, event) -> CaseEvent:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(CaseEvent, event.id)


def test_a_marked_line_is_read_in_each_language(app, db, build):
    case = build.case()
    event = add_event(case, "consent", _l("%(parties)s 동의를 기록했습니다.", parties="김하늘"))
    event = _reload(db, event)
    assert event.text == "김하늘 동의를 기록했습니다."
    with force_locale("en"):
        assert event.text == "Consent recorded: 김하늘."


def test_parameters_are_encrypted_and_the_column_never_holds_them_in_clear(app, db, build):
    case = build.case()
    event = add_event(case, "consent", _l("%(parties)s 동의를 기록했습니다.", parties="비밀이름"))
    db.session.commit()
    stored = db.session.execute(text("SELECT text_enc FROM case_event WHERE id = :id"), {"id": event.id}).scalar()
    assert "비밀이름" not in stored and "동의" not in stored


def test_dates_and_nested_messages_are_written_for_the_reader(app, db, build):
    case = build.case()
    nested = lazy_pgettext("case status", "선정")  # a context travels with the message
    event = add_event(case, "referral", _l("%(agency)s: 서비스 제공 (%(kind)s, %(day)s)", agency="푸른센터",
                                           kind=nested, day=dt.date(2026, 12, 8)))
    event = _reload(db, event)
    assert event.text == "푸른센터: 서비스 제공 (선정, 2026. 12. 8.)"
    with force_locale("en"):
        assert event.text == "푸른센터: service delivered (Selected, 8 Dec 2026)"


def test_plain_text_is_kept_as_typed_and_cannot_pose_as_a_message(app, db, build):
    case = build.case()
    event = add_event(case, "note", MARK + '{"m":"x","a":{}}')
    event = _reload(db, event)
    assert event.text == '{"m":"x","a":{}}'
    assert dump_message("그대로") == "그대로"


def test_a_moment_must_be_passed_as_a_date(app):
    with pytest.raises(TypeError):
        dump_message(_l("%(day)s까지", day=dt.datetime(2026, 12, 1, 9, 0)))
    with pytest.raises(TypeError):
        dump_message(42)
