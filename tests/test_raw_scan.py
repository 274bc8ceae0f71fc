"""The full demo database, read as raw bytes (the SQLite file, its WAL and shared-memory file),
holds no value of any encrypted field and no override reason in plain text.

The demo is seeded with ``flask demo seed`` on a fresh migrated database; one draft referral is
then sent by the school lead without consent, so an emergency-override reason is on file too.
Then every demo user signs in (POST /login) and GETs their home, every entry of the main menu,
the key pages outside it (tests/i18n_pages.extra_pages: the auditor's searches with results …)
and one detail page linked from each of those pages, and the auditor finds a student by name and
birth date (the test client), so whatever pages write as they are read (audit events with their
details, sign-in records) is on file before the scan.
Every encrypted field is found by walking ``app.db.encrypted_tables()`` and read back through
the models (so the test follows new fields without being told).  On PostgreSQL the file layout
is the server's: the same check runs over a text dump of every table instead.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, text

from app.agencies.models import Referral
from app.agencies.referrals import send_referral
from app.auth.models import Organisation, User
from app.db import encrypted_tables
from app.demo import organisations
from tests.i18n_pages import SKIP_LINK, detail_links, extra_pages, html_segments

#: the override reason the test writes; it must exist only as ciphertext
OVERRIDE_REASON = "아버지의 폭행 흔적이 보여 오늘 바로 상담 연계가 필요함 (raw-scan)"
PASSWORD = "Demo-password-2026"
#: shorter values are skipped: a two-letter code or a one-syllable relation ("모") occurs in any
#: binary file by chance.  Measured in UTF-8 bytes, not characters, so the three-syllable Korean
#: names (9 bytes) that are the main thing to protect are still searched for.
MIN_BYTES = 4


@pytest.fixture
def seeded(app, db):
    """The demo database with one override referral; returns the sent referral's uid."""
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    lead = db.session.execute(select(User).filter_by(login="demo-lead")).scalar_one()
    draft = db.session.execute(select(Referral).filter_by(status="draft").order_by(Referral.id)).scalars().first()
    assert draft is not None and draft.case.school_id == lead.organisation_id
    send_referral(draft, lead, override_reason=OVERRIDE_REASON, override_category="child_abuse")
    db.session.commit()
    return draft.uid


def _menu(html: str) -> list[str]:
    """The links of the page's main menu (the nav #ieum-nav)."""
    nav = re.search(r'<nav[^>]*id="ieum-nav".*?</nav>', html, re.S)
    assert nav, "no main menu on the page"
    return re.findall(r'<a href="([^"]+)"', nav.group(0))


def _one_detail(html: str, seen: set[str], prefer: str) -> str | None:
    """One record's page linked from a list page: one under the list's own path first."""
    found = [path for path in detail_links(html_segments(html)[1]) if path not in seen and not SKIP_LINK.search(path)]
    own = [path for path in found if path.startswith(prefer)]
    return (own or found or [None])[0]


def walk_every_page(app, db) -> dict[str, list[str]]:
    """Every demo user signs in through the form and GETs their home, each menu entry and one
    detail page per list (home included); returns {login: paths opened}.  Every page must open."""
    opened: dict[str, list[str]] = {}
    for login, _name, role, _org in organisations.DEMO_USERS:
        client = app.test_client()
        response = client.post("/login", data={"login": login, "password": PASSWORD}, follow_redirects=True)
        home = response.request.path
        assert response.status_code == 200 and home.startswith("/home/"), (login, response.status_code, home)
        pages, details = {home: response.get_data(as_text=True)}, []
        # the menu, then the key pages a role opens often outside it (tests/i18n_pages.py: the
        # auditor's searches with results, the overdue referrals, the school's statistics …)
        for href in [*_menu(pages[home]), *extra_pages(role)]:
            path = urlsplit(href).path
            if href in pages or path == "/" or SKIP_LINK.search(path):
                continue
            answer = client.get(href, follow_redirects=True)  # 통계 sends each role to its own page
            assert answer.status_code == 200 and answer.request.path != "/login", (login, href, answer.status_code)
            pages[answer.request.full_path.removesuffix("?")] = answer.get_data(as_text=True)
        seen = set(pages)
        for path, html in list(pages.items()):
            detail = _one_detail(html, seen, "/" + urlsplit(path).path.strip("/").split("/")[0] + "/")
            if detail:
                answer = client.get(detail, follow_redirects=True)
                assert answer.status_code == 200 and answer.request.path != "/login", (
                    login, f"{detail} (from {path})", answer.status_code)
                seen.add(detail)
                details.append(detail)
        if role == "auditor":  # 정보주체 찾기: a student found by name and birth date (a POST, audited)
            from app.students.models import Student
            student = db.session.execute(select(Student).order_by(Student.id)).scalars().first()
            answer = client.post("/audit/subject", data={"name": student.name, "birth_date": student.birth_date.isoformat()})
            assert answer.status_code == 200 and student.uid in answer.get_data(as_text=True), answer.status_code
            details.append("POST /audit/subject")
        opened[login] = [*pages, *details]
    return opened


@pytest.fixture
def walked(app, db, seeded):
    """The seeded demo after the walk through every page (see walk_every_page)."""
    opened = walk_every_page(app, db)
    assert set(opened) == {login for login, *_ in organisations.DEMO_USERS}
    # every role saw more than its home, and list pages led to records
    assert all(len(paths) >= 3 for paths in opened.values()), opened
    assert sum(len(paths) for paths in opened.values()) >= 40, opened
    db.session.rollback()  # the requests shared the test's session: read afresh from here on
    return opened


def _leaves(value):
    """The searchable texts inside a decrypted value (JSON documents: their string leaves)."""
    if isinstance(value, dict) and "$msg" in value:  # a stored message: its msgid is the product's words
        yield from _leaves(value["$msg"].get("a", {}))
    elif isinstance(value, dict) and "$date" in value:
        yield value["$date"]
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dt.date):
        yield value.isoformat()
    elif isinstance(value, str):
        yield value
    # numbers and booleans inside JSON are not personal text (and match anything by chance)


def _plain_elsewhere(db) -> set[str]:
    """Texts that are legitimately stored in plain columns, so finding them proves nothing:
    - organisation names: public, and a referral's shared "school and grade" starts with one;
    - login names: plain by design (the sign-in form looks them up);
    - the Korean labels of risk levels, need domains, shared items and override categories
      ("위기", "학습"): product vocabulary copied into a referral's shared items, not
      personal data, and stored as codes or labels in plain columns on purpose."""
    from app.agencies.models import OVERRIDE_CATEGORIES, SHAREABLE_ITEMS
    from app.cases.models import DOMAINS, RISK_LEVELS
    plain = set(db.session.execute(select(Organisation.name)).scalars())
    plain |= set(db.session.execute(select(User.login)).scalars())
    plain |= {str(label) for label in (*SHAREABLE_ITEMS.values(), *OVERRIDE_CATEGORIES.values())}
    plain |= {str(label) for label, _order in RISK_LEVELS.values()}
    plain |= {str(label if not isinstance(label, tuple) else label[0]) for label in DOMAINS.values()}
    return plain


def secrets_of(db) -> dict[str, str]:
    """{text: where it came from} for every decrypted value worth searching for."""
    found: dict[str, str] = {}
    for table in encrypted_tables():
        for obj in db.session.execute(select(table.model)).scalars():
            for field in table.fields:
                for leaf in _leaves(getattr(obj, field.name)):
                    if len(leaf.strip().encode("utf-8")) >= MIN_BYTES:
                        found.setdefault(leaf.strip(), f"{table.name}.{field.column}")
    return found


def _raw_sqlite(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")) if p.is_file())


def _pg_dump(db) -> bytes:
    tables = db.session.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
    return "\n".join(row for name in list(tables) for row in db.session.execute(
        text(f'SELECT row_to_json(t)::text FROM "{name}" t')).scalars()).encode("utf-8")


def _raw(db) -> bytes:
    return _pg_dump(db) if db.engine.dialect.name != "sqlite" else _raw_sqlite(Path(db.engine.url.database))


def _leaks(raw: bytes, secrets: dict[str, str]) -> list[str]:
    return sorted(f"{origin}: {len(secret)} characters" for secret, origin in secrets.items()
                  if secret.encode("utf-8") in raw)  # never the value itself in a failure message


def test_no_encrypted_value_or_override_reason_is_in_plain_text(app, db, seeded, walked):
    from app.audit.models import AuditEvent
    views = set(db.session.execute(select(AuditEvent.action).where(AuditEvent.action.like("%_viewed"))).scalars())
    assert {"home_viewed", "case_viewed"} <= views, views  # the walk's reads are on file too
    secrets = secrets_of(db)
    sent = db.session.execute(select(Referral).filter_by(uid=seeded)).scalar_one()
    assert sent.override_reason == OVERRIDE_REASON and secrets.get(OVERRIDE_REASON) == "referral.override_reason_enc"
    for text_ in _plain_elsewhere(db):
        secrets.pop(text_, None)
    # enough real values to make the scan meaningful: every demo student's name and more
    assert len(secrets) > 100, len(secrets)
    assert {origin.split(".")[0] for origin in secrets.values()} >= {"student", "referral", "user_account"}
    if db.engine.dialect.name != "sqlite":
        dump = _pg_dump(db)
        assert b"demo-school" in dump  # the dump does show plain columns
        assert _leaks(dump, secrets) == []
        return
    path = Path(db.engine.url.database)
    db.session.commit()
    with_wal = _raw_sqlite(path)  # connections still open: the newest pages are in the WAL
    assert (path.parent / (path.name + "-wal")).exists()
    assert b"demo-school" in with_wal  # the scan can see plain columns, so it would see a leak
    assert _leaks(with_wal, secrets) == []
    db.session.remove()
    db.engine.dispose()  # the last connection checkpoints the WAL into the database file
    checkpointed = _raw_sqlite(path)
    assert b"demo-school" in checkpointed
    assert _leaks(checkpointed, secrets) == []


def test_the_scan_finds_a_value_copied_into_a_plain_column(app, db, seeded):
    """Positive control: the same scan does see a student's name written in clear."""
    from app.cases.models import SupportCase
    case = db.session.execute(select(SupportCase).order_by(SupportCase.id)).scalars().first()
    name = case.student.name
    secrets = {name: "student.name_enc"}
    assert _leaks(_raw(db), secrets) == []
    case.school.name = f"{name} 학생의 학교"  # a plain column (names of organisations are public)
    db.session.commit()
    assert _leaks(_raw(db), secrets) == ["student.name_enc: %d characters" % len(name)]
