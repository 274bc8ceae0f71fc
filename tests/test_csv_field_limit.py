"""A CSV field over the csv module's limit (128 KiB) is a clear Korean message on both imports
(upload and confirm), never a 500, and nothing is saved."""
from __future__ import annotations

import base64
import csv
import io

import pytest
from sqlalchemy import func, select

from app.agencies.csv_io import COLUMNS
from app.agencies.models import AgencyService
from app.audit.models import AuditEvent
from app.csv_import import csv_rows
from app.domain import DomainError
from app.students.models import Student

#: one cell just over the limit, in a file well under the 1 MB upload limit
HUGE = "가" * (csv.field_size_limit() + 10)
CLASS_LIST = ("이름,생년월일,학년,반,번호\n박서준,2014-03-05,5,2,7\n"
              f'"{HUGE}",2014-06-11,5,2,8\n').encode("utf-8")
DIRECTORY = (",".join(COLUMNS) + "\n" + "새센터,가족센터,가족 상담,,welfare,,,,available,마포구,,,,,\n"
             + f'새센터,가족센터,"{HUGE}",,welfare,,,,available,마포구,,,,,\n').encode("utf-8")
MESSAGE = "한 칸의 내용이 너무 깁니다 (3행)"


def count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def actions(db) -> list[str]:
    return list(db.session.execute(select(AuditEvent.action)).scalars())


@pytest.fixture
def teacher(build, login):
    user = build.user("school_staff", organisation=build.school())
    login(user)
    return user


@pytest.fixture
def coordinator(build, login):
    user = build.user("district_coordinator", organisation=build.organisation("district_office", gu="마포구"))
    login(user)
    return user


def _upload(client, url: str, raw: bytes):
    return client.post(url, data={"file": (io.BytesIO(raw), "big.csv")}, content_type="multipart/form-data")


def _confirm(client, url: str, raw: bytes):
    return client.post(url, data={"payload": base64.b64encode(raw).decode(), "filename": "big.csv"})


@pytest.mark.parametrize("url, raw, model, who", [
    ("/students/import", CLASS_LIST, Student, "teacher"),
    ("/agencies/import", DIRECTORY, AgencyService, "coordinator"),
])
@pytest.mark.parametrize("step", [_upload, _confirm])
def test_a_huge_field_is_explained_and_nothing_changes(request, client, db, url, raw, model, who, step):
    request.getfixturevalue(who)
    assert len(raw) < 1_000_000  # refused for the field, not for the file size
    before = (count(db, model), actions(db).count("students_imported") + actions(db).count("agencies_imported"))
    response = step(client, url, raw)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert MESSAGE in page
    assert 'data-testid="import-confirm"' not in page
    db.session.expire_all()
    after = (count(db, model), actions(db).count("students_imported") + actions(db).count("agencies_imported"))
    assert after == before


def test_a_huge_header_names_row_one():
    with pytest.raises(DomainError) as err:
        list(csv_rows(f'"{HUGE}",b\n1,2\n'))
    assert err.value.field == "file" and "1행" in err.value.message


def test_other_csv_errors_are_explained_too(monkeypatch):
    from app import csv_import

    def broken(_source):
        yield ["a", "b"]
        raise csv.Error("some other problem")
    monkeypatch.setattr(csv_import.csv, "reader", broken)
    with pytest.raises(DomainError) as err:
        list(csv_rows("a,b\n"))
    assert err.value.field == "file" and "CSV 형식을 읽을 수 없습니다 (2행)" in err.value.message


def test_old_mac_line_ends_are_lines_not_errors():
    assert list(csv_rows("a,b\r1,2\r")) == [["a", "b"], ["1", "2"]]
    assert list(csv_rows('a,b\r\n1,"x\r\ny"\r\n')) == [["a", "b"], ["1", "x\r\ny"]]


def test_ordinary_rows_pass_through():
    assert list(csv_rows("a,b\n1,\"2,3\"\n")) == [["a", "b"], ["1", "2,3"]]
