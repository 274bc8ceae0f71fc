"""Coordinator matching pages: suggestions, propose, batch and confirm; denials are audited."""
from __future__ import annotations

import pytest
from sqlalchemy import select

import app.guardians.match_views  # noqa: F401  (routes registered before the first app)
from app.audit.models import AuditEvent
from app.guardians.models import Assignment


@pytest.fixture
def case(build):
    return build.case(build.school(), status="in_support")


def actions(db, outcome="allowed"):
    return db.session.execute(select(AuditEvent.action).where(AuditEvent.outcome == outcome)).scalars().all()


def test_suggestions_page_and_propose(db, client, login, case, coordinator, eligible_guardian):
    guardian = eligible_guardian()
    login(coordinator)
    page = client.get(f"/guardians/match/{case.uid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert guardian.uid in html and 'data-part="same_gu"' in html
    event = db.session.execute(select(AuditEvent).filter_by(action="guardian_suggestions_viewed")).scalar_one()
    assert event.subject_ref == case.student.uid
    done = client.post(f"/guardians/match/{case.uid}/propose", data={"guardian": guardian.uid})
    assert done.status_code == 302
    assignment = db.session.execute(select(Assignment)).scalar_one()
    assert (assignment.guardian_id, assignment.status) == (guardian.id, "proposed") and assignment.score > 0
    again = client.post(f"/guardians/match/{case.uid}/propose", data={"guardian": guardian.uid})
    assert again.status_code == 400 and "이미" in again.get_data(as_text=True)
    assert len(db.session.execute(select(Assignment)).all()) == 1


def test_batch_page_and_confirm(db, client, login, case, coordinator, eligible_guardian):
    guardian = eligible_guardian()
    login(coordinator)
    page = client.get("/guardians/match/batch")
    assert page.status_code == 200 and case.uid in page.get_data(as_text=True)
    assert "guardian_batch_viewed" in actions(db)
    assert client.post("/guardians/match/batch", data={}).status_code == 302  # nothing selected: nothing made
    assert db.session.execute(select(Assignment)).first() is None
    assert client.post("/guardians/match/batch", data={"case": case.uid}).status_code == 302
    assignment = db.session.execute(select(Assignment)).scalar_one()
    assert (assignment.case_id, assignment.guardian_id) == (case.id, guardian.id)


@pytest.mark.parametrize("role", ["school_lead", "school_staff", "guardian", "auditor", "admin",
                                  "foreign_coordinator"])
@pytest.mark.parametrize("endpoint", ["suggestions", "propose", "batch", "confirm_batch"])
def test_denied(db, build, client, login, case, eligible_guardian, role, endpoint):
    guardian = eligible_guardian()
    if role == "foreign_coordinator":
        user = build.user("district_coordinator", organisation=build.organisation("district_office", "강남구"))
    elif role.startswith("school"):
        user = build.user(role, organisation=case.school)
    else:
        user = build.user(role)
    login(user)
    method, url = {"suggestions": ("get", f"/guardians/match/{case.uid}"),
                   "propose": ("post", f"/guardians/match/{case.uid}/propose"),
                   "batch": ("get", "/guardians/match/batch"),
                   "confirm_batch": ("post", "/guardians/match/batch")}[endpoint]
    response = getattr(client, method)(url, data={"guardian": guardian.uid, "all": "1"} if method == "post" else None)
    if role == "foreign_coordinator" and endpoint in ("batch", "confirm_batch"):
        assert response.status_code in (200, 302)  # their own office's batch: this case is not in it
    else:
        assert response.status_code in (403, 404)
        assert "permission_denied" in actions(db, "denied")
    assert db.session.execute(select(Assignment)).first() is None
