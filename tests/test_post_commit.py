"""After a change is committed, the redirect is built from what the request already holds
(app/transactions.py): no statement runs between the commit and the answer.  Were the database
to go away just then (a PostgreSQL restart), the committed change would otherwise answer 500 and
the user's retry would write it twice."""
from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from app.cases.models import CaseNote, SupportCase
from app.extensions import db
from app.transactions import _READ_KEY, begin_write


@pytest.fixture
def after_commit(app):
    """The SQL statements run after the request's last commit (reset at each commit)."""
    state = {"committed": False, "statements": []}

    def committed(_session):
        state["committed"], state["statements"] = True, []

    def executed(_conn, _cursor, statement, *_args):
        if state["committed"]:
            state["statements"].append(statement.split()[0])

    event.listen(db.session, "after_commit", committed)
    event.listen(db.engine, "before_cursor_execute", executed)
    yield state
    event.remove(db.engine, "before_cursor_execute", executed)
    event.remove(db.session, "after_commit", committed)


@pytest.fixture
def scene(build, login):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school=school, status="screening", lead=lead)
    login(lead)
    return case


@pytest.mark.parametrize("path, data", [
    ("notes", {"note-kind": "counselling", "note-body": "상담함"}),
    ("transition/withdraw_request", {}),
])
def test_the_redirect_after_a_commit_reads_nothing(client, scene, after_commit, path, data):
    if path.startswith("transition"):
        scene.status = "requested"
        db.session.commit()
        path, data = "withdraw-request", {"wr-reason": "학부모 요청으로 철회"}
    after_commit["committed"] = False
    response = client.post(f"/cases/{scene.uid}/{path}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert after_commit["committed"]
    assert after_commit["statements"] == []


def test_a_committed_change_is_answered_even_if_the_database_goes_away(client, scene, app):
    """Every statement after the commit fails as if the server had restarted: the note is saved
    and the user still gets the redirect, not a 500 that invites a second note."""
    down = {"now": False}

    def committed(_session):
        down["now"] = True

    def refuse(_conn, _cursor, statement, *_args):
        if down["now"]:
            raise OperationalError(statement, {}, Exception("server closed the connection unexpectedly"))

    event.listen(db.session, "after_commit", committed)
    event.listen(db.engine, "before_cursor_execute", refuse)
    try:
        response = client.post(f"/cases/{scene.uid}/notes", data={"note-kind": "counselling", "note-body": "상담함"})
    finally:
        event.remove(db.engine, "before_cursor_execute", refuse)
        event.remove(db.session, "after_commit", committed)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{scene.uid}")
    db.session.rollback()
    assert db.session.execute(select(func.count(CaseNote.id))).scalar_one() == 1


def test_begin_write_reads_again_what_the_read_phase_saw(app, scene):
    """The read phase's commit no longer expires objects in a POST: begin_write must, or a
    decision would be taken on what another user has changed meanwhile."""
    case_id = scene.id
    db.session.rollback()  # the fixtures' write transaction ends; the request reads deferred
    with app.test_request_context("/", method="POST"):
        app.preprocess_request()
        g.setdefault(_READ_KEY, True)  # as a read_first view: it reads deferred until begin_write
        case = db.session.get(SupportCase, case_id)
        assert case.status == "screening"
        with db.engine.begin() as other:  # another user, another connection
            other.execute(SupportCase.__table__.update().where(SupportCase.id == case_id).values(status="selected"))
        begin_write()
        assert case.status == "selected"
        db.session.rollback()
