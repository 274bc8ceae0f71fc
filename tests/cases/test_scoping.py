"""Scope of the student and case screens: each role × each endpoint × own / foreign object.

A school never sees, edits or learns of another school's student or case: a foreign object
answers exactly like a missing one (404), and the attempt is audited.  Roles without these
screens get 403.
"""
from __future__ import annotations

import re

import pytest
from flask import g
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases.models import SupportCase
from app.permissions import ROLES
from app.students.models import Student

from ..factories import DEFAULT_PASSWORD

READERS = {"school_staff", "school_lead", "district_coordinator"}
SCHOOL = {"school_staff", "school_lead"}
OUTSIDERS = sorted(set(ROLES) - READERS)
MISSING_UID = "00000000-0000-4000-8000-000000000000"


def sign_in(app, user):
    """A new client logged in as ``user`` (the app fixture keeps one context, so drop g's user)."""
    g.pop("_login_user", None)
    other = app.test_client()
    response = other.post("/login", data={"login": user.login, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return other


def denials(db, object_type=None):
    query = select(AuditEvent).filter_by(action="permission_denied").order_by(AuditEvent.id)
    if object_type:
        query = query.filter_by(object_type=object_type)
    return list(db.session.execute(query).scalars())


def count(db, model):
    return db.session.scalar(select(func.count(model.id)))


@pytest.fixture
def world(build, db):
    """Two schools in 마포구 (서부) and one in 강남구, each with a case."""
    home, neighbour, far = build.school(), build.school(), build.school(gu="강남구")
    cases = {name: build.case(school) for name, school in (("home", home), ("neighbour", neighbour), ("far", far))}
    return {"home": home, "neighbour": neighbour, "far": far, "cases": cases}


def _user(build, role, world):
    if role in SCHOOL:
        return build.user(role, organisation=world["home"])
    return build.user(role)  # a coordinator of 서부 (마포구), or an organisation of its own kind


def _screens(world):
    """(method, url, data, roles allowed) for every screen of this feature."""
    uid = world["cases"]["home"].student.uid
    return [("get", "/cases/", None, READERS), ("get", "/cases/new", None, SCHOOL),
            ("get", "/students/", None, READERS), ("get", "/students/new", None, SCHOOL),
            ("get", "/students/import", None, SCHOOL), ("get", "/students/import/template.csv", None, SCHOOL),
            ("get", f"/students/{uid}", None, READERS),
            ("post", f"/students/{uid}/edit", {"name": "바뀐이름", "birth_date": "2013-03-02", "grade": 5,
                                              "class_no": 2, "number": 3}, SCHOOL),
            ("post", "/students/new", {"name": "새학생", "birth_date": "2014-01-02", "grade": 4, "class_no": 1,
                                       "number": 1}, SCHOOL),
            ("post", "/cases/new", {"student_mode": "existing", "student": uid, "requested_by": "staff",
                                    "needs": ["welfare"], "desc_welfare": "돌봄 공백", "risk_level": "general",
                                    "add_to_open_case": "y"}, SCHOOL)]


@pytest.mark.parametrize("role", sorted(ROLES))
def test_role_matrix(role, app, build, db, world):
    """Each role on each screen: readers get the page, everyone else a 403 that is audited."""
    client = sign_in(app, _user(build, role, world))
    for method, url, data, allowed in _screens(world):
        before = len(denials(db))
        response = getattr(client, method)(url, data=data)
        if role in allowed:
            assert response.status_code in (200, 302), (role, url, response.status_code)
        else:
            assert response.status_code == 403, (role, url)
            assert len(denials(db)) == before + 1
    # only the home school's team could change or create anything
    db.session.expire_all()
    assert (world["cases"]["home"].student.name == "바뀐이름") == (role in SCHOOL)
    assert count(db, Student) == (4 if role in SCHOOL else 3)
    # the request for a student with an open case joined that case (one open case per student)
    assert count(db, SupportCase) == 3
    needs = {n.domain for n in world["cases"]["home"].needs}
    assert ("welfare" in needs) == (role in SCHOOL)


@pytest.mark.parametrize("role", sorted(SCHOOL))
@pytest.mark.parametrize("target", ["neighbour", "far", "missing"])
def test_foreign_student_and_case_are_not_found(role, target, app, build, db, world):
    """Another school's student: 404 on the page and the edit, audited with the uid it asked for."""
    client = sign_in(app, _user(build, role, world))
    uid = MISSING_UID if target == "missing" else world["cases"][target].student.uid
    name_before = None if target == "missing" else world["cases"][target].student.name
    for response in (client.get(f"/students/{uid}"), client.post(f"/students/{uid}/edit", data={"name": "몰래"})):
        assert response.status_code == 404
        assert name_before is None or name_before not in response.get_data(as_text=True)
    found = denials(db, "student")
    assert [(e.object_id, e.outcome) for e in found] == [(uid, "denied")] * 2
    db.session.expire_all()
    if name_before:
        assert world["cases"][target].student.name == name_before


def test_foreign_and_missing_answer_alike(app, build, db, world):
    """The 404 for another school's student is byte-for-byte the 404 for a student that never existed."""
    client = sign_in(app, _user(build, "school_staff", world))
    uid = world["cases"]["neighbour"].student.uid
    foreign, missing = client.get(f"/students/{uid}"), client.get(f"/students/{MISSING_UID}")
    # the pages differ only in the address they were asked for (the language switch returns there)
    # and in the CSRF tokens, which carry a timestamp and change from one second to the next
    assert foreign.status_code == missing.status_code == 404

    def normalised(response, asked):
        html = response.get_data(as_text=True).replace(asked, "UID")
        return re.sub(r'(name="csrf_token"[^>]*?value=")[^"]*"', r"\1TOKEN\"", html)
    assert normalised(foreign, uid) == normalised(missing, MISSING_UID)


@pytest.mark.parametrize("target", ["neighbour", "far"])
def test_posting_another_schools_student_to_a_request(target, app, build, db, world):
    """Form tampering: a foreign student uid in /cases/new is a 404, audited; nothing is saved."""
    client = sign_in(app, _user(build, "school_staff", world))
    uid = world["cases"][target].student.uid
    before = count(db, SupportCase)
    response = client.post("/cases/new", data={"student_mode": "existing", "student": uid, "requested_by": "staff",
                                               "needs": ["learning"], "desc_learning": "기초학력", "risk_level": "general"})
    assert response.status_code == 404
    assert count(db, SupportCase) == before
    assert [(e.object_type, e.object_id) for e in denials(db)] == [("student", uid)]
    # the same through the duplicate warning's "this student" button and through ?student=
    assert client.post("/cases/new", data={"use_existing": uid}).status_code == 404
    assert client.get(f"/cases/new?student={uid}").status_code == 404
    assert count(db, SupportCase) == before and len(denials(db)) == 3


def test_lists_and_search_stay_in_the_school(app, build, db, world):
    """Lists show only the school's students and cases, and a search by another school's
    student's exact name or NEIS number finds nothing."""
    client = sign_in(app, _user(build, "school_staff", world))
    own, other = world["cases"]["home"].student, world["cases"]["neighbour"].student
    far = world["cases"]["far"]
    cases = client.get("/cases/").get_data(as_text=True)
    assert world["cases"]["home"].uid in cases
    assert world["cases"]["neighbour"].uid not in cases and far.uid not in cases
    students = client.get("/students/").get_data(as_text=True)
    assert own.uid in students and other.uid not in students and far.student.uid not in students
    for q in (other.name, other.neis_number):
        for url in ("/cases/", "/students/", "/cases/new"):
            data = {"q": q, "action": "find"} if url == "/cases/new" else {"q": q}  # the form's 찾기 button
            page = client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
            assert other.uid not in page and world["cases"]["neighbour"].uid not in page
            # the name is only ever in the search box it was typed into and (where the page has one)
            # the "no student named …" line
            assert page.count(other.name) in ((1, 2) if q == other.name else (0,))


def test_district_coordinator_sees_only_the_district(app, build, db, world):
    """A 서부 coordinator sees both 마포구 schools' cases and students, with the school's name,
    but not 강남구's; a 강남구 student's page is a 404 for them."""
    coordinator = build.user("district_coordinator")
    client = sign_in(app, coordinator)
    cases = world["cases"]
    page = client.get("/cases/").get_data(as_text=True)
    assert cases["home"].uid in page and cases["neighbour"].uid in page
    assert world["home"].name in page and world["neighbour"].name in page
    assert cases["far"].uid not in page and world["far"].name not in page
    students = client.get("/students/").get_data(as_text=True)
    assert cases["neighbour"].student.uid in students and cases["far"].student.uid not in students
    assert client.get(f"/students/{cases['neighbour'].student.uid}").status_code == 200
    assert client.get(f"/students/{cases['far'].student.uid}").status_code == 404
    # read-only: no edit form, no request button
    own = client.get(f"/students/{cases['home'].student.uid}").get_data(as_text=True)
    assert "/edit" not in own and "/cases/new" not in own


def test_district_coordinator_cannot_edit_or_create(app, build, db, world):
    client = sign_in(app, build.user("district_coordinator"))
    students = count(db, Student)
    assert client.post(f"/students/{world['cases']['home'].student.uid}/edit", data={"name": "x"}).status_code == 403
    assert client.post("/students/new", data={"name": "새학생"}).status_code == 403
    assert client.post("/cases/new", data={}).status_code == 403
    assert count(db, Student) == students


@pytest.mark.parametrize("url", ["/cases/", "/cases/new", "/students/", "/students/new", f"/students/{MISSING_UID}"])
def test_anonymous_is_sent_to_login(url, client):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["own", "neighbour_staff", "far_coordinator", "coordinator"])
def test_load_case_or_404(who, app, build, db, world):
    """The loader page.py shares: in scope returns the case; anything else aborts 404, audited."""
    from flask_login import login_user
    from werkzeug.exceptions import NotFound

    from app.cases.loaders import load_case_or_404
    case = world["cases"]["home"]
    user = {"own": lambda: build.user("school_lead", organisation=world["home"]),
            "neighbour_staff": lambda: build.user("school_staff", organisation=world["neighbour"]),
            "far_coordinator": lambda: build.user("district_coordinator", organisation=build.organisation(
                "district_office", gu="강남구")),
            "coordinator": lambda: build.user("district_coordinator")}[who]()
    with app.test_request_context():
        login_user(user)
        if who in ("own", "coordinator"):
            assert load_case_or_404(case.uid) is case
            assert denials(db) == []
        else:
            for uid in (case.uid, MISSING_UID, "x" * 200, ""):
                with pytest.raises(NotFound):
                    load_case_or_404(uid)
            assert [(e.object_type, e.object_id, e.actor_id) for e in denials(db)] == [
                ("support_case", uid[:64], user.id) for uid in (case.uid, MISSING_UID, "x" * 200, "")]
