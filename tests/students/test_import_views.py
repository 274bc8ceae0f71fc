"""CSV class-list import through the screens: upload, preview, confirm; all rows or none."""
from __future__ import annotations

import base64
import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app import csv_import
from app.students.importer import parse_class_list
from app.students.models import Student

HEADER = "이름,생년월일,학년,반,번호,보호자명,보호자 연락처,이주배경,가정언어\n"
GOOD = HEADER + "박서준,2014-03-05,5,2,7,박엄마,010-1111-2222,예,베트남어\n이수아,20140611,5,2,8,,,,\n"


def count(db):
    return db.session.scalar(select(func.count(Student.id)))


def upload(client, raw: bytes, name: str = "5-2.csv"):
    return client.post("/students/import", data={"file": (io.BytesIO(raw), name)},
                       content_type="multipart/form-data")


def payload_of(page: str) -> str:
    return re.search(r'name="payload" type="hidden" value="([^"]*)"', page).group(1)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949"])
def test_preview_then_confirm(encoding, client, teacher, school, db):
    response = upload(client, GOOD.encode(encoding))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and count(db) == 0  # a preview saves nothing
    assert "박서준" in page and "이수아" in page and "2명 모두 등록" in page
    assert 'data-testid="import-confirm"' in page
    response = client.post("/students/import", data={"payload": payload_of(page), "filename": "5-2.csv"})
    assert response.status_code == 302 and response.headers["Location"] == "/students/"
    students = db.session.execute(select(Student).order_by(Student.number)).scalars().all()
    assert [(s.name, s.number) for s in students] == [("박서준", 7), ("이수아", 8)]
    assert students[0].migrant_background and students[0].home_language == "베트남어"
    assert students[0].parent_phone == "010-1111-2222" and students[1].birth_date == dt.date(2014, 6, 11)
    imported = db.session.execute(select(AuditEvent).filter_by(action="students_imported")).scalar_one()
    assert imported.object_id == school.uid and "박서준" not in imported.details


def test_invalid_rows_are_listed_and_nothing_can_be_saved(client, teacher, db):
    raw = (HEADER + "박서준,2014-03-05,5,2,7,,,,\n정하윤,2014-13-40,5,2,9,,,,\n,2014-01-01,5,2,10,,,,\n"
           "김미래,2099-01-01,5,2,11,,,,\n").encode()
    response = upload(client, raw)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and count(db) == 0
    assert "오류가 있는 행이 3개 있어 저장할 수 없습니다" in page
    rows = re.findall(r'<tr class="ieum-row-error"><td class="num">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>', page)
    assert rows == [("3", "생년월일", "형식이 올바르지 않습니다."), ("4", "이름", "값이 비어 있습니다."),
                    ("5", "생년월일", "생년월일은 오늘 이후일 수 없습니다.")]
    assert 'data-testid="import-confirm"' not in page
    # confirming the same bytes anyway (a forged request) is refused after parsing again
    forged = base64.b64encode(raw).decode()
    response = client.post("/students/import", data={"payload": forged})
    assert response.status_code == 400 and count(db) == 0
    assert "오류가 있는 행이 3개 있어 저장할 수 없습니다" in response.get_data(as_text=True)


def test_registered_student_is_updated_and_both_counts_are_reported(client, teacher, build, school, db):
    seo = build.student(school, actor=teacher, name="박서준", birth_date=dt.date(2014, 3, 5), grade=4, class_no=1,
                        number=3)
    response = upload(client, GOOD.encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="import-confirm"' in page
    assert "새 학생 1명, 학년·반·번호가 바뀌는 학생 1명, 바뀌지 않는 학생 0명" in page
    assert re.findall(r'data-testid="import-row" data-action="(\w+)"', page) == ["update", "add"]
    assert "1명 등록, 1명 정보 변경" in page
    response = client.post("/students/import", data={"payload": payload_of(page)})
    assert response.status_code == 302 and count(db) == 2
    assert (seo.grade, seo.class_no, seo.number) == (5, 2, 7)
    page = client.get("/students/").get_data(as_text=True)
    assert "학생 1명을 등록하고 1명의 학년·반·번호를 바꿨습니다." in page


def test_a_student_registered_meanwhile_is_updated_not_doubled(client, teacher, build, school, db):
    """A student registered between preview and confirm is matched inside the write transaction."""
    page = upload(client, GOOD.encode()).get_data(as_text=True)
    build.student(school, actor=teacher, name="이수아", birth_date=dt.date(2014, 6, 11), grade=5, class_no=1, number=1)
    response = client.post("/students/import", data={"payload": payload_of(page)})
    assert response.status_code == 302 and count(db) == 2
    assert [(s.name, s.class_no, s.number) for s in db.session.execute(select(Student).order_by(Student.number)).scalars()] \
        == [("박서준", 2, 7), ("이수아", 2, 8)]


@pytest.mark.parametrize("raw, message", [
    (b"", "CSV 파일을 선택해 주세요."),
    ("이름,학년\n박서준,5\n".encode(), "필수 열이 없습니다: 생년월일, 반, 번호"),
    (HEADER.encode(), "가져올 학생이 없습니다."),
    (b"\xff\xfe\x00\x00garbage\x81\x00", "파일 인코딩을 읽을 수 없습니다"),
    (b"x" * 2001, "파일이 너무 큽니다"),
])
def test_malformed_file_is_explained(raw, message, client, teacher, db, monkeypatch):
    # a small limit: werkzeug's test client leaks the temp file it spools big bodies into
    monkeypatch.setattr(csv_import, "MAX_IMPORT_BYTES", 2000)
    response = upload(client, raw) if raw else client.post("/students/import", data={},
                                                            content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page and count(db) == 0
    assert 'id="file-error"' in page or "error-summary" in page


def test_only_csv_files(client, teacher, db):
    response = upload(client, GOOD.encode(), name="명단.xlsx")
    assert response.status_code == 400 and ".csv인 파일만" in response.get_data(as_text=True)


@pytest.mark.parametrize("payload", ["not base64!", "", base64.b64encode(b"").decode()])
def test_tampered_payload_is_refused(payload, client, teacher, db):
    response = client.post("/students/import", data={"payload": payload})
    assert response.status_code == 400 and count(db) == 0
    assert "파일을 다시 올려 주세요" in response.get_data(as_text=True)


def test_template_download_reads_back(client, teacher, school):
    response = client.get("/students/import/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    # the template's headers are the importer's: one filled row parses cleanly
    filled = raw + "박서준,2014-03-05,5,2,7,,,,,,,예,베트남어,\r\n".encode()
    preview = parse_class_list(filled, school)
    assert preview.ok and preview.rows[0]["migrant_background"] is True and preview.rows[0]["home_language"] == "베트남어"


def test_upload_page(client, teacher):
    page = client.get("/students/import").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'href="/students/import/template.csv"' in page


ENGLISH = ("Name,Birth_Date,Grade,Class,Number,NEIS,Parent_Name,Parent_Phone,Migrant_Background,Home_Language\n"
           "박서준,2014-03-05,5,2,7,N123,박엄마,010-1111-2222,yes,베트남어\n이수아,20140611,5,2,8,,,,,\n")


def test_english_headers_are_read(client, teacher, school, db):
    preview = parse_class_list(ENGLISH.encode(), school)
    assert preview.ok and [(r["name"], r["class_no"], r["number"]) for r in preview.rows] == [("박서준", 2, 7), ("이수아", 2, 8)]
    assert preview.rows[0]["neis_number"] == "N123" and preview.rows[0]["migrant_background"] is True
    page = upload(client, ENGLISH.encode()).get_data(as_text=True)
    assert "2명 모두 등록" in page
    response = client.post("/students/import", data={"payload": payload_of(page)})
    assert response.status_code == 302 and count(db) == 2


def test_missing_english_columns_are_named(client, teacher, school):
    page = upload(client, b"name,grade\nKim,5\n").get_data(as_text=True)
    assert "필수 열이 없습니다: 생년월일, 반, 번호" in page


def test_import_page_lists_english_headers(client, teacher, school):
    page = client.get("/students/import").get_data(as_text=True)
    assert "필수: 이름, 생년월일, 학년, 반, 번호" in page  # Korean readers: the Korean column names
    assert 'data-testid="import-english-headers"' in page and "birth_date, grade, class, number, neis" in page
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = client.get("/students/import").get_data(as_text=True)
    assert "Required: name, birth_date, grade, class, number" in page
    response = client.get("/students/import/template.csv")
    raw = response.get_data()
    assert raw.decode("utf-8-sig").splitlines()[0].startswith("name,birth_date,grade,class,number,neis,")
    preview = parse_class_list(raw + "Kim Minji,2014-03-05,5,2,7,,,,,,,yes,Vietnamese,\r\n".encode(), school)
    assert preview.ok and preview.rows[0]["home_language"] == "Vietnamese"
    missing = upload(client, b"name,grade\nKim,5\n").get_data(as_text=True)
    assert "Required columns are missing: Date of birth, Class, Number" in missing
