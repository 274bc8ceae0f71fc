"""English mode of the agency screens: the directory CSV reads English or Korean headers and names
columns by their label, alerts and chronology lines are stored as messages each reader reads in
their own language, and the overdue list counts in one message."""
from __future__ import annotations

import datetime as dt
import html as htmllib
import re
import subprocess
from pathlib import Path

import pytest
from flask import g
from flask_babel import force_locale
from sqlalchemy import select

from app.agencies import csv_io
from app.agencies import referrals as r
from app.agencies.models import AgencyService
from app.cases.models import CaseEvent
from app.db import today_kst
from app.notifications.models import Notification

from ..factories import DEFAULT_PASSWORD
from .test_referrals import draft, make_world

HANGUL = re.compile(r"[\uac00-\ud7a3]")
ROW = "좋은센터,가족센터,상담,,counselling,7,15,,available,마포구,,,,,2026-01-05"
KOREAN_HEADER = ",".join({v: k for k, v in csv_io.KOREAN_HEADERS.items()}[c] for c in csv_io.COLUMNS)
COMPILE = Path("/tmp/b/compile_merged.sh")


@pytest.fixture(scope="module", autouse=True)
def english_catalogue():
    """The merged English catalogue, compiled (the lead's script, when it is there)."""
    if COMPILE.exists():
        subprocess.run(["sh", str(COMPILE)], check=True, capture_output=True)


@pytest.fixture
def seobu(build):
    return build.user("district_coordinator", organisation=build.organisation("district_office", gu="마포구"))


@pytest.fixture
def world(build, agency_with_service):
    return make_world(build, agency_with_service, status="in_support")


def sign_in(app, user, language: str = "ko"):
    g.pop("_login_user", None)
    client = app.test_client()
    assert client.post("/login", data={"login": user.login, "password": DEFAULT_PASSWORD}).status_code == 302
    with client.session_transaction() as session:
        session["lang"] = language
    return client


def text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("header", [
    ",".join(csv_io.COLUMNS),                 # the English column names, as the export writes them
    ",".join(c.upper() for c in csv_io.COLUMNS),  # in any case
    KOREAN_HEADER,                            # the Korean names
])
def test_import_reads_english_or_korean_headers(db, seobu, header):
    assert csv_io.import_directory(seobu, f"{header}\n{ROW}\n".encode("utf-8")) == 1
    service = db.session.execute(select(AgencyService)).scalar_one()
    assert service.name == "상담" and service.min_age == 7 and service.last_confirmed_on == dt.date(2026, 1, 5)


def test_an_english_header_file_with_a_bad_row_names_the_column_by_its_label(app, db, seobu):
    header = ",".join(csv_io.COLUMNS)
    raw = f"{header}\n좋은센터,없는유형,상담,,counselling,7,15,,available,마포구,,,,,\n".encode("utf-8")
    preview = csv_io.parse_directory(seobu, raw)
    assert [(line, column) for line, column, _m in preview.errors] == [(2, "organization_kind")]
    assert str(csv_io.COLUMN_LABELS["organization_kind"]) == "기관 유형"
    with force_locale("en"):
        assert str(csv_io.COLUMN_LABELS["organization_kind"]) == "Agency type"


def test_import_page_documents_both_headers(app, db, seobu):
    korean = text(sign_in(app, seobu).get("/agencies/import"))
    assert "organization_name" in korean and "기관명 = <code>organization_name</code>" in korean
    english = text(sign_in(app, seobu, "en").get("/agencies/import"))
    assert "organization_name" in english and 'data-testid="import-korean-columns"' not in english


def test_alerts_and_chronology_are_read_in_each_readers_language(app, db, world):
    referral = draft(world)
    r.send_referral(referral, world.staff)
    r.accept_referral(referral, world.agent)
    day = today_kst() - dt.timedelta(days=1)
    r.add_service_record(referral, world.agent, day, "education", "")
    db.session.commit()
    db.session.expire_all()
    [new] = db.session.execute(select(Notification).filter_by(user_id=world.agent.id)).scalars().all()
    news = db.session.execute(select(Notification).filter_by(user_id=world.staff.id)).scalars().all()
    lines = [e.text for e in db.session.execute(select(CaseEvent).filter_by(kind="referral")).scalars()]
    assert "새 의뢰가 도착했습니다" in new.text and any("의뢰를 접수했습니다." in n.text for n in news)
    assert any(f"서비스 제공 (교육·학습, {day.year}. {day.month}. {day.day}.)" in x for x in lines)
    with force_locale("en"):
        english = [new.text, *(n.text for n in news),
                   *(e.text for e in db.session.execute(select(CaseEvent).filter_by(kind="referral")).scalars())]
    if COMPILE.exists():
        assert "New referral from" in english[0] and any("Referral accepted." in t for t in english)
        assert any(f"service delivered (Education and learning, {day.day} {day:%b} {day.year})" in t for t in english)
        names = {world.case.student.name, world.case.school.name, world.agency.name}
        for line in english:  # only the names (user data) stay in Korean
            for name in names:
                line = line.replace(name, "")
            assert not HANGUL.search(line), line


def test_overdue_caption_is_one_message(app, db, world):
    referral = draft(world)
    r.send_referral(referral, world.staff)
    referral.respond_by = today_kst() - dt.timedelta(days=1)
    db.session.commit()
    page = text(sign_in(app, world.coordinator).get("/agencies/referrals/overdue"))
    assert "<caption>회신 기한이 지난 의뢰 1건</caption>" in page
    if COMPILE.exists():
        english = text(sign_in(app, world.coordinator, "en").get("/agencies/referrals/overdue"))
        assert "<caption>Referrals past their reply date: 1</caption>" in english
        assert "1 day overdue" in english or "overdue" in english
