"""Guardian pages, alerts and chronology lines in the reader's language: the month of the totals
heading written for people, stored lines rendered in English, the key pages with no Hangul outside
user data (needs the compiled English catalogue: /tmp/b/compile_merged.sh or scripts/setup)."""
import app.guardians.portal_views  # noqa: F401  (routes exist before apps are created)

import datetime as dt
import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.cases.models import CaseEvent
from app.db import today_kst
from app.extensions import db
from app.guardians.activity import log_activity
from app.guardians.cli import notify_expiry
from app.guardians.models import GuardianConcern
from app.notifications.models import Notification
from app.words import date_text

from tests.factories import DEFAULT_PASSWORD

from .portal_setup import SHARED_GOAL, matched

HANGUL = re.compile(r"[\uac00-\ud7a3]+")


@pytest.fixture
def pair(build, eligible_guardian, coordinator):
    return matched(build, eligible_guardian, coordinator, student_name="박하늘")


def _english(client) -> None:
    with client.session_transaction() as session:
        session["lang"] = "en"


def _main(html: str) -> str:
    """The page's own content: the menu, the footer and the login's handling panel (app/auth) belong
    to other features."""
    match = re.search(r"<main\b.*?</main>", html, re.S)
    main = match.group(0) if match else html
    return main.split('data-testid="handling-section"')[0]


def test_totals_heading_shows_the_month_for_people(pair, coordinator, client, login):
    login(coordinator)
    html = client.get("/guardians/totals?month=2026-12").get_data(as_text=True)
    heading = re.search(r'data-testid="totals-heading">(.*?)</h1>', html, re.S).group(1)
    assert "2026년 12월" in heading and "2026-12" not in heading
    _english(client)
    html = client.get("/guardians/totals?month=2026-12").get_data(as_text=True)
    heading = re.search(r'data-testid="totals-heading">(.*?)</h1>', html, re.S).group(1)
    assert "December 2026" in heading and "2026-12" not in heading and not HANGUL.search(heading)


def test_activity_line_and_expiry_alert_are_read_in_each_language(pair, coordinator):
    day = today_kst()
    log_activity(pair.assignment, pair.user, occurred_on=day, minutes=60, kind="learning")
    check = pair.guardian.checks[0]
    notify_expiry(coordinator, pair.guardian, check, 30)
    db.session.commit()
    db.session.expire_all()
    line = db.session.execute(select(CaseEvent).where(CaseEvent.case_id == pair.case.id)
                              .order_by(CaseEvent.id.desc())).scalars().first()
    alert = db.session.execute(select(Notification).filter_by(kind="check_expiring")).scalars().one()
    assert line.text == f"교육후견인 활동: {date_text(day)} 학습 60분"
    assert f"{date_text(check.valid_until)}에 끝납니다 (30일 이내)" in alert.text
    with force_locale("en"):
        assert line.text == f"Education guardian activity: {date_text(day, 'en')}, Learning, 60 minutes"
        assert f"expires on {date_text(check.valid_until, 'en')}" in alert.text
        assert not HANGUL.search(line.text)
        assert HANGUL.findall(alert.text) == HANGUL.findall(pair.guardian.name)  # only the name


def test_assignment_buttons_read_right_in_english(pair, coordinator, client, login):
    login(coordinator)
    _english(client)
    html = client.get(f"/guardians/assignments/{pair.assignment.uid}").get_data(as_text=True)
    assert ">Pause</button>" in html and "End assignment</button>" in html


def test_key_guardian_pages_have_no_hangul_outside_user_data_in_english(pair, coordinator, client, login):
    login(coordinator)
    _english(client)
    user_data = {pair.guardian.name, pair.guardian.dong, pair.guardian.address, pair.case.student.name,
                 pair.case.school.name}
    for path in ("/guardians/", f"/guardians/{pair.guardian.uid}", f"/guardians/assignments/{pair.assignment.uid}",
                 "/guardians/totals"):
        text = _main(client.get(path).get_data(as_text=True))
        for value in sorted(user_data, key=len, reverse=True):
            text = text.replace(value, "")
        assert not HANGUL.findall(text), (path, " ".join(HANGUL.findall(text)))
    assert "Education guardians" in client.get("/guardians/").get_data(as_text=True)


def test_guardian_and_matching_pages_have_no_hangul_outside_user_data_in_english(app, pair, coordinator, client,
                                                                                 login):
    log_activity(pair.assignment, pair.user, occurred_on=today_kst(), minutes=30, kind="emotional",
                 concern=True, concern_description="학생이 많이 지쳐 보입니다. 확인이 필요합니다.")
    db.session.commit()
    concern = db.session.execute(
        select(GuardianConcern).filter_by(assignment_id=pair.assignment.id)).scalars().one()
    user_data = {pair.guardian.name, pair.guardian.dong, pair.guardian.address, pair.case.student.name,
                 pair.case.student.given_name, pair.case.school.name, SHARED_GOAL, concern.description}
    login(coordinator)
    _english(client)
    pages = ["/guardians/new", f"/guardians/{pair.guardian.uid}/edit", f"/guardians/match/{pair.case.uid}",
             "/guardians/match/batch", f"/guardians/concerns/{concern.uid}"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        text = _main(response.get_data(as_text=True))
        for value in sorted(user_data, key=len, reverse=True):
            text = text.replace(value, "")
        assert not HANGUL.findall(text), (path, " ".join(HANGUL.findall(text)))
    guardian_client = app.test_client()
    guardian_client.post("/login", data={"login": pair.user.login, "password": DEFAULT_PASSWORD})
    _english(guardian_client)
    for path in ("/guardians/me", f"/guardians/me/{pair.assignment.uid}"):
        response = guardian_client.get(path)
        assert response.status_code == 200, path
        text = _main(response.get_data(as_text=True))
        for value in sorted(user_data, key=len, reverse=True):
            text = text.replace(value, "")
        assert not HANGUL.findall(text), (path, " ".join(HANGUL.findall(text)))


def test_a_system_status_note_is_shown_in_the_readers_language(app):
    from app.guardians.models import note_text
    assert str(note_text("범죄경력 조회 결격")) == "범죄경력 조회 결격"
    with force_locale("en"):
        assert str(note_text("범죄경력 조회 결격")) == "Disqualifying criminal record check"
        assert note_text("본인 사정") == "본인 사정"  # typed by a coordinator: as it is
        assert note_text(None) is None
