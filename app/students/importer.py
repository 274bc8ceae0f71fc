"""CSV import of a class list: Korean or English headers, UTF-8 or CP949, preview first, all or nothing.

A row whose student is already registered (the same NEIS number, else the same name and birth
date: blind indexes, no decryption) updates that student's grade, class and number; the others
are registered.  The preview and the confirmation report both counts; one transaction."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import or_, select

from ..audit.services import record
from ..auth.models import Organisation
from ..crypto import normalise
from ..csv_import import csv_rows
from ..db import index_parts, keyring
from ..cpu_share import go_first
from ..db_setup import begin_write
from ..domain import DomainError
from ..extensions import db
from .models import Student
from .services import _require_school_member, create_students, new_students, update_students, validate_student_fields

#: the columns of a class list, in order: field -> (Korean header, English header); the downloadable
#: template and the import page's help list these
COLUMNS = {
    "name": ("이름", "name"), "birth_date": ("생년월일", "birth_date"), "grade": ("학년", "grade"),
    "class_no": ("반", "class"), "number": ("번호", "number"), "neis_number": ("학생개인번호", "neis"),
    "phone": ("학생연락처", "phone"), "address": ("주소", "address"), "parent_name": ("보호자명", "parent_name"),
    "parent_relation": ("보호자관계", "parent_relation"), "parent_phone": ("보호자연락처", "parent_phone"),
    "migrant_background": ("이주배경", "migrant_background"), "home_language": ("가정언어", "home_language"),
    "special_education": ("특수교육", "special_education"),
}
#: header (normalised: no spaces, case-folded) -> student field; Korean and English names both read
HEADERS = {
    "이름": "name", "성명": "name", "학생명": "name",
    "생년월일": "birth_date", "학년": "grade", "반": "class_no", "번호": "number",
    "연락처": "phone", "학생연락처": "phone", "주소": "address",
    "보호자명": "parent_name", "보호자": "parent_name", "보호자관계": "parent_relation", "관계": "parent_relation",
    "보호자연락처": "parent_phone", "학생개인번호": "neis_number", "neis번호": "neis_number",
    "이주배경": "migrant_background", "가정언어": "home_language", "특수교육": "special_education",
    **{english: key for key, (_korean, english) in COLUMNS.items()},
    "birthdate": "birth_date", "dateofbirth": "birth_date", "date_of_birth": "birth_date", "class_no": "class_no",
    "neis_number": "neis_number",
}
#: a column's name in an error message, in the reader's language
COLUMN_LABELS = {
    "name": _l("이름"), "birth_date": _l("생년월일"), "grade": _l("학년"), "class_no": _l("반"), "number": _l("번호"),
    "phone": _l("연락처"), "address": _l("주소"), "parent_name": _l("보호자명"), "parent_relation": _l("보호자관계"),
    "parent_phone": _l("보호자연락처"), "neis_number": _l("학생개인번호"), "migrant_background": _l("이주배경"),
    "home_language": _l("가정언어"), "special_education": _l("특수교육"),
}
REQUIRED = ("name", "birth_date", "grade", "class_no", "number")
MAX_ROWS = 2000
#: what a class list changes of a registered student (a new school year, a moved class)
UPDATED_FIELDS = ("grade", "class_no", "number")
YES = {"y", "yes", "예", "o", "○", "1", "true", "해당", "x"}


@dataclass
class ImportPreview:
    rows: list[dict] = field(default_factory=list)
    #: (line number in the file, column label, message)
    errors: list[tuple[int, object, str]] = field(default_factory=list)
    #: index in rows -> the registered student the row updates
    matches: dict[int, Student] = field(default_factory=dict)
    #: index in rows -> its blind indexes (NEIS number; name and birth date), computed once for
    #: the preview's matching and reused by the save's, which runs under the write lock
    keys: dict[int, tuple[list[str], list[str]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors

    def changes(self, index: int) -> list[str]:
        """The fields the row at ``index`` changes of its registered student (empty: none or new)."""
        student = self.matches.get(index)
        if student is None:
            return []
        return [key for key in UPDATED_FIELDS if self.rows[index].get(key) != getattr(student, key)]

    @property
    def added(self) -> int:
        return len(self.rows) - len(self.matches)

    @property
    def updated(self) -> int:
        return sum(1 for index in self.matches if self.changes(index))

    @property
    def unchanged(self) -> int:
        return len(self.matches) - self.updated


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else CP949 — what Korean Excel saves."""
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError(gettext("파일 인코딩을 읽을 수 없습니다. UTF-8 또는 CP949(엑셀 CSV)로 저장해 주세요."), "file")


def _parse_date(text: str) -> dt.date:
    digits = re.sub(r"[^0-9]", "", text)
    if len(digits) != 8:
        raise ValueError
    return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


def parse_class_list(raw: bytes, school: Organisation) -> ImportPreview:
    """Check every row and return what would be saved, with every error found."""
    text = decode(raw)
    reader = csv_rows(text)  # a field over the csv module's limit is a DomainError on the file
    try:
        header = next(reader)
    except StopIteration:
        raise DomainError(gettext("빈 파일입니다."), "file") from None
    columns = [HEADERS.get(normalise(h).replace(" ", "")) for h in header]
    missing = [str(COLUMN_LABELS[key]) for key in REQUIRED if key not in columns]
    if missing:
        raise DomainError(gettext("필수 열이 없습니다: %(columns)s", columns=", ".join(missing)), "file")
    preview, seen, valid = ImportPreview(), set(), []
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(preview.rows) >= MAX_ROWS:
            raise DomainError(gettext("한 번에 %(n)s명까지 가져올 수 있습니다.", n=MAX_ROWS), "file")
        row = _parse_row(line_no, dict(zip(columns, cells)), preview, school)
        if row is None:
            continue
        key = (normalise(row["name"]), row["birth_date"])
        if key in seen:
            preview.errors.append((line_no, COLUMN_LABELS["name"], gettext("파일 안에 같은 이름·생년월일이 두 번 있습니다.")))
        else:
            valid.append((line_no, len(preview.rows), row))
        seen.add(key)
        preview.rows.append(row)
    # one query for every row's match, not one per row
    matched, errors = match_registered(school, valid, preview.keys)
    preview.matches.update(matched)
    preview.errors.extend(errors)
    preview.errors.sort(key=lambda error: error[0])  # stable: the file's order, as before
    if not preview.rows and not preview.errors:
        raise DomainError(gettext("가져올 학생이 없습니다."), "file")
    return preview


def _duplicate_keys(row: dict) -> list[str]:
    """The blind indexes (under every index key) that find_duplicates would look for."""
    parts = index_parts((row["name"].strip(), row["birth_date"]))
    return [] if parts is None else keyring().blind_index_candidates(parts)


def _neis_keys(row: dict) -> list[str]:
    parts = index_parts((row.get("neis_number"),))
    return [] if parts is None else keyring().blind_index_candidates(parts)


def match_registered(school: Organisation, rows: list[tuple[int, int, dict]], keys: dict | None = None
                     ) -> tuple[dict[int, Student], list[tuple[int, str, str]]]:
    """For (line number, index, row) of a file: index -> the registered student each row names
    (the same NEIS number, else the same name and birth date), and the rows that name a student
    ambiguously or twice.  One query (blind indexes IN …) for all rows.  ``keys`` (index -> the
    row's blind indexes) keeps them for a later call on the same rows: 2,000 rows' HMACs are ~50 ms."""
    keys = {} if keys is None else keys
    for _line, index, row in rows:
        if index not in keys:
            keys[index] = (_neis_keys(row), _duplicate_keys(row))
    neis = {index: keys[index][0] for _line, index, _row in rows}
    pairs = {index: keys[index][1] for _line, index, _row in rows}
    wanted_neis = sorted({k for ks in neis.values() for k in ks})
    wanted_pairs = sorted({k for ks in pairs.values() for k in ks})
    if not wanted_neis and not wanted_pairs:
        return {}, []
    conditions = [Student.name_birth_bidx.in_(wanted_pairs)] if wanted_pairs else []
    if wanted_neis:
        conditions.append(Student.neis_number_bidx.in_(wanted_neis))
    found = list(db.session.execute(select(Student).where(Student.school_id == school.id, or_(*conditions))).scalars())
    matches: dict[int, Student] = {}
    errors: list[tuple[int, str, str]] = []
    claimed: dict[int, int] = {}  # student id -> line that names it
    for line_no, index, row in rows:
        by_neis = [s for s in found if s.neis_number_bidx in neis[index]]
        by_pair = [s for s in found if s.name_birth_bidx in pairs[index]]
        candidates = by_neis or by_pair
        if len(candidates) > 1:
            errors.append((line_no, COLUMN_LABELS["name"], gettext("같은 이름·생년월일의 학생이 여럿 등록되어 있어 누구인지 알 수 없습니다. "
                                                    "학생개인번호 열을 채워 주세요.")))
        elif candidates and candidates[0].id in claimed:
            errors.append((line_no, COLUMN_LABELS["name"], gettext("%(line)d행과 같은 학생입니다.", line=claimed[candidates[0].id])))
        elif candidates:
            matches[index] = candidates[0]
            claimed[candidates[0].id] = line_no
    return matches, errors


def _parse_row(line_no: int, cells: dict, preview: ImportPreview, school: Organisation | None = None) -> dict | None:
    row: dict = {}
    labels = COLUMN_LABELS
    for key, value in cells.items():
        if key is None:
            continue
        value = (value or "").strip()
        try:
            if key == "birth_date":
                row[key] = _parse_date(value) if value else None
            elif key in ("grade", "class_no", "number"):
                row[key] = int(value) if value else None
            elif key in ("migrant_background", "special_education"):
                row[key] = value.lower() in YES
            else:
                row[key] = value or None
        except ValueError:
            preview.errors.append((line_no, labels[key], gettext("형식이 올바르지 않습니다.")))
            return None
    for key in REQUIRED:
        if row.get(key) in (None, ""):
            preview.errors.append((line_no, labels[key], gettext("값이 비어 있습니다.")))
            return None
    try:
        validate_student_fields(row, school)
    except DomainError as err:
        preview.errors.append((line_no, labels.get(err.field, err.field or ""), err.message))
        return None
    return row


def import_class_list(actor, school: Organisation, raw: bytes) -> ImportResult:
    """Register the new students and update the class of the registered ones, or save nothing
    when any row is invalid (the caller commits once).

    The file is read and checked first, without the write lock; only then does the write
    transaction start, and the matching runs again inside it (one query): a student another
    upload registered meanwhile is updated, not registered twice."""
    _require_school_member(actor, school)
    preview = parse_class_list(raw, school)
    if not preview.ok:
        raise DomainError(gettext("오류가 있는 행이 %(n)d개 있어 저장하지 않았습니다.", n=len(preview.errors)), "file")
    # encrypted, with their rows and audit events, before the write lock; none of them is in the
    # session, so begin_write leaves them be
    adding = [i for i in range(len(preview.rows)) if i not in preview.matches]
    built = dict(zip(adding, new_students(actor, school, [preview.rows[i] for i in adding])))
    begin_write()
    # a student registered meanwhile is matched now: updated, never registered twice
    fresh, errors = match_registered(school, [(i + 2, i, row) for i, row in enumerate(preview.rows)], preview.keys)
    if errors:
        raise DomainError(gettext("그사이에 같은 학생이 등록되었습니다. 파일을 다시 확인해 주세요."), "file")
    go_first(db.session)  # the write lock is ours now: this worker's pages wait for the save, not beside it
    preview.matches = fresh
    with db.session.begin_nested():
        create_students(school, [new for i, new in built.items() if i not in preview.matches])
        changes = [(student, {key: preview.rows[index][key] for key in preview.changes(index)})
                   for index, student in preview.matches.items() if preview.changes(index)]
        updated = update_students(actor, school, changes)
    record("students_imported", object_type="organisation", object_id=school.uid, actor=actor,
           details={"rows": len(preview.rows), "added": preview.added, "updated": updated})
    return ImportResult(added=preview.added, updated=updated)


def template_headers(language: str) -> list[str]:
    """The header row of the downloadable template: Korean, or English for an English reader."""
    return [korean if language == "ko" else english for korean, english in COLUMNS.values()]


def header_names(keys, language: str) -> str:
    """"이름, 생년월일" / "name, birth_date": column names as the reader would write them."""
    return ", ".join(COLUMNS[key][0] if language == "ko" else COLUMNS[key][1] for key in keys)
