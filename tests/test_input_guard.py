"""Characters nobody types (issue 19): NUL refused at the door on every route, invisible control and
direction-override characters stripped from every form field before anything is stored."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.cases.models import CaseNote
from app.form_fields import BaseForm, strip_controls
from app.extensions import db


@pytest.mark.parametrize("url, data", [
    ("/login", {"login": "demo\x00", "password": "x"}),
    ("/cases/?q=%00", None),
    ("/audit/?actor=a%00b", None),
    ("/cases/%00", None),
])
def test_nul_anywhere_is_a_korean_400(client, url, data):
    response = client.post(url, data=data) if data else client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


@pytest.mark.parametrize("raw, clean", [
    ("정상 메모", "정상 메모"),
    ("줄\n바꿈\t탭\r", "줄\n바꿈\t탭\r"),
    ("관\u202e리자", "관리자"),
    ("a\u2066b\u2069c\u200fd\u061c", "abcd"),
    ("벨\x07소리\x1b\x7f", "벨소리"),
])
def test_strip_controls(raw, clean):
    assert strip_controls(raw) == clean
    assert strip_controls(None) is None and strip_controls(3) == 3


def test_every_form_of_the_app_is_a_base_form(app):
    """A form added later on plain FlaskForm would store override characters again."""
    import flask_wtf
    forms = set()
    stack = [flask_wtf.FlaskForm]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("app."):
                forms.add(sub)
    assert forms, "no form found"
    plain = sorted(f"{f.__module__}.{f.__name__}" for f in forms if not issubclass(f, BaseForm))
    assert plain == []


def test_a_case_note_with_a_direction_override_is_stored_without_it(app, db, build, login, client):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school=school, status="in_support", lead=lead)
    login(lead)
    response = client.post(f"/cases/{case.uid}/notes", data={"note-kind": "counselling", "note-body": "상담\u202e 기록\x07"},
                           follow_redirects=True)
    assert response.status_code == 200
    notes = db.session.execute(select(CaseNote).where(CaseNote.case_id == case.id)).scalars().all()
    assert [n.body for n in notes] == ["상담 기록"]
