"""The case screens in English: labels, stored chronology lines and the overdue badge follow the
reader's language (run with the compiled English catalogue)."""
from __future__ import annotations

import datetime as dt
import re

from freezegun import freeze_time

from app.cases import notes as case_notes, services as s
from app.cases.consent import record_consent
from app.cases.plan import add_plan_action
from app.db import today_kst

from ..factories import consent_both

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"


@freeze_time("2026-05-10 03:00:00")
def test_case_page_in_english(client, login, build, db):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school, status="screening", lead=lead)
    s.select_case(case, lead, meeting_on=dt.date(2026, 5, 8), members="A, B", teacher_opinions="ok")
    s.start_planning(case, lead)
    record_consent(case, lead, party="student", purposes=["guardian_matching"], given_on=dt.date(2026, 5, 9),
                   method="written")
    add_plan_action(case, lead, goal="Reading", action="weekly", due_on=dt.date(2026, 5, 7), owner_id=lead.id)
    case_notes.add_note(case, lead, kind="observation", body="typed note")
    db.session.commit()
    login(lead)
    korean = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    assert "학생 동의 기록 (서면; 교육후견인 연계)" in korean and "3일 지남" in korean
    english(client)
    html = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    # stored lines are read in the reader's language
    assert "Consent recorded: Student (In writing; Matching with an education guardian)" in html
    assert "Under review → Selected for support" in html
    assert "[Observation] typed note" in html
    assert "Plan action added: Reading — weekly (due 7 May 2026)" in html
    # the overdue badge counts the days; the selection reads as a status
    assert "3 days overdue" in html and "<strong>Selected</strong>" in html
    # every chronology line and its kind badge in English (actor names are user data)
    texts = re.findall(r'<p class="ieum-timeline-text">(.*?)</p>', html, re.S)
    badges = re.findall(r'<span class="krds-badge bg-light-gray">(.*?)</span>', html[html.index('id="chronology"'):])
    assert len(texts) >= 5 and badges and not [t for t in texts + badges if HANGUL.search(t)], texts + badges


def test_transition_messages_in_english(client, login, build, db):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school, status="closed", lead=lead)
    login(lead)
    english(client)
    response = client.post(f"/cases/{case.uid}/transition/start_screening", data={})
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page
    alert = page[page.index('data-testid="form-alert"'):]
    alert = alert[:alert.index("</ul>")]
    assert "You cannot &#39;Start review&#39; while the status is &#39;Closed&#39;." in alert
