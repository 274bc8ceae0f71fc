"""The audit search an auditor can read (issue 15): a grouped select of labels that submits codes,
compact rows with labels and readable references (school and grade, never a name or a UUID in
the visible cells), details on demand, and exports with label columns beside the codes."""
from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.audit.services import record
from app.extensions import db as _db

SECRET = "비밀이름홍길동"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def scene(build, db):
    school = build.school(name="이음초등학교")
    lead = build.user("school_lead", organisation=school, login="read-lead")
    student = build.student(school, actor=lead, name=SECRET, grade=5, class_no=2)
    case = build.case(student=student, lead=lead)
    with freeze_time("2026-12-01 05:05:00"):  # 14:05 KST
        record("case_viewed", obj=case, subject=student, actor=lead, details={"tab": "plan", "empty": None})
        record("student_viewed", obj=student, subject=student, actor=lead)
        record("permission_denied", actor=lead, outcome="denied", object_type="endpoint", object_id="audit.search")
    db.session.commit()
    return school, lead, student, case


@pytest.fixture
def auditor(build, login):
    user = build.user("auditor", login="read-auditor")
    login(user)
    return user


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-event-id="\d+">(.*?)</tr>', page, re.S)


def visible(row: str) -> str:
    """A row without its <details> (what the list shows before the auditor opens it)."""
    return re.sub(r"<details.*?</details>", "", row, flags=re.S)


def test_action_filter_is_a_grouped_select_of_labels(auditor, client):
    page = client.get("/audit/").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="action".*?</select>', page, re.S).group(0)
    for group in ("사례", "학생", "교육후견인", "유관기관", "사례회의", "계정·권한", "접속기록", "통계"):
        assert f'<optgroup label="{group}">' in select_html
    assert '<option value="case_viewed">사례 열람</option>' in select_html
    assert '<option selected value="">전체</option>' in select_html or '<option value="" selected>' in select_html


def test_the_select_filters_by_code_and_keeps_the_choice(scene, auditor, client):
    page = client.get("/audit/", query_string={"action": "student_viewed"}).get_data(as_text=True)
    assert len(rows(page)) == 1 and "학생 정보 열람" in rows(page)[0]
    assert re.search(r'<option selected value="student_viewed">', page)


def test_an_unlisted_code_is_still_searchable(auditor, client):
    page = client.get("/audit/", query_string={"action": "paging_probe"}).get_data(as_text=True)
    assert '<option selected value="paging_probe">paging_probe</option>' in page


def test_rows_show_labels_and_readable_references(scene, auditor, client):
    _school, lead, student, case = scene
    page = client.get("/audit/", query_string={"actor": lead.login}).get_data(as_text=True)
    by_action = {re.search(r"<code>([a-z_]+)</code>", r).group(1): r for r in rows(page)}
    viewed = visible(by_action["case_viewed"])
    assert "사례 열람" in viewed and "사례 · 이음초등학교 · 5학년" in viewed and "5학년 2반" not in viewed
    assert "2026. 12. 1. 14:05" in viewed and "지원팀장" in viewed and "허용" in viewed
    assert "학생 · 이음초등학교 · 5학년 2반" in visible(by_action["student_viewed"])
    denied = visible(by_action["permission_denied"])
    assert "권한 없는 접근" in denied and "거부" in denied
    for row in rows(page):
        assert not UUID.search(visible(row)), visible(row)  # ids only behind 자세히
        assert "null" not in row and "None" not in row
    details = re.search(r"<details.*?</details>", by_action["case_viewed"], re.S).group(0)
    assert case.uid in details and student.uid in details and "plan" in details
    assert SECRET not in page
    for header in ("일시", "사용자", "행위", "결과", "대상", "자세히"):
        assert f'<th scope="col">{header}</th>' in page


def test_a_district_auditor_sees_references_of_their_own_office_only(scene, build, app, db):
    from tests.audit.test_views import sign_in
    other_office = build.user("auditor", organisation=build.organisation("district_office", gu="강남구"))
    page = sign_in(app, other_office).get("/audit/", query_string={"action": "case_viewed"}).get_data(as_text=True)
    (row,) = rows(page)
    assert "이음초등학교" not in visible(row) and "사례" in visible(row)
    own = build.user("auditor", organisation=build.organisation("district_office", gu="마포구"))
    page = sign_in(app, own).get("/audit/", query_string={"action": "case_viewed"}).get_data(as_text=True)
    assert "사례 · 이음초등학교 · 5학년" in visible(rows(page)[0])


def _post_export(client, fmt):
    response = client.post("/audit/export", data={"start": "2026-12-01", "end": "2026-12-01", "fmt": fmt,
                                                   "reason": "열람 청구 확인"})
    body = response.get_data()
    response.close()
    assert response.status_code == 200
    return body


def test_csv_and_xlsx_carry_labels_beside_the_codes(scene, auditor, client):
    text = _post_export(client, "csv").decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    header = table[0]
    assert header[header.index("행위") + 1] == "행위 설명" and header[header.index("결과") + 1] == "결과 설명"
    events = [r for r in table[1:] if r and r[0] != "#정보"]
    denied = next(r for r in events if r[header.index("행위")] == "permission_denied")
    assert denied[header.index("행위 설명")] == "권한 없는 접근" and denied[header.index("결과 설명")] == "거부"
    assert "#정보" in text

    book = openpyxl.load_workbook(io.BytesIO(_post_export(client, "xlsx")), read_only=True)
    sheet = list(book["접속기록"].iter_rows(values_only=True))
    header = list(sheet[0])
    assert header[header.index("행위") + 1] == "행위 설명"
    labelled = {r[header.index("행위")]: r[header.index("행위 설명")] for r in sheet[1:]}
    assert labelled["case_viewed"] == "사례 열람"


def test_the_chain_still_verifies_after_labelled_exports(scene, auditor, client, app):
    _post_export(client, "csv")
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    exported = _db.session.scalars(select(AuditEvent).filter_by(action="audit_exported")).all()
    assert json.loads(exported[-1].details)["format"] == "csv"
